#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and runs the whole test suite: every
# test of the normal build (CUDA kernels compiled when nvcc is present; GPU tests skip without a
# GPU), then builds the installer packages from that build and checks the .deb
# (packaging/check-deb.sh).
#
#   scripts/test.sh           the whole suite (what CI runs)
#   scripts/test.sh --asan    first the engine and CLI tests under AddressSanitizer + UBSan
#                             (build-asan/, a second full engine build at -O0: about 30 more
#                             minutes on 2 cores, so CI leaves it out)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
ASAN=0
for arg in "$@"; do
  case "$arg" in
    --asan) ASAN=1 ;;
    *) echo "usage: scripts/test.sh [--asan]" >&2; exit 2 ;;
  esac
done

bash packaging/install-deps.sh

SUMMARIES=()
if [ "$ASAN" = 1 ]; then
  echo "== AddressSanitizer + UBSan build (engine and CLI tests)"
  cmake --preset asan
  cmake --build --preset asan -j "$JOBS"
  ctest --preset asan -j "$JOBS" 2>&1 | tee build-asan/ctest.log
  SUMMARIES+=(build-asan/ctest.log)
fi

echo "== Full build and test suite"
cmake --preset default
cmake --build --preset default -j "$JOBS"
ctest --preset default -j "$JOBS" 2>&1 | tee build/ctest.log

echo "== Packages: .deb, .rpm, .tar.gz from build/, the .deb checked by installing it"
bash packaging/check-deb.sh build

SUMMARIES+=(build/ctest.log)
echo "== Test suite summary (ctest)"
grep -E '^[0-9]+% tests passed' "${SUMMARIES[@]}"
