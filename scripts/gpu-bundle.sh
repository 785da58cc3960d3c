#!/usr/bin/env bash
# Builds the GPU bundle: the CUDA configuration for sm_90 (H100/H200) only, no Studio, with the
# meswitch CLI and every GPU test (ctest label "gpu"), packed with the shared libraries they
# need (all but the C runtime and the NVIDIA driver; cuBLAS is found on the target by the
# runner), the fixtures the GPU tests read and the runner (scripts/gpu-bundle/run.sh), into
# one ignored folder and one .tar.xz of at most 64 MiB. See docs/gpu-bundle.md.
#
# usage: scripts/gpu-bundle.sh [options]
#   --build-dir DIR   the build folder (default build-gpu; configured with
#                     -DCMAKE_CUDA_ARCHITECTURES=90 -DMESWITCH_BUILD_APP=OFF)
#   --no-build        pack what DIR holds, without configuring or building
#   --fixtures DIR    the shared fixtures (default ../shared/fixtures beside the checkout)
#   --jobs N          build jobs (default 2)
#   --try [DIR]       then unpack the archive into DIR (default /tmp/gpu-bundle-try) and run
#                     its runner there with nothing but the bundle on LD_LIBRARY_PATH
# environment: MESWITCH_BUILD_LOCK=FILE (default /tmp/meswitch-build.lock) is flock'ed around
# the build and the compression, so that builders sharing this machine take turns.
#
# Output: DIR/bundle/meswitch-gpu/ (bin/, lib/, fixtures/, run.sh, MANIFEST.txt) and
# DIR/meswitch-gpu.tar.xz, the file to carry to the GPU machine. Exits 1 when a check fails:
# a binary resolving a library outside the bundle (other than the C runtime, the driver and
# cuBLAS), or an archive over 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

usage() { sed -n '8,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
BUILD=build-gpu BUILD_IT=1 FIXTURES=$ROOT/../shared/fixtures JOBS=2 TRY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --fixtures) FIXTURES=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --try)
      TRY=/tmp/gpu-bundle-try
      if [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; then TRY=$2; shift; fi
      shift ;;
    -h | --help) usage 0 ;;
    *) echo "gpu-bundle.sh: unknown option $1" >&2; usage 2 ;;
  esac
done
die() { echo "gpu-bundle.sh: $*" >&2; exit 1; }
LOCK=(flock "${MESWITCH_BUILD_LOCK:-/tmp/meswitch-build.lock}")
LIMIT=$((64 * 1024 * 1024))

# --- configure and build --------------------------------------------------------------------
# RelWithDebInfo as the default preset, without -g (the bundle strips it anyway; a smaller,
# faster build).
if [ "$BUILD_IT" = 1 ]; then
  "${LOCK[@]}" cmake -S . -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
    -DCMAKE_CUDA_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG" \
    -DMESWITCH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DMESWITCH_BUILD_APP=OFF -DMESWITCH_BUILD_TESTS=ON >/dev/null
fi
[ -f "$BUILD/CMakeCache.txt" ] || die "$BUILD is not a configured build folder"
ARCHS=$(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
[ -n "$ARCHS" ] || die "$BUILD has no CUDA (configure with -DMESWITCH_CUDA=ON)"

# The GPU tests: ctest's label "gpu" (tests/kernels), and any test named *cuda*.
mapfile -t TESTS < <(
  { ctest --test-dir "$BUILD" -N -L gpu; ctest --test-dir "$BUILD" -N -R cuda; } 2>/dev/null |
    sed -n 's/^ *Test *#[0-9]*: *//p' | sort -u)
[ ${#TESTS[@]} -gt 0 ] || die "no GPU tests in $BUILD (ctest -L gpu lists none)"
echo "GPU tests: ${TESTS[*]}"
if [ "$BUILD_IT" = 1 ]; then
  "${LOCK[@]}" cmake --build "$BUILD" -j "$JOBS" --target meswitch "${TESTS[@]}"
fi

# --- assemble -------------------------------------------------------------------------------
STAGE=$BUILD/bundle
B=$STAGE/meswitch-gpu
rm -rf "$STAGE"
mkdir -p "$B/bin" "$B/lib" "$B/fixtures"
BINARIES=("$BUILD/app/cli/meswitch")
for t in "${TESTS[@]}"; do
  f=$(find "$BUILD/tests" -type f -name "$t" -perm -u+x | head -n 1)
  [ -n "$f" ] || die "test binary $t not found under $BUILD/tests (build it)"
  BINARIES+=("$f")
done
for f in "${BINARIES[@]}"; do
  [ -x "$f" ] || die "$f missing (build it)"
  strip --strip-unneeded -o "$B/bin/$(basename "$f")" "$f"
done

# Libraries that stay behind: the C runtime (glibc's parts) and the NVIDIA driver, which the
# target has in its own version; cuBLAS (hundreds of MB) the runner finds there.
stays() {
  case $1 in
    linux-vdso.so* | ld-linux*.so* | libc.so* | libm.so* | libpthread.so* | libdl.so* | \
      librt.so* | libutil.so* | libresolv.so* | libanl.so* | libmvec.so* | \
      libcuda.so* | libnvidia-*.so* | libcublas.so* | libcublasLt.so*) return 0 ;;
  esac
  return 1
}
# Every library ldd lists (the transitive closure) that does not stay behind.
for f in "$B"/bin/*; do
  ldd "$f" | awk '/=> \// { print $1, $3 }'
done | sort -u | while read -r name path; do
  stays "$name" || cp -L "$path" "$B/lib/$name"
done
chmod 0644 "$B"/lib/*
# The C++ runtime (Debian 12's, GCC 12) in a folder of its own: the runner takes it unless the
# target's glibc is older than it needs, and then uses the target's own libstdc++.
mkdir -p "$B/lib/cxx"
for f in libstdc++.so.6 libgcc_s.so.1; do
  [ -e "$B/lib/$f" ] && mv "$B/lib/$f" "$B/lib/cxx/"
done

# The fixtures the GPU tests read (tests/kernels: stories260K-hf, tiny-mixtral/base) and the
# tiny-mixtral family for bench serve --moe (base + variants; its eval text is left out).
[ -d "$FIXTURES/stories260K-hf" ] || die "no fixtures at $FIXTURES (pass --fixtures DIR)"
cp -r "$FIXTURES/stories260K-hf" "$B/fixtures/"
mkdir -p "$B/fixtures/tiny-mixtral"
for d in "$FIXTURES"/tiny-mixtral/*/; do
  [ "$(basename "$d")" = eval ] || cp -r "$d" "$B/fixtures/tiny-mixtral/"
done
cp "$FIXTURES/tiny-mixtral/README.md" "$B/fixtures/tiny-mixtral/" 2>/dev/null || true
chmod -R u+w "$B/fixtures"
install -m 0755 scripts/gpu-bundle/run.sh "$B/run.sh"

# --- checks ---------------------------------------------------------------------------------
# Each binary, with only the bundle's lib/ on the path, must resolve every library inside the
# bundle, except those that stay behind.
BAD=0
for f in "$B"/bin/* "$B"/lib/*.so* "$B"/lib/cxx/*; do
  while read -r name path; do
    stays "$name" && continue
    case $path in
      "$B"/lib/*) ;;
      *) echo "check: $(basename "$f") resolves $name to $path, outside the bundle" >&2; BAD=1 ;;
    esac
  done < <(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$B/lib:$B/lib/cxx" ldd "$f" |
    awk '/=>/ { print $1, ($3 == "not" ? "not-found" : $3) }')
done
[ "$BAD" = 0 ] || die "the bundle is not self-contained (see above)"
# The newest glibc symbol version the files need (the target's glibc must be as new), without
# and with the C++ runtime.
glibc_need() {
  local f
  for f in "$@"; do objdump -T "$f" 2>/dev/null; done |
    grep -o 'GLIBC_[0-9.]*' | sed 's/^GLIBC_//' | sort -u -V | tail -n 1
}
GLIBC_NEED=$(glibc_need "$B"/bin/* "$B"/lib/*.so*)
CXX_GLIBC_NEED=$(glibc_need "$B"/lib/cxx/*)

COMMIT=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- . 2>/dev/null || COMMIT="$COMMIT (with uncommitted changes)"
NVCC=$(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
# The cuBLAS soname the binaries open at their first cuBLAS call (cmake/cublas_dlopen.cpp).
CUBLAS_SO=$(grep -ao -m 1 'libcublas\.so\.[0-9]*' "$B/bin/meswitch" | head -n 1 || true)
[ -n "$CUBLAS_SO" ] || die "no libcublas soname in $B/bin/meswitch (not a CUDA build?)"
{
  echo "meswitch GPU bundle"
  echo "commit: $COMMIT"
  echo "built: $(date -u '+%Y-%m-%d %H:%M UTC') on $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"
  echo "nvcc: $("$NVCC" --version | sed -n 's/.*\(release .*\)/\1/p')"
  echo "cuda_architectures: $ARCHS"
  echo "cublas_soversion: ${CUBLAS_SO##*.so.}"
  echo "cxx_needs_glibc: $CXX_GLIBC_NEED"
  echo "needs: glibc >= $GLIBC_NEED (>= $CXX_GLIBC_NEED for lib/cxx, else the target's libstdc++), an NVIDIA driver (libcuda) for CUDA $("$NVCC" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p') or newer, $CUBLAS_SO"
  echo "gpu_tests: ${TESTS[*]}"
  echo "files:"
  (cd "$B" && find . -type f ! -name MANIFEST.txt -printf '%s %p\n' | sort -k 2)
} >"$B/MANIFEST.txt"

# --- pack -----------------------------------------------------------------------------------
ARCHIVE=$BUILD/meswitch-gpu.tar.xz
echo "packing $ARCHIVE (xz -9, $JOBS threads)"
"${LOCK[@]}" tar -C "$STAGE" --owner=0 --group=0 -cf - meswitch-gpu |
  xz -T "$JOBS" -9 >"$ARCHIVE.part"
mv "$ARCHIVE.part" "$ARCHIVE"
RAW=$(du -sb "$B" | cut -f 1)
SIZE=$(stat -c %s "$ARCHIVE")
# What travels to the device machine besides: the tracked and untracked-not-ignored files.
TREE=$(git ls-files -z -c -o --exclude-standard | xargs -0 stat -c %s 2>/dev/null |
  awk '{ s += $1 } END { print s + 0 }')
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
dir_mib() { mib "$(du -sb "$1" | cut -f 1)"; }
echo
echo "bundle: $B: $(mib "$RAW") unpacked (bin $(dir_mib "$B/bin"), lib $(dir_mib "$B/lib"), fixtures $(dir_mib "$B/fixtures"))"
echo "archive: $ARCHIVE: $(mib "$SIZE") (limit 64 MiB); with the working tree that travels beside it ($(mib "$TREE")): $(mib $((SIZE + TREE)))"
echo "needs on the target: glibc >= $GLIBC_NEED ($CXX_GLIBC_NEED for the bundled libstdc++), libcuda (the driver), $CUBLAS_SO (found by run.sh)"
echo "device tool: carry [\"$ARCHIVE\"], command:"
echo "  tar -xJf $ARCHIVE -C /tmp && /tmp/meswitch-gpu/run.sh \"\$OUT\""
[ "$SIZE" -le "$LIMIT" ] || die "the archive is over 64 MiB"
[ $((SIZE + TREE)) -le "$LIMIT" ] ||
  echo "warning: archive + working tree are over the 64 MiB the device tool sends" >&2

# --- try it ---------------------------------------------------------------------------------
if [ -n "$TRY" ]; then
  rm -rf "$TRY"
  mkdir -p "$TRY"
  tar -xJf "$ARCHIVE" -C "$TRY"
  echo
  echo "trying the runner in $TRY with LD_LIBRARY_PATH empty"
  rc=0
  "${LOCK[@]}" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$TRY" TMPDIR=/tmp \
    "$TRY/meswitch-gpu/run.sh" "$TRY/out" || rc=$?
  echo "runner exit status $rc; its files: $(find "$TRY/out" -maxdepth 1 -type f -printf '%f ')"
fi
