#!/usr/bin/env bash
# Prefill and decode tokens/s of meswitch and llama.cpp on the same model, CPU, threads.
#
# usage: scripts/bench-vs-llamacpp.sh [options] LLAMA_CPP MODEL_DIR
#   LLAMA_CPP   a llama.cpp source tree with build/bin/llama-bench, or that build folder
#               (llama-bench is not built here: build it yourself, e.g.
#               cmake -B build && cmake --build build --target llama-bench)
#   MODEL_DIR   a Hugging Face Llama folder: config.json + safetensors (bf16, f16 or f32),
#               e.g. from `meswitch bench make-model --shape 1b --dtype bf16 --out DIR`
# options:
#   --threads N     CPU threads for both engines (default 2)
#   --rounds N      interleaved rounds: meswitch, llama.cpp, meswitch, llama.cpp, ... (default 5)
#   --prompt N      prompt tokens, llama-bench -p (default 64)
#   --gen N         generated tokens, llama-bench -n (default 32)
#   --gguf FILE     the converted model (default: $TMPDIR/meswitch-bench-gguf/<folder>.gguf,
#                   converted again when the folder or the converter is newer)
#   --meswitch BIN  the meswitch binary (default: build/app/cli/meswitch)
# environment: MESWITCH_BUILD_LOCK=FILE holds flock(FILE) over the timed rounds, so that no
# build that takes the same lock runs meanwhile.
#
# The model is converted with scripts/hf_to_gguf.py (numpy + llama.cpp's own gguf-py,
# nothing downloaded), in the folder's dtype. Each round runs one process of each engine:
# one untimed warm-up, then one timed prefill of a fresh context and one timed decode
# (meswitch bench decode --runs 1; llama-bench -r 1, whose warm-up is on by default).
# Printed: every round, then the medians over the rounds and the ratio meswitch / llama.cpp.
set -euo pipefail

THREADS=2 ROUNDS=5 PROMPT=64 GEN=32 GGUF="" MESWITCH=""
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --prompt) PROMPT=$2; shift 2 ;;
    --gen) GEN=$2; shift 2 ;;
    --gguf) GGUF=$2; shift 2 ;;
    --meswitch) MESWITCH=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "bench-vs-llamacpp.sh: unknown option $1" >&2; usage 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
[ ${#ARGS[@]} -eq 2 ] || usage 2
LLAMA=$(cd "${ARGS[0]}" && pwd)
MODEL=$(cd "${ARGS[1]}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
MESWITCH=${MESWITCH:-$HERE/../build/app/cli/meswitch}
PY=/usr/bin/python3

die() { echo "bench-vs-llamacpp.sh: $*" >&2; exit 1; }
[ -x "$MESWITCH" ] || die "no meswitch binary at $MESWITCH (build it, or pass --meswitch)"
[ -f "$MODEL/config.json" ] || die "$MODEL has no config.json"

# llama-bench and gguf-py: LLAMA is the source tree or its build folder.
BENCH="" SRC=""
for b in "$LLAMA/build/bin/llama-bench" "$LLAMA/bin/llama-bench" "$LLAMA/llama-bench"; do
  [ -x "$b" ] && { BENCH=$b; break; }
done
[ -n "$BENCH" ] || die "no llama-bench under $LLAMA (looked in build/bin, bin and the folder itself)"
if [ -d "$LLAMA/gguf-py/gguf" ]; then
  SRC=$LLAMA
elif [ -f "$LLAMA/CMakeCache.txt" ]; then
  SRC=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$LLAMA/CMakeCache.txt")
fi
[ -n "$SRC" ] && [ -d "$SRC/gguf-py/gguf" ] || die "no gguf-py folder in the llama.cpp source tree ($LLAMA)"
$PY -c 'import numpy' 2>/dev/null ||
  die "$PY has no numpy: on Debian run 'sudo apt-get install python3-numpy'"

# Convert once; again when the model folder or the converter changed since.
if [ -z "$GGUF" ]; then
  mkdir -p "${TMPDIR:-/tmp}/meswitch-bench-gguf"
  GGUF="${TMPDIR:-/tmp}/meswitch-bench-gguf/$(basename "$MODEL").gguf"
fi
if [ ! -f "$GGUF" ] || [ -n "$(find "$MODEL" "$HERE/hf_to_gguf.py" -maxdepth 1 -newer "$GGUF" \
    \( -name '*.safetensors' -o -name '*.json' -o -name hf_to_gguf.py \) -print -quit)" ]; then
  $PY "$HERE/hf_to_gguf.py" --gguf-py "$SRC/gguf-py" "$MODEL" "$GGUF"
fi

BENCH_ARGS=(-m "$GGUF" -p "$PROMPT" -n "$GEN" -t "$THREADS" -r 1 -o json -ngl 0)
# A GPU build of llama.cpp would otherwise offload large prefill matmuls: CPU against CPU.
"$BENCH" --help 2>&1 | grep -q -- '-nopo' && BENCH_ARGS+=(-nopo 1)

LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT
ours() {
  "$MESWITCH" bench decode --model "$MODEL" --prefill "$PROMPT" --decode "$GEN" \
    --threads "$THREADS" --runs 1 --json >"$LOG/ours.json" 2>"$LOG/ours.err" ||
    { cat "$LOG/ours.err" >&2; die "meswitch bench decode failed"; }
  $PY -c 'import json,sys; r=json.load(open(sys.argv[1]))
print(r["prefill_tokens_per_second"], r["decode_tokens_per_second"])' "$LOG/ours.json"
}
theirs() {
  "$BENCH" "${BENCH_ARGS[@]}" >"$LOG/theirs.json" 2>"$LOG/theirs.err" ||
    { tail -20 "$LOG/theirs.err" >&2; die "llama-bench failed"; }
  $PY -c 'import json,sys; rs=json.load(open(sys.argv[1]))
pp=[r["avg_ts"] for r in rs if r["n_prompt"]>0 and r["n_gen"]==0]
tg=[r["avg_ts"] for r in rs if r["n_gen"]>0 and r["n_prompt"]==0]
print(pp[0], tg[0])' "$LOG/theirs.json"
}

if [ -n "${MESWITCH_BUILD_LOCK:-}" ]; then
  exec 9>>"$MESWITCH_BUILD_LOCK"
  flock 9
fi

DTYPE=$($PY -c 'import json,struct,sys,pathlib
d=pathlib.Path(sys.argv[1]); f=d/"model.safetensors"
if not f.exists(): f=d/sorted(set(json.load(open(d/"model.safetensors.index.json"))["weight_map"].values()))[0]
h=open(f,"rb"); n=struct.unpack("<Q",h.read(8))[0]; t=json.loads(h.read(n)); t.pop("__metadata__",None)
print(sorted({v["dtype"] for k,v in t.items() if k.endswith("_proj.weight")})[0].lower())' "$MODEL")
echo "model $MODEL ($DTYPE), GGUF $GGUF ($(du -h "$GGUF" | cut -f1))"
echo "meswitch $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo '?'), llama.cpp" \
  "$(git -C "$SRC" describe --always --dirty 2>/dev/null || echo '?'), $THREADS threads," \
  "prompt $PROMPT tokens, $GEN generated, $ROUNDS rounds interleaved"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores online"

PP_OURS=() TG_OURS=() PP_THEIRS=() TG_THEIRS=()
for ((i = 1; i <= ROUNDS; i++)); do
  r=$(ours)  # (a failure inside exits here, under set -e)
  read -r a b <<<"$r"
  r=$(theirs)
  read -r c d <<<"$r"
  PP_OURS+=("$a") TG_OURS+=("$b") PP_THEIRS+=("$c") TG_THEIRS+=("$d")
  printf 'round %d: meswitch pp%d %8.2f tg%d %7.2f | llama.cpp pp%d %8.2f tg%d %7.2f tokens/s\n' \
    "$i" "$PROMPT" "$a" "$GEN" "$b" "$PROMPT" "$c" "$GEN" "$d"
done

$PY - "$PROMPT" "$GEN" "${PP_OURS[*]}" "${TG_OURS[*]}" "${PP_THEIRS[*]}" "${TG_THEIRS[*]}" <<'EOF'
import statistics, sys
p, g = sys.argv[1], sys.argv[2]
po, go, pt, gt = ([float(x) for x in s.split()] for s in sys.argv[3:7])
print(f"{'medians, tokens/s':<28}{'meswitch':>10}{'llama.cpp':>11}{'ratio':>8}")
for label, o, t in ((f"prefill pp{p} (fresh context)", po, pt), (f"decode tg{g}", go, gt)):
    mo, mt = statistics.median(o), statistics.median(t)
    print(f"{label:<28}{mo:>10.2f}{mt:>11.2f}{mo / mt:>8.2f}")
print(f"ratio: meswitch / llama.cpp. meswitch decodes after the prompt (positions {p}.."
      f"{int(p) + int(g) - 1}), llama-bench's tg test\nfrom an empty context (0..{int(g) - 1}); "
      "for a 1B model at such lengths attention is under 1% of a token's work.")
EOF
