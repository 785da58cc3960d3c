#!/usr/bin/env bash
# test_api_clients: `meswitch serve --port 0` with real clients. Installs the demo pack into a
# temporary MESWITCH_HOME, starts the server, waits for GET /health to say 200, then checks
#  - with curl: the raw SSE framing of a streamed chat completion, a non-streamed one, and
#    GET /v1/models (JSON checked with perl's JSON::PP);
#  - with the official OpenAI Node library (npm package "openai", installed into NODE_DIR
#    unless it is there already): openai_client.mjs;
# and at last stops the server with SIGTERM and checks that it exits with status 0.
#
# usage: test_api_clients.sh MESWITCH PACK_DIR NODE_DIR OPENAI_CLIENT_MJS
# Exit status: 0 passed, 1 failed, 77 skipped (no curl, no node/npm, or npm could not install
# the package, e.g. without network; the curl checks have run by then).
set -uo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 MESWITCH PACK_DIR NODE_DIR OPENAI_CLIENT_MJS" >&2
  exit 2
fi
MESWITCH=$1 PACK=$2 NODE_DIR=$3 CLIENT=$4

# The issue's prompt; the demo's arithmetic expert answers it with 42 (checked through the
# server at temperature 0, 4-bit experts as `meswitch demo install` leaves them).
PROMPT="What is 17+25?"
EXPECT="42"

WORK=""
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT

show_logs() {
  if [ -n "$WORK" ] && [ -f "$WORK/serve.err" ]; then
    echo "---- meswitch serve stdout ----"; cat "$WORK/serve.out"
    echo "---- meswitch serve stderr (last 40 lines) ----"; tail -n 40 "$WORK/serve.err"
    echo "----"
  fi
}
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; show_logs; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

command -v curl >/dev/null 2>&1 || skip "curl not found (packaging/install-deps.sh installs it)"
perl -MJSON::PP -e 1 2>/dev/null || skip "perl with JSON::PP not found (the JSON checks need it)"
[ -x "$MESWITCH" ] || fail "setup: $MESWITCH is not an executable"
[ -f "$PACK/pack.json" ] || fail "setup: $PACK/pack.json not found"
[ -f "$CLIENT" ] || fail "setup: $CLIENT not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/meswitch-api-clients.XXXXXX") || fail "setup: mktemp"
export MESWITCH_HOME="$WORK/home"
mkdir -p "$MESWITCH_HOME"

# Names from pack.json: the base, the experts, and the arithmetic expert.
names=$(perl -MJSON::PP -e '
  local $/; open my $f, "<", $ARGV[0] or die "$ARGV[0]: $!\n"; my $p = decode_json(<$f>);
  my ($a) = map { $_->{name} } grep { $_->{domain} eq "arithmetic" } @{$p->{experts}};
  print join(" ", $a // "", $p->{base}{name}, map { $_->{name} } @{$p->{experts}}), "\n";
' "$PACK/pack.json") || fail "setup: cannot read $PACK/pack.json"
read -r ARITHMETIC BASE_NAME EXPERTS <<<"$names"
[ -n "$ARITHMETIC" ] || fail "setup: pack.json names no expert of the domain arithmetic"

# Install the demo pack (4-bit experts and the router, as the Studio's first run does). One
# thread and one OpenBLAS thread: on 2 busy cores (ctest -j) more threads, spinning in OpenBLAS
# (gptq's dpotrf/dpotri) and the engine's pool, made it take 12-36 s instead of 2.
t0=$SECONDS
if ! OPENBLAS_NUM_THREADS=1 "$MESWITCH" demo install --pack "$PACK" --in-place --threads 1 \
  >"$WORK/install.log" 2>&1; then
  cat "$WORK/install.log"
  fail "setup: meswitch demo install --pack $PACK"
fi
pass "setup: demo pack installed into a temporary MESWITCH_HOME in $((SECONDS - t0)) s"

# Start the server; the port comes from its "listening on" line.
"$MESWITCH" serve --port 0 --device cpu --threads 2 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!

alive() {  # the server runs (not exited, not a zombie waiting to be reaped)
  [ -r "/proc/$SERVER_PID/stat" ] || return 1
  local state
  state=$(sed 's/.*) //' "/proc/$SERVER_PID/stat" | cut -d' ' -f1)
  [ "$state" != Z ] && [ "$state" != X ]
}

BASE_URL=""
deadline=$((SECONDS + 60))
while [ -z "$BASE_URL" ]; do
  BASE_URL=$(sed -n 's|^listening on \(http://[^ ]*/v1\)$|\1|p' "$WORK/serve.out" | head -n 1)
  [ -n "$BASE_URL" ] && break
  alive || fail "serve: meswitch serve exited before it listened"
  [ $SECONDS -lt $deadline ] || fail "serve: no 'listening on' line within 60 s"
  sleep 0.1
done
ROOT=${BASE_URL%/v1}
pass "serve: listening on $BASE_URL"

# GET /health: 503 while the engine loads, then 200.
deadline=$((SECONDS + 120))
while :; do
  code=$(curl -s -o "$WORK/health.json" -w '%{http_code}' --max-time 5 "$ROOT/health")
  [ "$code" = 200 ] && break
  case "$code" in 503 | 000) ;; *) fail "health: GET /health answered $code: $(cat "$WORK/health.json")" ;; esac
  alive || fail "health: meswitch serve exited while the engine loaded"
  [ $SECONDS -lt $deadline ] || fail "health: GET /health not 200 within 120 s (last: $code)"
  sleep 0.1
done
pass "health: GET /health is 200 ($(cat "$WORK/health.json"))"

# The texts below (S_TEXT, C_TEXT) are JSON strings, quotes and escapes included.
# curl -> FILE, HTTP status on stdout; a transport error fails.
post() {  # post PATH BODY OUT [curl args]
  local path=$1 body=$2 out=$3
  shift 3
  curl -sS --max-time 120 -o "$out" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$body" "$@" "$BASE_URL$path"
}
json_quote() { perl -MJSON::PP -e 'print JSON::PP->new->allow_nonref->encode($ARGV[0])' "$1"; }
PROMPT_JSON=$(json_quote "$PROMPT")
REQUEST="\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":$PROMPT_JSON}],\"temperature\":0,\"max_tokens\":16"

# A streamed chat completion: the raw SSE framing and every chunk.
code=$(post /chat/completions "{$REQUEST,\"stream\":true}" "$WORK/sse.txt" -N -D "$WORK/sse.headers") \
  || fail "curl stream: curl failed"
[ "$code" = 200 ] || fail "curl stream: status $code: $(head -c 2000 "$WORK/sse.txt")"
grep -qi '^content-type: *text/event-stream' "$WORK/sse.headers" ||
  fail "curl stream: Content-Type is not text/event-stream: $(cat "$WORK/sse.headers")"
if ! STREAMED=$(perl -MJSON::PP -e '
  my ($file, $expert) = @ARGV;
  open my $f, "<:raw", $file or die "$file: $!\n"; local $/; my $raw = <$f>;
  # Every event: one "data: " line, then a blank line; nothing else (no CR, no other fields).
  $raw =~ /\A(?:data: [^\n]*\n\n)+\z/ or die "not a sequence of \"data: ...\" lines each followed by a blank line:\n$raw\n";
  my @data = map { substr($_, 6) } grep { length } split /\n/, $raw;
  $data[-1] eq "[DONE]" or die "the last event is not data: [DONE] but data: $data[-1]\n";
  pop @data;
  @data >= 2 or die "fewer than two JSON chunks before [DONE]\n";
  my ($id, $text, $last_finish, @with_choices) = (undef, "");
  for my $i (0 .. $#data) {
    $data[$i] eq "[DONE]" and die "data: [DONE] before the last event\n";
    my $c = eval { decode_json($data[$i]) } or die "event $i is not JSON: $data[$i]\n";
    ref $c eq "HASH" or die "event $i is not a JSON object: $data[$i]\n";
    ($c->{object} // "") eq "chat.completion.chunk" or die "event $i: object is not chat.completion.chunk: $data[$i]\n";
    $id //= $c->{id};
    defined $id && ($c->{id} // "") eq $id or die "event $i: id differs from the first chunk: $data[$i]\n";
    ($c->{model} // "") eq $expert or die "event $i: model is not $expert: $data[$i]\n";
    my $ch = $c->{choices};
    ref $ch eq "ARRAY" or die "event $i: no choices array: $data[$i]\n";
    unless (@$ch) { $i == 0 and die "the first chunk has no choices: $data[$i]\n"; next; }
    my $d = $ch->[0]{delta};
    ref $d eq "HASH" or die "event $i: no delta object: $data[$i]\n";
    if ($i == 0) { ($d->{role} // "") eq "assistant" or die "the first delta has no role assistant: $data[$i]\n"; }
    elsif (exists $d->{role}) { die "event $i: a role in a later delta: $data[$i]\n"; }
    $text .= $d->{content} if defined $d->{content};
    my $fin = $ch->[0]{finish_reason};
    defined $last_finish and die "event $i: a chunk after the one with finish_reason: $data[$i]\n";
    $last_finish = $fin if defined $fin;
  }
  defined $last_finish or die "no chunk carries a finish_reason\n";
  $last_finish =~ /\A(?:stop|length)\z/ or die "finish_reason is $last_finish\n";
  print scalar(@data), "\t$last_finish\t", JSON::PP->new->ascii->allow_nonref->encode($text);
' "$WORK/sse.txt" "$ARITHMETIC" 2>"$WORK/sse.err"); then
  fail "curl stream: $(cat "$WORK/sse.err")"
fi
IFS=$'\t' read -r S_CHUNKS S_FINISH S_TEXT <<<"$STREAMED"
case "$S_TEXT" in *"$EXPECT"*) ;; *) fail "curl stream: the answer to '$PROMPT' does not hold '$EXPECT': $S_TEXT" ;; esac
pass "curl stream: $S_CHUNKS chunks + data: [DONE], SSE framing, role first, finish_reason $S_FINISH last, model $ARITHMETIC, $S_TEXT"

# The same, not streamed.
code=$(post /chat/completions "{$REQUEST}" "$WORK/chat.json") || fail "curl chat: curl failed"
[ "$code" = 200 ] || fail "curl chat: status $code: $(cat "$WORK/chat.json")"
if ! CHAT=$(perl -MJSON::PP -e '
  my ($file, $expert) = @ARGV;
  open my $f, "<:raw", $file or die "$file: $!\n"; local $/; my $raw = <$f>;
  my $r = eval { decode_json($raw) } or die "not JSON: $raw\n";
  ($r->{object} // "") eq "chat.completion" or die "object is not chat.completion: $raw\n";
  ($r->{model} // "") eq $expert or die "model is not $expert: $raw\n";
  my $m = $r->{meswitch};
  ref $m eq "HASH" && ($m->{expert} // "") eq $expert or die "meswitch.expert is not $expert: $raw\n";
  defined $m->{confidence} && ref $m->{alternatives} eq "ARRAY" or die "meswitch lacks confidence or alternatives: $raw\n";
  my $c = $r->{choices}[0] or die "no choices: $raw\n";
  ($c->{message}{role} // "") eq "assistant" or die "the message role is not assistant: $raw\n";
  my $u = $r->{usage} // {};
  for my $k (qw(prompt_tokens completion_tokens)) {
    ($u->{$k} // "") =~ /\A[1-9][0-9]*\z/ or die "usage.$k is not a positive integer: $raw\n";
  }
  print "$c->{finish_reason}\t$m->{confidence}\t", JSON::PP->new->ascii->allow_nonref->encode($c->{message}{content});
' "$WORK/chat.json" "$ARITHMETIC" 2>"$WORK/chat.err"); then
  fail "curl chat: $(cat "$WORK/chat.err")"
fi
IFS=$'\t' read -r C_FINISH C_CONF C_TEXT <<<"$CHAT"
case "$C_TEXT" in *"$EXPECT"*) ;; *) fail "curl chat: the answer to '$PROMPT' does not hold '$EXPECT': $C_TEXT" ;; esac
[ "$C_TEXT" = "$S_TEXT" ] || fail "curl chat: not streamed $C_TEXT differs from streamed $S_TEXT"
[ "$C_FINISH" = "$S_FINISH" ] || fail "curl chat: finish_reason $C_FINISH differs from streamed $S_FINISH"
pass "curl chat: $ARITHMETIC (confidence $C_CONF) answered $C_TEXT, the same as streamed"

# GET /v1/models
code=$(curl -sS --max-time 30 -o "$WORK/models.json" -w '%{http_code}' "$BASE_URL/models") ||
  fail "curl models: curl failed"
[ "$code" = 200 ] || fail "curl models: status $code: $(cat "$WORK/models.json")"
if ! IDS=$(perl -MJSON::PP -e '
  my ($file, @want) = @ARGV;
  open my $f, "<:raw", $file or die "$file: $!\n"; local $/; my $raw = <$f>;
  my $r = eval { decode_json($raw) } or die "not JSON: $raw\n";
  ($r->{object} // "") eq "list" && ref $r->{data} eq "ARRAY" or die "not a list: $raw\n";
  my %have = map { ($_->{object} // "") eq "model" ? ($_->{id} => 1) : () } @{$r->{data}};
  $have{$_} or die "no model $_ in: $raw\n" for @want;
  print join(", ", map { $_->{id} } @{$r->{data}});
' "$WORK/models.json" auto "$BASE_NAME" $EXPERTS 2>"$WORK/models.err"); then
  fail "curl models: $(cat "$WORK/models.err")"
fi
pass "curl models: $IDS"

# The OpenAI Node library.
NODE_SKIP=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  NODE_SKIP="node or npm not found (packaging/install-deps.sh installs nodejs and npm)"
elif [ -f "$NODE_DIR/node_modules/openai/package.json" ]; then
  pass "node: reusing the openai package in $NODE_DIR"
else
  mkdir -p "$NODE_DIR" || fail "node: cannot make $NODE_DIR"
  # A package.json of its own, so that npm installs here and not into a folder above.
  [ -f "$NODE_DIR/package.json" ] ||
    echo '{"name": "meswitch-api-clients-test", "private": true}' >"$NODE_DIR/package.json"
  t0=$SECONDS
  if (cd "$NODE_DIR" && timeout 180 npm install --no-audit --no-fund --fetch-retries=1 openai) \
    >"$WORK/npm.log" 2>&1 && [ -f "$NODE_DIR/node_modules/openai/package.json" ]; then
    pass "node: npm installed the openai package into $NODE_DIR in $((SECONDS - t0)) s"
  else
    tail -n 20 "$WORK/npm.log"
    NODE_SKIP="npm install openai failed in $NODE_DIR (no network?)"
  fi
fi
if [ -z "$NODE_SKIP" ]; then
  timeout 180 node "$CLIENT" "$BASE_URL" "$NODE_DIR" "$PACK" "$PROMPT" "$EXPECT" ||
    fail "node: openai_client.mjs failed (exit $?)"
fi

# Stop the server: SIGTERM, and it exits 0 within 30 s.
kill -TERM "$SERVER_PID"
(sleep 30 && kill -KILL "$SERVER_PID") >/dev/null 2>&1 &
WATCHDOG=$!
wait "$SERVER_PID"
rc=$?
kill "$WATCHDOG" 2>/dev/null
wait "$WATCHDOG" 2>/dev/null
SERVER_PID=""
[ "$rc" -eq 0 ] || fail "stop: meswitch serve exited with status $rc after SIGTERM (137: killed after 30 s)"
grep -q 'SIGTERM: stopping' "$WORK/serve.err" || fail "stop: no 'SIGTERM: stopping' in the server log"
pass "stop: meswitch serve exited 0 after SIGTERM"

[ -z "$NODE_SKIP" ] || skip "$NODE_SKIP (the curl checks passed)"
echo "PASS test_api_clients"
exit 0
