#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS each (one at a time, one core each)
# under AddressSanitizer + UBSan, building the "asan" preset first when needed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default 60 s, every target
#   scripts/fuzz.sh --no-build 30 msd          use build-asan/ as it is
#
# Per target it keeps a growing corpus in build-asan/fuzz/corpus/<target>/ (seeded from
# tests/fuzz/seeds/<target>/ and from the fixtures by meswitch_fuzz_make_seeds), writes any
# crashing, leaking or timing-out input to build-asan/fuzz/crashes/<target>/ and the log to
# build-asan/fuzz/logs/<target>.log, and prints executions, seconds and coverage (libFuzzer's
# final cov: and ft:). Exits 1 when any target found a crash, a leak or a timeout.
# A crash input belongs in tests/fuzz/regressions/<target>/ once understood (see the README).
#
# Environment: MESWITCH_FUZZ_BUILD (build folder, default build-asan), JOBS (build jobs,
# default nproc), MESWITCH_BUILD_LOCK (a file to flock around the build, for shared
# machines), FUZZ_TIMEOUT (seconds one input may take, default 20), FUZZ_RUNS (stop each
# target after this many executions instead of SECONDS), MESWITCH_FIXTURES.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${MESWITCH_FUZZ_BUILD:-build-asan}
JOBS=${JOBS:-$(nproc)}
BUILD_FIRST=1
SECONDS_EACH=60
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD_FIRST=0 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *[!0-9]*) TARGETS+=("$arg") ;;
    *) SECONDS_EACH=$arg ;;
  esac
done
ALL_TARGETS=(safetensors msd model_config tokenizer_json tokenizer_encode chat_template checkpoint_index api_request)
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

if [ "$BUILD_FIRST" = 1 ]; then
  LOCK=()
  [ -n "${MESWITCH_BUILD_LOCK:-}" ] && LOCK=(flock "$MESWITCH_BUILD_LOCK")
  [ -f "$BUILD/CMakeCache.txt" ] || cmake --preset asan
  "${LOCK[@]}" cmake --build "$BUILD" -j "$JOBS" --target meswitch_fuzz
fi

FIXTURES=${MESWITCH_FIXTURES:-$SRC/../shared/fixtures}
OUT=$BUILD/fuzz
mkdir -p "$OUT/logs"
tests/fuzz/make_seeds.sh "$BUILD" "$FIXTURES"

# Scratch files the targets write each input to: tmpfs when there is one.
SCRATCH_BASE=/dev/shm
[ -d "$SCRATCH_BASE" ] && [ -w "$SCRATCH_BASE" ] || SCRATCH_BASE=${TMPDIR:-/tmp}
MESWITCH_FUZZ_TMP=$(mktemp -d "$SCRATCH_BASE/meswitch-fuzz.XXXXXX")
export MESWITCH_FUZZ_TMP MESWITCH_FIXTURES=$FIXTURES
trap 'rm -rf "$MESWITCH_FUZZ_TMP"' EXIT
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if [ -x /usr/bin/llvm-symbolizer ]; then export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer; fi

LIMIT=(-max_total_time="$SECONDS_EACH")
[ -n "${FUZZ_RUNS:-}" ] && LIMIT=(-runs="$FUZZ_RUNS")

RESULTS=()
FAILED=()
for t in "${TARGETS[@]}"; do
  bin=$BUILD/tests/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: no target $bin (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
  corpus=$OUT/corpus/$t
  crashes=$OUT/crashes/$t
  log=$OUT/logs/$t.log
  mkdir -p "$corpus" "$crashes"
  dirs=("$corpus" "$SRC/tests/fuzz/seeds/$t")
  [ -d "$OUT/seeds/$t" ] && dirs+=("$OUT/seeds/$t")
  dict=()
  [ -f "$SRC/tests/fuzz/dicts/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/dicts/$t.dict")
  echo "== fuzz_$t: ${LIMIT[*]}, corpus $corpus"
  start=$(date +%s.%N)
  rc=0
  "$bin" "${LIMIT[@]}" -print_final_stats=1 -timeout="${FUZZ_TIMEOUT:-20}" -rss_limit_mb=2560 \
    -artifact_prefix="$crashes/" "${dict[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  covline=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$covline")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$covline")
  corp=$(find "$corpus" -type f | wc -l)
  status=ok
  found=$(find "$crashes" -type f -newermt "@${start%.*}" | sort)
  if [ "$rc" != 0 ] || [ -n "$found" ]; then
    status="FAILED (exit $rc)"
    FAILED+=("$t")
    echo "fuzz_$t: exit $rc; log $log"
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:|fuzz invariant failed' "$log" | head -n 5 || true
    for f in $found; do echo "fuzz_$t: input saved to $f"; done
  fi
  RESULTS+=("$(printf '%-18s %12s %8s %9s %6s %7s %7s  %s' "$t" "${execs:-?}" "$secs" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$status")")
done

echo "== Fuzzing summary (${LIMIT[*]} per target; crashes under $OUT/crashes/)"
printf '%-18s %12s %8s %9s %6s %7s %7s  %s\n' target executions seconds exec/s cov ft corpus result
printf '%s\n' "${RESULTS[@]}"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "fuzz: crash, leak or timeout in: ${FAILED[*]}"
  exit 1
fi
