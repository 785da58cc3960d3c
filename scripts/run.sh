#!/usr/bin/env bash
# Builds everything (installing dependencies as needed) and starts ME-Switch Studio.
# Usage: scripts/run.sh [app options, e.g. --home DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"

APP=./build/app/studio/meswitch-studio
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run.sh: no display found (DISPLAY/WAYLAND_DISPLAY unset): starting under Xvfb, a virtual display."
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$APP" "$@"
fi
exec "$APP" "$@"
