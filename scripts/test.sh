#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and runs the whole test suite:
# first the engine and CLI tests under AddressSanitizer + UBSan, then every test of the
# normal build (CUDA kernels compiled when nvcc is present; GPU tests skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

bash packaging/install-deps.sh

echo "== AddressSanitizer + UBSan build (engine and CLI tests)"
cmake --preset asan
cmake --build --preset asan -j "$JOBS"
ctest --preset asan -j "$JOBS"

echo "== Full build and test suite"
cmake --preset default
cmake --build --preset default -j "$JOBS"
ctest --preset default -j "$JOBS"
