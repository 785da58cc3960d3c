#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and starts ME-Switch Studio.
# Usage: scripts/run.sh [app options, e.g. --home DIR]
# A catalog without models first gets the demo expert pack (resources/demo: a small base and
# three experts, compressed, router trained), so that a new user can chat at once.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"

APP=./build/app/studio/meswitch-studio
CLI=./build/app/cli/meswitch

# The data folder the app will use: --home DIR / --home=DIR, else the app's own default.
HOME_ARGS=()
prev=""
for arg in "$@"; do
  case "$arg" in
    --home=*) HOME_ARGS=(--home "${arg#--home=}") ;;
    *) [ "$prev" = "--home" ] && HOME_ARGS=(--home "$arg") ;;
  esac
  prev="$arg"
done
if [ ${#HOME_ARGS[@]} -eq 0 ] && [ -z "${MESWITCH_HOME:-}" ]; then
  # The data folder chosen in the app's Settings (QSettings INI file, key paths/dataHome).
  SAVED=$(sed -n 's/^dataHome=//p' "${XDG_CONFIG_HOME:-$HOME/.config}/ME-Switch/ME-Switch Studio.conf" 2>/dev/null | head -n1 || true)
  [ -n "$SAVED" ] && HOME_ARGS=(--home "$SAVED")
fi
echo "run.sh: installing the demo expert pack if the catalog is empty (about a minute the first time)."
"$CLI" "${HOME_ARGS[@]}" demo install --if-empty

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run.sh: no display found (DISPLAY/WAYLAND_DISPLAY unset): starting under Xvfb, a virtual display."
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$APP" "$@"
fi
exec "$APP" "$@"
