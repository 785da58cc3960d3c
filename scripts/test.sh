#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and runs the whole test suite:
# first the engine and CLI tests under AddressSanitizer + UBSan, then every test of the
# normal build (CUDA kernels compiled when nvcc is present; GPU tests skip without a GPU), then
# builds the installer packages from that build and checks the .deb (packaging/check-deb.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

bash packaging/install-deps.sh

echo "== AddressSanitizer + UBSan build (engine and CLI tests)"
cmake --preset asan
cmake --build --preset asan -j "$JOBS"
ctest --preset asan -j "$JOBS" 2>&1 | tee build-asan/ctest.log

echo "== Full build and test suite"
cmake --preset default
cmake --build --preset default -j "$JOBS"
ctest --preset default -j "$JOBS" 2>&1 | tee build/ctest.log

echo "== Packages: .deb, .rpm, .tar.gz from build/, the .deb checked by installing it"
bash packaging/check-deb.sh build

echo "== Test suite summary (ctest: AddressSanitizer build, then full build)"
grep -E '^[0-9]+% tests passed' build-asan/ctest.log build/ctest.log
