#!/usr/bin/env bash
# Installs everything ME-Switch Studio needs to build and test on Debian 12 / Ubuntu
# (clang, its sanitizer/libFuzzer runtimes and llvm-symbolizer: the "asan" preset and
# scripts/fuzz.sh; nodejs, npm and curl: test_api_clients, which checks `meswitch serve` with
# the official OpenAI Node library and curl).
# Idempotent: packages already present are skipped by apt. Runs `apt-get update` once.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-charts-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev libqt6opengl6-dev
  libgl-dev
  libspdlog-dev libfmt-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev libxxhash-dev libcpp-httplib-dev
  libopenblas-dev libhwy-dev libpcre2-dev libbenchmark-dev
  xvfb xauth fonts-wqy-microhei
  lintian appstream desktop-file-utils dpkg-dev file rpm
  clang llvm libclang-rt-14-dev libfuzzer-14-dev
  nodejs npm curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  # A Node.js from elsewhere (NodeSource's nodejs bundles npm and conflicts with Debian's npm)
  # counts when its commands run.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all build dependencies are already installed"
fi

# CUDA toolkit detection: it is not a Debian package we install; say plainly what happens.
NVCC=""
if command -v nvcc >/dev/null 2>&1; then NVCC=$(command -v nvcc)
elif [ -x /usr/local/cuda/bin/nvcc ]; then NVCC=/usr/local/cuda/bin/nvcc
fi
if [ -n "$NVCC" ]; then
  echo "install-deps: CUDA toolkit found at $NVCC ($("$NVCC" --version | tail -n 2 | head -n 1))"
  echo "install-deps: the GPU path (CUDA kernels + cuBLAS) will be built."
else
  echo "install-deps: no CUDA toolkit found (nvcc not on PATH nor in /usr/local/cuda/bin)."
  echo "install-deps: building the CPU path only. To get the GPU path, install the NVIDIA"
  echo "install-deps: CUDA Toolkit (12 or newer, with cuBLAS) so that /usr/local/cuda/bin/nvcc"
  echo "install-deps: exists, then rebuild (or pass -DMESWITCH_CUDA=ON to require it)."
fi
