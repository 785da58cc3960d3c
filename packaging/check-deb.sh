#!/usr/bin/env bash
# Builds the installer packages from an already-built tree and checks the .deb end to end:
#   1. desktop-file-validate on the .desktop entry, appstreamcli validate on the metainfo;
#   2. cpack: .deb, .tar.gz and (when rpmbuild exists) .rpm, into BUILD/packages;
#   3. lintian on the .deb: no errors;
#   4. no installed binary needs libcudart, libcublas or libcuda (they must stay optional);
#   5. `apt-get install ./meswitch-studio_*.deb` on this machine, then from the installed files:
#      meswitch --version, meswitch info --json, an offscreen start of meswitch-studio (SIGTERM
#      after a few seconds, exit status 0), with HOME in a temporary folder; checks that nothing
#      was written into the installed tree;
#   6. `apt-get purge meswitch-studio`: every installed file is gone.
#   7. the .tar.gz runs from wherever it is unpacked (meswitch --version).
#
# Usage: packaging/check-deb.sh [BUILD_DIR]   (default: build, the tree scripts/test.sh builds)
#
# Step 5 installs into this machine itself (CI runs on a throwaway root). A debootstrap chroot
# would need a Debian mirror, which CI may not reach; apt here resolves the dependencies from
# what install-deps.sh installed. If meswitch-studio was installed before, it is purged first.
# Needs root or sudo, lintian, appstream, desktop-file-utils, dpkg-dev, file (install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=$(cd "${1:-build}" && pwd)
OUT="$BUILD/packages"
PKG=meswitch-studio

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

say() { echo "check-deb: $*"; }
fail() { echo "check-deb: FAILED: $*" >&2; exit 1; }

WORK=$(mktemp -d)
installed_by_us=0
studio_pid=""
cleanup() {
  if [ -n "$studio_pid" ] && kill -0 "$studio_pid" 2>/dev/null; then kill -KILL "$studio_pid"; fi
  if [ "$installed_by_us" -eq 1 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y "$PKG" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. desktop entry and AppStream metainfo ------------------------------------------------
say "desktop-file-validate resources/meswitch-studio.desktop"
desktop-file-validate "$SRC/resources/meswitch-studio.desktop" || fail "desktop-file-validate"
METAINFO="$BUILD/packaging/io.github.meswitch.Studio.metainfo.xml"
[ -f "$METAINFO" ] || fail "$METAINFO is missing (configure with MESWITCH_BUILD_APP=ON and build)"
say "appstreamcli validate --no-net $(basename "$METAINFO")"
appstreamcli validate --no-net "$METAINFO" || fail "appstreamcli validate"

# --- 2. packages ----------------------------------------------------------------------------
say "building (no-op when up to date) and packaging $BUILD"
rm -rf "$OUT" && mkdir -p "$OUT"
cmake --build "$BUILD" >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log"; fail "cmake --build $BUILD"; }
GENERATORS="DEB;TGZ"
if command -v rpmbuild >/dev/null 2>&1; then GENERATORS="DEB;TGZ;RPM"; fi
(cd "$BUILD" && cpack -G "$GENERATORS" -B "$OUT" >"$OUT/cpack.log" 2>&1) ||
  { tail -n 40 "$OUT/cpack.log"; fail "cpack -G $GENERATORS"; }
shopt -s nullglob
debs=("$OUT"/${PKG}_*.deb)
[ "${#debs[@]}" -eq 1 ] || fail "expected one ${PKG}_*.deb in $OUT, found ${#debs[@]}"
DEB=${debs[0]}
say "packages:"
for f in "$OUT"/*.deb "$OUT"/*.rpm "$OUT"/*.tar.gz; do
  printf '  %-50s %8s KiB\n' "$(basename "$f")" "$(($(stat -c %s "$f") / 1024))"
done
say "control fields of $(basename "$DEB"):"
dpkg-deb -f "$DEB" Package Version Architecture Installed-Size Depends Recommends Suggests |
  sed 's/^/  /'

# --- 3. lintian -----------------------------------------------------------------------------
say "lintian $(basename "$DEB")"
lintian_out=$(lintian --fail-on error --display-level ">=info" "$DEB" 2>&1) && lintian_rc=0 ||
  lintian_rc=$?
[ -n "$lintian_out" ] && printf '%s\n' "$lintian_out" | sed 's/^/  /'
errors=$(printf '%s\n' "$lintian_out" | grep -c '^E: ' || true)
warnings=$(printf '%s\n' "$lintian_out" | grep -c '^W: ' || true)
say "lintian: $errors errors, $warnings warnings"
[ "$lintian_rc" -eq 0 ] || fail "lintian reports errors"

# --- 4. CUDA libraries stay optional --------------------------------------------------------
mkdir "$WORK/deb" && dpkg-deb -x "$DEB" "$WORK/deb"
for exe in "$WORK"/deb/usr/bin/*; do
  needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  if printf '%s\n' "$needed" | grep -E '^lib(cudart|cublas|cublasLt|cuda)\.so' >/dev/null; then
    fail "$(basename "$exe") needs $(printf '%s ' $(printf '%s\n' "$needed" | grep -E 'cu')):
  it would not start without the CUDA Toolkit. Link CUDA::cudart_static and meswitch_cublas
  (cmake/MeswitchCuda.cmake), not CUDA::cudart or CUDA::cublas."
  fi
done
say "no binary needs libcudart, libcublas or libcuda at start-up"

# --- 5. install and run from the installed files --------------------------------------------
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "ok installed"; then
  say "$PKG is already installed; purging it first"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y "$PKG" >/dev/null
fi
say "apt-get install -y --no-install-recommends ./$(basename "$DEB")"
installed_by_us=1
(cd "$OUT" && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
  "./$(basename "$DEB")" >"$OUT/apt-install.log" 2>&1) ||
  { tail -n 30 "$OUT/apt-install.log"; fail "apt-get install ./$(basename "$DEB")"; }
dpkg -L "$PKG" | sort >"$WORK/files"
while IFS= read -r f; do [ -d "$f" ] || echo "$f"; done <"$WORK/files" >"$WORK/plain-files"
say "installed $(wc -l <"$WORK/plain-files") files"
touch "$WORK/stamp"
sleep 1

RUN_HOME="$WORK/home"
mkdir -p "$RUN_HOME" && mkdir -m 700 "$WORK/runtime"
# Runs a command from / with HOME in the temporary folder and no data-folder overrides.
CLEAN_ENV=(env -C / -u MESWITCH_HOME -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_CACHE_HOME
  -u MESWITCH_DEMO_DIR HOME="$RUN_HOME" XDG_RUNTIME_DIR="$WORK/runtime")
run_clean() { "${CLEAN_ENV[@]}" "$@"; }
version=$(run_clean /usr/bin/meswitch --version) || fail "meswitch --version"
say "meswitch --version: $version"
[[ "$version" == "meswitch "* ]] || fail "unexpected --version output: $version"
run_clean /usr/bin/meswitch info --json >"$WORK/info.json" 2>"$WORK/info.err" ||
  { cat "$WORK/info.err"; fail "meswitch info --json"; }
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("check-deb: info --json:",
    ", ".join(f"{k}={d[k]}" for k in list(d)[:6]))' "$WORK/info.json" ||
    fail "meswitch info --json is not JSON"
else
  head -c 300 "$WORK/info.json"; echo
fi

say "offscreen start of meswitch-studio (SIGTERM after 4 s)"
# Started directly (no subshell) so that $! is the application itself.
"${CLEAN_ENV[@]}" QT_QPA_PLATFORM=offscreen /usr/bin/meswitch-studio >"$WORK/studio.log" 2>&1 &
studio_pid=$!
sleep 4
if ! kill -0 "$studio_pid" 2>/dev/null; then
  wait "$studio_pid" && rc=0 || rc=$?
  cat "$WORK/studio.log"
  fail "meswitch-studio exited by itself (status $rc) before SIGTERM"
fi
kill -TERM "$studio_pid"
wait "$studio_pid" && studio_rc=0 || studio_rc=$?
[ "$studio_rc" -eq 0 ] || { cat "$WORK/studio.log"; fail "meswitch-studio exit status $studio_rc after SIGTERM"; }
say "meswitch-studio ran and exited with status 0 on SIGTERM"
[ -d "$RUN_HOME/.local/share/meswitch-studio" ] ||
  fail "no data folder under \$HOME/.local/share/meswitch-studio after the runs"

# Nothing written into the installed tree: no new files under our folders, contents unchanged.
new_files=$(find /usr/share/meswitch-studio /usr/share/doc/$PKG -newer "$WORK/stamp" 2>/dev/null || true)
[ -z "$new_files" ] || fail "files written into the install tree at run time: $new_files"
if [ -d /usr/share/meswitch-studio ]; then
  find /usr/share/meswitch-studio | sort >"$WORK/ours"
  extra=$(comm -23 "$WORK/ours" "$WORK/files")
  [ -z "$extra" ] || fail "files under /usr/share/meswitch-studio not from the package: $extra"
fi
dpkg --verify "$PKG" || fail "dpkg --verify: installed files changed"
say "install tree unchanged by the runs"

# --- 6. remove ------------------------------------------------------------------------------
say "apt-get purge -y $PKG"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y "$PKG" >"$OUT/apt-remove.log" 2>&1 ||
  { tail -n 30 "$OUT/apt-remove.log"; fail "apt-get purge $PKG"; }
installed_by_us=0
left=""
while IFS= read -r f; do
  if [ -e "$f" ] || [ -L "$f" ]; then left+="$f "; fi
done <"$WORK/plain-files"
[ -z "$left" ] || fail "left after removal: $left"
for d in /usr/share/meswitch-studio /usr/share/doc/$PKG; do
  [ ! -e "$d" ] || fail "$d is left after removal"
done
say "removed cleanly (no file of the package is left)"

# --- 7. relocatable archive -----------------------------------------------------------------
tgz=("$OUT"/${PKG}-*.tar.gz)
if [ "${#tgz[@]}" -eq 1 ]; then
  mkdir "$WORK/tgz" && tar -xzf "${tgz[0]}" -C "$WORK/tgz"
  top=$(find "$WORK/tgz" -mindepth 1 -maxdepth 1 -type d)
  mv "$top" "$WORK/tgz/moved-elsewhere"
  tv=$(run_clean "$WORK/tgz/moved-elsewhere/bin/meswitch" --version) || fail "unpacked .tar.gz: meswitch --version"
  say "unpacked .tar.gz (moved to another folder): $tv"
fi
rpms=("$OUT"/*.rpm)
if [ "${#rpms[@]}" -eq 1 ] && command -v rpm >/dev/null 2>&1; then
  say "rpm requires of $(basename "${rpms[0]}") (libraries; symbol versions left out):"
  rpm -qpR "${rpms[0]}" 2>/dev/null | grep -E '^[^(]+(\(\))?\(64bit\)$|^[^(]+$' | tr '\n' ' ' |
    fold -s -w 96 | sed 's/^/  /'
  echo
  say "rpm suggests: $(rpm -qp --suggests "${rpms[0]}" 2>/dev/null | tr '\n' ' ')"
fi
say "all checks passed"
