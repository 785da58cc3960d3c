#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and runs the whole test suite (what CI
# runs, in this order):
#   1. the normal build and every test (CUDA kernels compiled when nvcc is present; GPU tests
#      skip without a GPU), then the installer packages from that build and the .deb check
#      (packaging/check-deb.sh);
#   2. the sanitizer build (preset "asan": clang, AddressSanitizer + UBSan, -O1, build-asan/):
#      the engine tests listed in ASAN_TESTS below, the fuzz regression cases
#      (tests/fuzz/regressions/) and each fuzz target's committed seeds;
#   3. every libFuzzer target for FUZZ_SECONDS (default 30) seconds (scripts/fuzz.sh).
# Then the per-stage times and ctest's summary lines. Exits 1 when any stage failed (later
# stages still run, so that one report shows everything).
#
#   scripts/test.sh                   the whole suite (what CI runs)
#   scripts/test.sh --no-sanitize     stage 1 only
#   scripts/test.sh --sanitize-only   stages 2 and 3 only
#   FUZZ_SECONDS=0 scripts/test.sh    skip stage 3
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
# MESWITCH_BUILD_LOCK: a file to flock around each build (machines shared by several builders).
LOCK=()
[ -n "${MESWITCH_BUILD_LOCK:-}" ] && LOCK=(flock "$MESWITCH_BUILD_LOCK")
SANITIZE=1
NORMAL=1
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) SANITIZE=0 ;;
    --sanitize-only) NORMAL=0 ;;
    --asan) ;;  # the sanitizer stage always runs now; kept so old command lines still work
    *) echo "usage: scripts/test.sh [--no-sanitize | --sanitize-only]" >&2; exit 2 ;;
  esac
done

# Engine tests run under ASan + UBSan: the format readers, strict inputs, catalog, chat (and its
# limits), tokenizer, import, model and serving paths, the API server (wire format, endpoints and
# errors, slow and vanishing clients, the 64-client load: 6 + 9 s under ASan). Left out:
# test_delta_acceptance and test_moe_acceptance (they compress and evaluate real experts many times:
# minutes at -O1 under ASan, and the pipeline and MoE tests below cover the same code),
# test_crash_consistency (SIGKILLs hundreds of import/compress workers: past Qt Test's 300 s limit
# under ASan), test_cli and test_route_cli (the CLI's own behaviour, covered by the normal build),
# the GUI tests and test_catalog_concurrency (no app in this build) and the GPU tests (no CUDA).
ASAN_TESTS=(
  test_tensor test_safetensors test_safetensors_hostile test_tiny_model test_strict_inputs
  test_catalog test_chat_template test_chat_template_limits test_tokenizer test_import
  test_model_config test_cpu_ops test_sampling test_model test_generate
  test_delta_core test_delta_product test_delta_pipeline test_router_classifier test_router
  test_expert_pool test_engine test_batching test_mixtral test_moe test_moe_chat
  test_demo_install test_api_protocol test_api_server test_api_server_load
)

STATUS=0
TIMES=()
SUMMARIES=()
stage_start() { STAGE_NAME=$1; STAGE_T0=$SECONDS; echo "== $1"; }
stage_end() { TIMES+=("$(printf '%-52s %4d s' "$STAGE_NAME" $((SECONDS - STAGE_T0)))"); }

stage_start "Dependencies"
bash packaging/install-deps.sh
stage_end

if [ "$NORMAL" = 1 ]; then
  stage_start "Full build"
  cmake --preset default
  "${LOCK[@]}" cmake --build --preset default -j "$JOBS"
  stage_end
  stage_start "Full test suite (ctest)"
  ctest --preset default -j "$JOBS" 2>&1 | tee build/ctest.log || STATUS=1
  SUMMARIES+=(build/ctest.log)
  stage_end

  stage_start "Packages: .deb, .rpm, .tar.gz from build/, the .deb checked by installing it"
  bash packaging/check-deb.sh build || STATUS=1
  stage_end
fi

if [ "$SANITIZE" = 1 ]; then
  stage_start "Sanitizer build (clang, ASan + UBSan, -O1): fuzz targets, engine tests"
  cmake --preset asan
  # Only the listed tests that exist in this tree (Ninja knows the targets).
  mapfile -t KNOWN < <(ninja -C build-asan -t targets all | sed -n 's/^\(test_[A-Za-z0-9_]*\): .*/\1/p')
  BUILD_TESTS=()
  for t in "${ASAN_TESTS[@]}"; do
    if printf '%s\n' "${KNOWN[@]}" | grep -qx "$t"; then BUILD_TESTS+=("$t"); fi
  done
  "${LOCK[@]}" cmake --build --preset asan -j "$JOBS" --target meswitch_fuzz "${BUILD_TESTS[@]}"
  stage_end

  stage_start "Sanitizer tests: engine subset, fuzz regressions and seeds (ctest)"
  REGEX="^($(IFS='|'; echo "${BUILD_TESTS[*]}"))\$|^fuzz_(regression|seeds)\\."
  ctest --preset asan -j "$JOBS" -R "$REGEX" 2>&1 | tee build-asan/ctest.log || STATUS=1
  SUMMARIES+=(build-asan/ctest.log)
  stage_end

  if [ "$FUZZ_SECONDS" -gt 0 ]; then
    stage_start "Fuzzing: every target for $FUZZ_SECONDS s (scripts/fuzz.sh)"
    scripts/fuzz.sh --no-build "$FUZZ_SECONDS" 2>&1 | tee build-asan/fuzz.log || STATUS=1
    stage_end
  fi
fi

echo "== Stage times"
printf '%s\n' "${TIMES[@]}"
if [ -f build-asan/fuzz.log ] && [ "$SANITIZE" = 1 ] && [ "$FUZZ_SECONDS" -gt 0 ]; then
  sed -n '/^== Fuzzing summary/,$p' build-asan/fuzz.log
fi
echo "== Test suite summary (ctest)"
[ "${#SUMMARIES[@]}" -eq 0 ] || grep -E '^[0-9]+% tests passed' "${SUMMARIES[@]}" || true
exit "$STATUS"
