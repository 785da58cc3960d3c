#!/usr/bin/env bash
# The GPU bundle's runner (packed by scripts/gpu-bundle.sh as meswitch-gpu/run.sh): on a
# machine with an NVIDIA GPU, runs every GPU test and the GPU benchmarks from this folder
# alone, and writes what it saw into OUTDIR.
#
# usage: ./run.sh OUTDIR [options]
#   --budget S            seconds for the whole run (default 540): a step gets at most what is
#                         left, and a step with under 15 s left is not started
#   --only REGEX          run only the steps whose name matches (grep -E), e.g. 'bench-'
#   --max-step-seconds S  cap every step's timeout (to try the timeout path)
#   --cublas-dir DIR      the folder holding libcublas.so.<major> (default: searched; 'none':
#                         do not search, and let the binaries try their own defaults)
#
# OUTDIR gets five files: system.txt (machine, GPU, driver, CUDA, cuBLAS, library check),
# run.log (everything printed, each step's output in full), bench.json (each benchmark's
# --json object by step), summary.txt and summary.json (step, status, seconds, key figure;
# the GPU targets). Both summaries are rewritten after every step, so a run cut short still
# leaves one. Step statuses: PASS, SKIP (a test whose GPU cases skipped for want of a device:
# read its reason), NODEV (a benchmark found no usable CUDA device), FAIL, TIMEOUT, NOTRUN
# (budget spent). The exit status is 0 when no step failed or timed out.
set -euo pipefail

usage() { sed -n '6,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

BUDGET=540 ONLY="" MAX_STEP=0 CUBLAS_DIR="" OUTDIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --max-step-seconds) MAX_STEP=$2; shift 2 ;;
    --cublas-dir) CUBLAS_DIR=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; usage 2 ;;
    *) [ -z "$OUTDIR" ] || usage 2; OUTDIR=$1; shift ;;
  esac
done
[ -n "$OUTDIR" ] || usage 2

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
T0=$(date +%s)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/meswitch-gpu-run.XXXXXX")
mkdir -p "$SCRATCH/logs" "$SCRATCH/home" "$SCRATCH/test-output" "$SCRATCH/tmp"
: >"$OUTDIR/run.log"
exec > >(tee -a "$OUTDIR/run.log") 2>&1
TEE_PID=$!
# At the end: remove the scratch folder, then let tee write the last lines before exiting.
finish() {
  rm -rf "$SCRATCH"
  exec >&- 2>&-
  wait "$TEE_PID" 2>/dev/null || true
}
trap finish EXIT

# The cuBLAS major version the binaries were built against (MANIFEST.txt, written by
# scripts/gpu-bundle.sh).
SOVERSION=$(sed -n 's/^cublas_soversion: *//p' "$HERE/MANIFEST.txt" 2>/dev/null || true)
SOVERSION=${SOVERSION:-13}

say() { printf '%s\n' "$*"; }
section() { printf '\n===== %s =====\n' "$*"; }

# --- cuBLAS ---------------------------------------------------------------------------------
# The binaries open libcublas.so.$SOVERSION at their first cuBLAS call (dlopen); it is too big
# to travel, so it is looked for here: the CUDA toolkit's folders, ld.so's cache, then the
# nvidia-cublas wheel of any Python's site-packages (nvidia/cublas/lib, nvidia/cu13/lib).
find_cublas() {
  local lib=libcublas.so.$SOVERSION d py sp
  local dirs=()
  [ -n "${CUDA_HOME:-}" ] && dirs+=("$CUDA_HOME/lib64" "$CUDA_HOME/targets/x86_64-linux/lib")
  dirs+=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib)
  for d in /usr/local/cuda-*/lib64 /usr/local/cuda-*/targets/x86_64-linux/lib; do
    [ -d "$d" ] && dirs+=("$d")
  done
  if command -v ldconfig >/dev/null 2>&1; then
    while read -r d; do dirs+=("$d"); done < <(ldconfig -p 2>/dev/null |
      sed -n "s|.*${lib}[^=]*=> \(.*\)/${lib}\$|\1|p")
  fi
  for d in "${dirs[@]}"; do
    [ -e "$d/$lib" ] && { printf '%s\n' "$d"; return 0; }
  done
  for py in python3 /opt/*/.venv/bin/python3 /usr/bin/python3 /usr/local/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    while read -r sp; do
      for d in "$sp"/nvidia/cublas/lib "$sp"/nvidia/cu"$SOVERSION"/lib; do
        [ -e "$d/$lib" ] && { printf '%s\n' "$d"; return 0; }
      done
    done < <(timeout 20 "$py" -c 'import site, sys
print("\n".join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))' 2>/dev/null || true)
  done
  # Last resort: a bounded search of the usual roots.
  d=$(timeout 30 find /usr /opt /root /home -xdev -maxdepth 9 -name "$lib" -print -quit 2>/dev/null || true)
  [ -n "$d" ] && { dirname "$d"; return 0; }
  return 1
}

CUBLAS_NOTE=""
if [ "$CUBLAS_DIR" = none ]; then
  CUBLAS_DIR=""
  CUBLAS_NOTE="not searched (--cublas-dir none)"
elif [ -n "$CUBLAS_DIR" ]; then
  [ -e "$CUBLAS_DIR/libcublas.so.$SOVERSION" ] ||
    CUBLAS_NOTE="NOT FOUND: $CUBLAS_DIR has no libcublas.so.$SOVERSION"
elif ! CUBLAS_DIR=$(find_cublas); then
  CUBLAS_DIR=""
  CUBLAS_NOTE="NOT FOUND: no libcublas.so.$SOVERSION in the CUDA toolkit, ld.so's cache or any Python's nvidia-cublas wheel; the GPU steps that need cuBLAS will fail, the rest still run"
fi
[ -z "$CUBLAS_NOTE" ] && CUBLAS_NOTE="$CUBLAS_DIR/libcublas.so.$SOVERSION"
# Only the bundle's own libraries and cuBLAS: nothing of this machine's but the C runtime and
# the driver is used. Set per command, so that nvidia-smi and python keep their own.
# The bundled C++ runtime (lib/cxx) needs a glibc as new as the build machine's; on an older
# one the target's own libstdc++ is used instead (the library check below shows whether it
# is new enough).
GLIBC_HERE=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }' || true)
CXX_NEED=$(sed -n 's/^cxx_needs_glibc: *//p' "$HERE/MANIFEST.txt" 2>/dev/null || true)
CXX_NOTE="the bundle's (lib/cxx)"
LIBPATH=$HERE/lib:$HERE/lib/cxx
if [ -n "$GLIBC_HERE" ] && [ -n "$CXX_NEED" ] &&
  [ "$(printf '%s\n%s\n' "$GLIBC_HERE" "$CXX_NEED" | sort -V | head -n 1)" != "$CXX_NEED" ]; then
  CXX_NOTE="this machine's: glibc $GLIBC_HERE is older than the $CXX_NEED the bundled one needs"
  LIBPATH=$HERE/lib
fi
LIBPATH=$LIBPATH${CUBLAS_DIR:+:$CUBLAS_DIR}

# --- the machine ----------------------------------------------------------------------------
{
  section "bundle"
  if [ -r "$HERE/MANIFEST.txt" ]; then sed -n '1,/^files:/p' "$HERE/MANIFEST.txt"; else say "(no MANIFEST.txt)"; fi
  section "machine"
  say "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  say "uname: $(uname -a)"
  [ -r /etc/os-release ] && say "os: $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"
  say "glibc: $(ldd --version 2>/dev/null | head -n 1)"
  say "cpus: $(nproc)"
  command -v free >/dev/null && free -g | sed 's/^/  /'
  section "GPU, driver, CUDA"
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 30 nvidia-smi || say "nvidia-smi failed (status $?)"
    timeout 30 nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.max.sm,clocks.max.memory,pstate,temperature.gpu,power.limit --format=csv ||
      true
  else
    say "nvidia-smi: not found on PATH (no NVIDIA driver tools here)"
  fi
  if command -v nvcc >/dev/null 2>&1; then
    say "nvcc: $(nvcc --version | tail -n 2 | tr '\n' ' ')"
  elif [ -x /usr/local/cuda/bin/nvcc ]; then
    say "nvcc: $(/usr/local/cuda/bin/nvcc --version | tail -n 2 | tr '\n' ' ')"
  else
    say "nvcc: not found (not needed: the binaries are built)"
  fi
  say "cuBLAS: $CUBLAS_NOTE"
  say "libstdc++: $CXX_NOTE"
  section "libraries each binary resolves (LD_LIBRARY_PATH=$LIBPATH)"
  for b in "$HERE"/bin/*; do
    missing=$(LD_LIBRARY_PATH=$LIBPATH ldd "$b" 2>&1 | grep 'not found' || true)
    if [ -z "$missing" ]; then
      say "$(basename "$b"): all found"
    else
      say "$(basename "$b"): MISSING"
      printf '%s\n' "$missing"
    fi
  done
} >"$OUTDIR/system.txt" 2>&1
cat "$OUTDIR/system.txt"

# --- steps ----------------------------------------------------------------------------------
NAMES=() STATUSES=() SECONDS_TAKEN=() FIGURES=() RCS=()
: >"$SCRATCH/bench.parts"
FAILED=0

json_str() {  # a JSON string literal of $1
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  printf '"%s"' "$s"
}

# The first value of "KEY": in a --json output (nlohmann's dump(2): one key per line; keys
# sorted, so the first "tokens_per_second" of bench serve is its batched run's).
jnum() { sed -n "s/^ *\"$2\": *\([-0-9.eE+]*\|true\|false\),\{0,1\}\$/\1/p" "$1" | head -n 1; }
fmt() { [ -n "$2" ] && awk -v v="$2" "BEGIN { printf \"$1\", v }"; }
pct() { [ -n "$1" ] && awk -v v="$1" 'BEGIN { printf "%.0f %%", 100 * v }'; }

# The key figure of a step, from its --json output ($2) or its log ($3).
key_figure() {
  local kind=$1 json=$2 log=$3
  case $kind in
    test) grep -E '^Totals:' "$log" | tail -n 1 | sed 's/^Totals: //' ;;
    info) grep -E -m 1 -i 'cuda|gpu|device' "$log" | cut -c 1-90 ;;
    decode)
      printf 'decode %s tok/s = %s of the %s GB/s bound; prefill %s tok/s' \
        "$(fmt %.1f "$(jnum "$json" decode_tokens_per_second)")" \
        "$(pct "$(jnum "$json" fraction_of_bound)")" \
        "$(fmt %.0f "$(jnum "$json" memory_bandwidth_gbps)")" \
        "$(fmt %.0f "$(jnum "$json" prefill_tokens_per_second)")" ;;
    switch)
      local base sep
      base=$(jnum "$json" base_tokens_per_second) sep=$(jnum "$json" separate_tokens_per_second)
      printf 'in place %s ms (%s of r+w bw), separate %s ms, separate/base %s' \
        "$(fmt %.1f "$(jnum "$json" in_place_switch_median_ms)")" \
        "$(pct "$(jnum "$json" in_place_bandwidth_fraction)")" \
        "$(fmt %.1f "$(jnum "$json" separate_switch_ms)")" \
        "$( [ -n "$base" ] && [ -n "$sep" ] && awk -v a="$sep" -v b="$base" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b }')" ;;
    serve)
      printf 'batched %s tok/s, same tokens: %s' \
        "$(fmt %.1f "$(jnum "$json" tokens_per_second)")" "$(jnum "$json" same_tokens)" ;;
  esac
}

write_summary() {
  local i n=${#NAMES[@]} now
  now=$(date +%s)
  {
    printf '%-28s %-7s %8s  %s\n' step status seconds "key figure"
    for ((i = 0; i < n; i++)); do
      printf '%-28s %-7s %8s  %s\n' "${NAMES[i]}" "${STATUSES[i]}" "${SECONDS_TAKEN[i]}" "${FIGURES[i]}"
    done
    printf 'total %s s of a %s s budget; cuBLAS: %s\n' "$((now - T0))" "$BUDGET" "$CUBLAS_NOTE"
    targets_text
  } >"$OUTDIR/summary.txt"
  {
    printf '{\n  "total_seconds": %s,\n  "budget_seconds": %s,\n  "cublas": %s,\n  "steps": [\n' \
      "$((now - T0))" "$BUDGET" "$(json_str "$CUBLAS_NOTE")"
    for ((i = 0; i < n; i++)); do
      printf '    {"step": %s, "status": %s, "exit_status": %s, "seconds": %s, "key_figure": %s}%s\n' \
        "$(json_str "${NAMES[i]}")" "$(json_str "${STATUSES[i]}")" "${RCS[i]}" \
        "${SECONDS_TAKEN[i]}" "$(json_str "${FIGURES[i]}")" "$([ $((i + 1)) -lt "$n" ] && echo ,)"
    done
    printf '  ],\n  "targets": [\n'
    targets_json
    printf '  ]\n}\n'
  } >"$OUTDIR/summary.json"
  {
    printf '{\n'
    sed '$ s/,$//' "$SCRATCH/bench.parts"
    printf '}\n'
  } >"$OUTDIR/bench.json"
}

# The GPU targets of issue 21, from the benchmark outputs (blank where the step did not run).
# verdict VALUE OP LIMIT: MET or MISSED, nothing without a value.
verdict() {
  [ -n "$1" ] || return 0
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print (ok ? "MET" : "MISSED") }'
}
TARGETS=()
target_rows() {
  local sw j v base sep
  TARGETS=()
  sw=$SCRATCH/logs/bench-switch-cuda-mistral7b.json
  v="" base="" sep=""
  if [ -s "$sw" ]; then
    v=$(jnum "$sw" in_place_bandwidth_fraction || true)
    base=$(jnum "$sw" base_tokens_per_second || true)
    sep=$(jnum "$sw" separate_tokens_per_second || true)
  fi
  TARGETS+=("in-place switch within 2x of its bandwidth bound|in_place_bandwidth_fraction (read+write) >= 0.5|$v|$(verdict "$v" '>=' 0.5)")
  v=""
  [ -s "$sw" ] && v=$(jnum "$sw" in_place_switch_median_ms || true)
  TARGETS+=("Mistral-7B-shaped switch <= 15 ms|in_place_switch_median_ms <= 15|$v|$(verdict "$v" '<=' 15)")
  v=""
  [ -n "$base" ] && [ -n "$sep" ] &&
    v=$(awk -v a="$sep" -v b="$base" 'BEGIN { if (b > 0) printf "%.3f", a / b }')
  TARGETS+=("separate computation >= 80% of base-only speed|separate / base decode tokens/s >= 0.8|$v|$(verdict "$v" '>=' 0.8)")
  for j in 1b 7b; do
    v=""
    [ -s "$SCRATCH/logs/bench-decode-cuda-$j.json" ] &&
      v=$(jnum "$SCRATCH/logs/bench-decode-cuda-$j.json" fraction_of_bound || true)
    TARGETS+=("decode >= 75% of the HBM bound at batch 1 ($j)|fraction_of_bound >= 0.75|$v|$(verdict "$v" '>=' 0.75)")
  done
}
targets_text() {
  local r what rule value verdict
  target_rows
  printf '\n%-58s %9s  %s\n' "GPU targets (issue 21)" measured verdict
  for r in "${TARGETS[@]}"; do
    IFS='|' read -r what rule value verdict <<<"$r"
    printf '%-58s %9s  %s\n' "$what" "${value:--}" "${verdict:-not measured}"
  done
}
targets_json() {
  local r i=0 what rule value verdict
  target_rows
  for r in "${TARGETS[@]}"; do
    IFS='|' read -r what rule value verdict <<<"$r"
    i=$((i + 1))
    printf '    {"target": %s, "rule": %s, "measured": %s, "verdict": %s}%s\n' \
      "$(json_str "$what")" "$(json_str "$rule")" "${value:-null}" \
      "$(json_str "${verdict:-not measured}")" "$([ "$i" -lt "${#TARGETS[@]}" ] && echo ,)"
  done
}

# step NAME KIND TIMEOUT COMMAND...: runs COMMAND in the bundle's environment (from the scratch
# folder, with a timeout; a benchmark's stdout, its --json object, kept apart as NAME.json)
# and records the outcome. A failure is recorded and the next step still runs.
step() {
  local name=$1 kind=$2 limit=$3 rc=0 status figure="" left start end secs json log first
  shift 3
  if [ -n "$ONLY" ] && ! grep -qE -- "$ONLY" <<<"$name"; then return 0; fi
  left=$((BUDGET - ($(date +%s) - T0)))
  [ "$MAX_STEP" -gt 0 ] && [ "$limit" -gt "$MAX_STEP" ] && limit=$MAX_STEP
  [ "$limit" -gt $((left - 5)) ] && limit=$((left - 5))
  section "$name (timeout ${limit} s): $*"
  json=$SCRATCH/logs/$name.json log=$SCRATCH/logs/$name.log
  if [ "$left" -lt 15 ] || [ "$limit" -lt 1 ]; then
    say "not run: ${left} s of the ${BUDGET} s budget left"
    NAMES+=("$name") STATUSES+=(NOTRUN) SECONDS_TAKEN+=(0) FIGURES+=("budget spent") RCS+=(null)
    write_summary
    return 0
  fi
  start=$(date +%s.%N)
  if [ "$kind" = test ] || [ "$kind" = info ]; then
    (cd "$SCRATCH" && exec timeout -k 10 "$limit" env LD_LIBRARY_PATH="$LIBPATH" "$@") \
      >"$log" 2>&1 </dev/null || rc=$?
    cat "$log"
  else
    (cd "$SCRATCH" && exec timeout -k 10 "$limit" env LD_LIBRARY_PATH="$LIBPATH" "$@") \
      >"$json" 2>"$log" </dev/null || rc=$?
    cat "$log" "$json"
  fi
  end=$(date +%s.%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    status=TIMEOUT figure="killed after ${limit} s"
  elif [ "$rc" -ne 0 ]; then
    status=FAIL
    grep -q 'no CUDA device' "$log" "$json" 2>/dev/null && status=NODEV
    if [ "$kind" = test ]; then
      figure=$(key_figure test "$json" "$log" || true)
      first=$(grep -m 1 -E '^FAIL!' "$log" | cut -c 1-80 || true)
      figure="${figure:-no Totals line (crashed?)}${first:+; $first}"
    else
      figure=$(grep -v '^ *$' "$log" | tail -n 1 | cut -c 1-110 || true)
    fi
  else
    status=PASS
    figure=$(key_figure "$kind" "$json" "$log" 2>/dev/null || true)
    # A test whose GPU cases skipped for want of a device (it may still pass its no-device
    # cases) is SKIP, with the reason.
    if [ "$kind" = test ] && grep -qE '^SKIP.*no CUDA device' "$log"; then
      status=SKIP
      first=$(grep -m 1 -E '^SKIP.*no CUDA device' "$log" | sed 's/^SKIP *: *//' | cut -c 1-100 || true)
      figure="$figure${first:+; $first}"
    fi
    if [ "$kind" != test ] && [ "$kind" != info ]; then
      printf '  %s: %s,\n' "$(json_str "$name")" "$(sed '2,$ s/^/  /' "$json")" >>"$SCRATCH/bench.parts"
    fi
  fi
  case $status in TIMEOUT | FAIL) FAILED=$((FAILED + 1)) ;; esac
  say "--> $name: $status, exit status $rc, ${secs} s${figure:+: $figure}"
  NAMES+=("$name") STATUSES+=("$status") SECONDS_TAKEN+=("$secs") FIGURES+=("$figure") RCS+=("$rc")
  write_summary
}

export QT_QPA_PLATFORM=offscreen
export MESWITCH_FIXTURES=$HERE/fixtures
export MESWITCH_TEST_OUTPUT=$SCRATCH/test-output
export MESWITCH_HOME=$SCRATCH/home
# Scratch files of the benchmarks (bench switch writes a Mistral-7B-sized reload file).
export TMPDIR=$SCRATCH/tmp
M=$HERE/bin/meswitch

step info info 30 "$M" info
for t in "$HERE"/bin/test_*; do
  step "$(basename "$t")" test 150 "$t"
done
step bench-decode-cpu-tiny decode 60 "$M" bench decode --device cpu --model synthetic:tiny --runs 3 --json
step bench-decode-cuda-1b decode 120 "$M" bench decode --device cuda --model synthetic:1b --json
step bench-switch-cuda-mistral7b switch 240 "$M" bench switch --device cuda --shape mistral7b --json
step bench-decode-cuda-7b decode 180 "$M" bench decode --device cuda --model synthetic:7b --json
step bench-serve-cuda-1b serve 120 "$M" bench serve --device cuda --shape 1b --json
step bench-serve-cuda-moe serve 60 "$M" bench serve --device cuda --moe "$HERE/fixtures/tiny-mixtral" --json

section "summary (also $OUTDIR/summary.txt, summary.json)"
cat "$OUTDIR/summary.txt"
[ "$FAILED" -eq 0 ]
