#!/usr/bin/env bash
# Makes a synthetic base + expert pair of a given shape (random bf16 base with a byte-level
# tokenizer; expert = base + a rank-8 delta + small noise on every projection), imports both
# into a scratch home, and times `meswitch compress` on the expert end to end, with its peak
# memory. The figure a user waits for, on any shape from tiny to 7B, without a model hub.
#
# usage: scripts/compress-synthetic-pair.sh [--shape tiny|small|1b|7b] [--dir DIR]
#                                          [--meswitch PATH] [--keep] [-- compress options]
#   --shape     model shape (default 1b: TinyLlama-1.1B, 2.2 GB per model in bf16; 7b needs
#               about 30 GB of disk for the pair)
#   --dir       where the pair and the scratch home go (default /tmp/meswitch-pair-SHAPE);
#               an existing pair there is reused
#   --meswitch  the CLI (default build/app/cli/meswitch)
#   --keep      keep the scratch home (the catalog and the compressed expert) afterwards
# Anything after -- goes to `meswitch compress` (default: --bits 2 --json).
set -euo pipefail

shape=1b
dir=""
meswitch="build/app/cli/meswitch"
keep=0
compress_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --shape) shape="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        --meswitch) meswitch="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        --) shift; compress_args=("$@"); break ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "compress-synthetic-pair: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#compress_args[@]} -eq 0 ] && compress_args=(--bits 2 --json)
[ -x "$meswitch" ] || { echo "compress-synthetic-pair: $meswitch not found (build first)" >&2; exit 1; }
dir="${dir:-/tmp/meswitch-pair-$shape}"
mkdir -p "$dir"

if [ ! -f "$dir/base/config.json" ]; then
    echo "== making the $shape base in $dir/base"
    "$meswitch" bench make-model --shape "$shape" --dtype bf16 --tokenizer --out "$dir/base" --force
fi
if [ ! -f "$dir/expert/config.json" ]; then
    echo "== making the expert in $dir/expert"
    "$meswitch" bench make-model --expert-of "$dir/base" --out "$dir/expert" --force
fi

home="$dir/home"
rm -rf "$home"
export MESWITCH_HOME="$home"
echo "== importing"
"$meswitch" import "$dir/base" --name "pair-$shape-base" > /dev/null
"$meswitch" import "$dir/expert" --base "pair-$shape-base" --name "pair-$shape-x" \
    --domain synthetic > /dev/null

echo "== compressing (meswitch compress --expert pair-$shape-x ${compress_args[*]})"
log="$dir/compress.json"
timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -v -o "$dir/time.txt")  # Debian package "time"
start=$(date +%s%N)
"${timer[@]}" "$meswitch" compress --expert "pair-$shape-x" "${compress_args[@]}" > "$log" &
runner=$!
# Peak anonymous memory (RssAnon: what the process itself allocated, not the mapped model
# files that RSS also counts), sampled every 0.2 s from /proc.
anon_kb=0
while kill -0 "$runner" 2> /dev/null; do
    for pid in $(pgrep -P "$runner" || true) "$runner"; do
        kb=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)
        [ -n "$kb" ] && [ "$kb" -gt "$anon_kb" ] && anon_kb=$kb
    done
    sleep 0.2
done
status=0
wait "$runner" || status=$?
end=$(date +%s%N)
[ "$status" -eq 0 ] || { echo "compress-synthetic-pair: meswitch compress failed ($status)" >&2; exit "$status"; }
peak=""
if [ -f "$dir/time.txt" ]; then
    peak=$(awk -F: '/Maximum resident set size/ {printf ", peak RSS %.2f GB", $2 / 1048576}' \
        "$dir/time.txt")
fi
peak="$peak$(awk -v kb="$anon_kb" 'BEGIN {printf ", peak anonymous %.2f GB", kb / 1048576}')"
awk -v ns=$((end - start)) -v shape="$shape" -v peak="$peak" -v out="$log" \
    'BEGIN {printf "shape %s: compress wall %.1f s%s (output in %s)\n", shape, ns / 1e9, peak, out}'
[ "$keep" -eq 1 ] || rm -rf "$home"
