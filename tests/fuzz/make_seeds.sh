#!/usr/bin/env bash
# Writes the generated seed corpora of the fuzz targets from the shared fixtures:
#   tests/fuzz/make_seeds.sh [BUILD_DIR] [FIXTURES_DIR]   (defaults build-asan, ../shared/fixtures)
# into BUILD_DIR/fuzz/seeds/<target>/, with BUILD_DIR/tests/fuzz/meswitch_fuzz_make_seeds (it
# uses the engine's own writers, so the .msd and safetensors seeds are valid by construction).
# scripts/fuzz.sh runs this itself before fuzzing.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-asan}
FIXTURES=${2:-${MESWITCH_FIXTURES:-../shared/fixtures}}
rm -rf "$BUILD/fuzz/seeds"
if [ -d "$FIXTURES" ]; then
  "$BUILD/tests/fuzz/meswitch_fuzz_make_seeds" "$BUILD/fuzz/seeds" "$(pwd)" "$FIXTURES"
else
  echo "make_seeds: no fixtures at $FIXTURES: synthetic seeds only" >&2
  "$BUILD/tests/fuzz/meswitch_fuzz_make_seeds" "$BUILD/fuzz/seeds" "$(pwd)"
fi
