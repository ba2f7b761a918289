#!/usr/bin/env bash
# Messaging benchmark (issue #5): class notices fanned out to 10,000 connected parents, a notice
# to one class under load, memory per idle connection, durable 1:1 messages with receipts, and
# catching up after a reconnect — Kongjian next to two peers started by this script and measured
# in the same run: a broadcast server on npm `ws` and socket.io rooms (tests/bench/peers/).
#
#   tests/bench/messaging.sh            # the figures the goals are about (≈ 10 minutes)
#   QUICK=1 tests/bench/messaging.sh    # a smoke run: 2,000 parents, short steps (≈ 2 minutes)
#
# Environment (QUICK=1 changes the defaults shown in brackets):
#   PARENTS=10000 [2000]  CLASS_SIZE=60 SEED=1     the district (ws-bench gen)
#   STEP_SECONDS=10 [3]   R1: seconds per step
#   START_RATE=25000 FACTOR=2 REFINE=3 [1] RETRIES=1 [0]   R1: the rate search (deliveries/s)
#   WARMUP=3 [1]          R1: unreported seconds before the first step
#   R2_SECONDS=20 [5] PROBE_RATE=10   R2: probes per second to one class, for this long
#   R2_RATE               R2: background deliveries/s (default: half of each target's own R1)
#   SETTLE=3 [1]          R4: seconds after connecting before reading VmRSS
#   R5_PAIRS=5000 [500] R5_SECONDS=20 [5] R5_WINDOW=1   R5: pairs, measured seconds, in flight
#   R6_RUNS=5 [3] R6_MESSAGES=1000   R6: runs (median reported) and messages missed per run
#   CLIENT_THREADS=2      listener threads of the load generator
#   PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL for R5 on PostgreSQL (SKIP_PG=1 skips)
#   SKIP_PEERS=1          measure Kongjian only
#   KONGJIAN_LOG          the server's log filter (default: the server's own default)
#   OUT=FILE.json         the raw numbers (default $CARGO_TARGET_DIR/bench/messaging-<time>.json)
#   SKIP_BUILD=1 KEEP=1 CARGO_TARGET_DIR   as in the other benchmarks
#
# Goals (issue text): R1 ≥ 300,000 deliveries/s with p99 publish→receive ≤ 50 ms, and ≥ 1.2× the
# best peer; R2 p99 ≤ 5 ms to the last parent of a 60-parent class while R1 runs at half load;
# R4 ≤ 8 KiB of server memory per idle authenticated connection and ≤ 0.5× the best peer;
# R5 ≥ 20,000 durable messages/s on SQLite (PostgreSQL reported); R6 ≤ 20 ms to catch up 1,000
# missed messages. Also reported: the server's CPU time per delivery.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${QUICK:-}" ]; then
    PARENTS=${PARENTS:-2000} STEP_SECONDS=${STEP_SECONDS:-3} REFINE=${REFINE:-1}
    RETRIES=${RETRIES:-0} WARMUP=${WARMUP:-1} R2_SECONDS=${R2_SECONDS:-5} SETTLE=${SETTLE:-1}
    R5_PAIRS=${R5_PAIRS:-500} R5_SECONDS=${R5_SECONDS:-5} R6_RUNS=${R6_RUNS:-3}
fi
PARENTS=${PARENTS:-10000}
CLASS_SIZE=${CLASS_SIZE:-60}
SEED=${SEED:-1}
STEP_SECONDS=${STEP_SECONDS:-10}
START_RATE=${START_RATE:-25000}
FACTOR=${FACTOR:-2}
REFINE=${REFINE:-3}
RETRIES=${RETRIES:-1}
WARMUP=${WARMUP:-3}
R2_SECONDS=${R2_SECONDS:-20}
PROBE_RATE=${PROBE_RATE:-10}
R2_RATE=${R2_RATE:-}
SETTLE=${SETTLE:-3}
R5_PAIRS=${R5_PAIRS:-5000}
R5_SECONDS=${R5_SECONDS:-20}
R5_WINDOW=${R5_WINDOW:-1}
R6_RUNS=${R6_RUNS:-5}
R6_MESSAGES=${R6_MESSAGES:-1000}
CLIENT_THREADS=${CLIENT_THREADS:-2}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PART_TIMEOUT=${PART_TIMEOUT:-3600}
GOAL_R1_RATE=300000
GOAL_R1_RATIO=1.2
GOAL_R2_MS=5
GOAL_R4_KIB=8
GOAL_R4_RATIO=0.5
GOAL_R5_RATE=20000
GOAL_R6_MS=20

# shellcheck source=common.sh
. "$ROOT/tests/bench/common.sh"
need_tool jq jq
need_tool curl curl
[ -n "${SKIP_PG:-}" ] || need_tool psql postgresql-client
if [ -z "${SKIP_PEERS:-}" ]; then
    command -v node >/dev/null 2>&1 || die "node is missing (Node.js 20 or later runs the peers)"
    command -v npm >/dev/null 2>&1 || die "npm is missing (it installs the peers' packages)"
fi
for v in PARENTS CLASS_SIZE STEP_SECONDS R2_SECONDS R5_PAIRS R5_SECONDS R5_WINDOW R6_RUNS R6_MESSAGES CLIENT_THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done

# 10,000 sockets live in the load generator and 10,000 in the server under test.
NEED_FILES=$((PARENTS + 2048))
HARD=$(ulimit -Hn)
if [ "$HARD" != unlimited ] && [ "$HARD" -lt "$NEED_FILES" ]; then
    ulimit -n "$HARD"
    say "note: at most $HARD open files per process; $PARENTS parents need about $NEED_FILES"
else
    ulimit -n "$NEED_FILES"
fi

# ---------------------------------------------------------------- build, peers' packages
build_release
BIN=$TARGET/release/kongjian
LOAD=$TARGET/release/ws-bench
for b in "$BIN" "$LOAD"; do [ -x "$b" ] || die "$b is missing"; done
PEERS=$ROOT/tests/bench/peers
if [ -z "${SKIP_PEERS:-}" ]; then
    say "installing the peers' packages (npm ci --prefix tests/bench/peers)…"
    npm ci --prefix "$PEERS" --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed in $PEERS"
fi
OUT=${OUT:-$TARGET/bench/messaging-$(date +%Y%m%dT%H%M%S).json}
mkdir -p "$(dirname "$OUT")"

# ---------------------------------------------------------------- scratch space and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kj-messaging-bench.XXXXXX")
PIDS=()
PG_DB=
psql_admin() { psql "$PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 "$@"; }
stop_pid() { # PID: SIGTERM, wait
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ -n "$PG_DB" ]; then
        psql_admin -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    if [ -n "${KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME LOGFILE COMMAND...: sets STARTED_URL and STARTED_PID
start_server() {
    local name=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    local i addr=
    for i in $(seq 1 300); do
        addr=$(grep -ao 'listening on [a-z:/]*[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/^listening on \(http:\/\/\)\{0,1\}//' || true)
        [ -n "$addr" ] && break
        kill -0 "$STARTED_PID" 2>/dev/null || { tail -n 40 "$log" >&2; die "$name exited before listening"; }
        sleep 0.1
    done
    [ -n "$addr" ] || { tail -n 40 "$log" >&2; die "$name did not start listening within 30 s"; }
    STARTED_URL=http://$addr
}
stop_server() { # PID
    stop_pid "$1"
    local keep=() pid
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
}

# part NAME COMMAND...: run a ws-bench measurement; its JSON goes to $TMP/NAME.json ("null" when
# it failed, so that one broken part does not lose the others), its lines to the terminal.
part() {
    local name=$1
    shift
    say
    if timeout "$PART_TIMEOUT" "$@" >"$TMP/$name.json" 2> >(tee "$TMP/$name.log" >&2); then
        return 0
    fi
    say "$name FAILED (its log: $TMP/$name.log)"
    echo null >"$TMP/$name.json"
}

# Kongjian on a fresh database: import the district, create tokens, serve.
# kongjian_up LABEL DATABASE_URL_OR_EMPTY: sets KJ_URL, KJ_PID, TOKENS
kongjian_up() {
    local label=$1 db=$2 data=$TMP/data-$1
    local env=(KONGJIAN_DATA_DIR="$data" KONGJIAN_DEMO=off KONGJIAN_QUIET_HOURS=off
        KONGJIAN_MESSAGE_RATE=1000000 KONGJIAN_NOTICE_RATE=1000000)
    [ -n "$db" ] && env+=(KONGJIAN_DATABASE_URL="$db")
    [ -n "${KONGJIAN_LOG:-}" ] && env+=(KONGJIAN_LOG="$KONGJIAN_LOG")
    say "importing the district into Kongjian ($label)…"
    env "${env[@]}" "$BIN" roster import "$PKG" --json >"$TMP/import-$label.json" 2>"$TMP/import-$label.err" ||
        { head -c 4000 "$TMP/import-$label.err" >&2; die "the roster import ($label) failed"; }
    [ "$(jq -r .outcome "$TMP/import-$label.json")" = imported ] ||
        die "import ($label): $(jq -c '{outcome, errors: (.errors | length)}' "$TMP/import-$label.json")"
    TOKENS=$TMP/tokens-$label.csv
    "$LOAD" tokens --database-url "${db:-sqlite://$data/kongjian.db?mode=rwc}" --out "$TOKENS" >/dev/null ||
        die "ws-bench tokens ($label) failed"
    start_server "kongjian ($label)" "$TMP/server-$label.log" env "${env[@]}" KONGJIAN_BIND=127.0.0.1:0 "$BIN" serve
    KJ_URL=$STARTED_URL
    KJ_PID=$STARTED_PID
    local i
    for i in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$KJ_URL/healthz")" = 200 ] && return 0
        sleep 0.1
    done
    die "$KJ_URL/healthz did not answer 200 within 30 s"
}

fanout_args() { # the R4/R1/R2 settings, the same for every target
    local args=(fanout --run r4,r1,r2 --settle-seconds "$SETTLE" --warmup-seconds "$WARMUP"
        --step-seconds "$STEP_SECONDS" --start "$START_RATE" --factor "$FACTOR" --refine "$REFINE"
        --retries "$RETRIES" --r2-seconds "$R2_SECONDS" --probe-rate "$PROBE_RATE"
        --probe-class-size "$CLASS_SIZE" --client-threads "$CLIENT_THREADS")
    [ -n "$R2_RATE" ] && args+=(--background-rate "$R2_RATE")
    printf '%s\n' "${args[@]}"
}
mapfile -t FANOUT_ARGS < <(fanout_args)

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
    say "note: load average $LOAD_START on $(nproc) CPUs before the measurements: other work competes for the CPUs"

# ---------------------------------------------------------------- the district
PKG=$TMP/district
"$LOAD" gen --out "$PKG" --parents "$PARENTS" --class-size "$CLASS_SIZE" --seed "$SEED" >"$TMP/district.json" ||
    die "ws-bench gen failed"

# ---------------------------------------------------------------- Kongjian on SQLite
kongjian_up sqlite ""
part kongjian-fanout "$LOAD" "${FANOUT_ARGS[@]}" --target kongjian --url "$KJ_URL" --tokens "$TOKENS" --pid "$KJ_PID"
part kongjian-r6 "$LOAD" r6 --url "$KJ_URL" --tokens "$TOKENS" --pid "$KJ_PID" --runs "$R6_RUNS" --messages "$R6_MESSAGES"
part kongjian-r5 "$LOAD" r5 --url "$KJ_URL" --tokens "$TOKENS" --pid "$KJ_PID" --pairs "$R5_PAIRS" \
    --seconds "$R5_SECONDS" --window "$R5_WINDOW"
stop_server "$KJ_PID"
SQLITE_TOKENS=$TOKENS

# ---------------------------------------------------------------- the peers, same settings
for peer in ws socketio; do
    if [ -n "${SKIP_PEERS:-}" ]; then
        echo null >"$TMP/$peer-fanout.json"
        continue
    fi
    script=ws-broadcast.mjs
    [ "$peer" = socketio ] && script=socketio-rooms.mjs
    say
    say "starting the $peer peer (node $script)…"
    start_server "$peer peer" "$TMP/$peer.log" node "$PEERS/$script" 0
    part "$peer-fanout" "$LOAD" "${FANOUT_ARGS[@]}" --target "$peer" --url "$STARTED_URL" \
        --tokens "$SQLITE_TOKENS" --pid "$STARTED_PID"
    stop_server "$STARTED_PID"
done

# ---------------------------------------------------------------- Kongjian on PostgreSQL: R5
if [ -z "${SKIP_PG:-}" ]; then
    psql_admin -c 'SELECT 1' >/dev/null || die "PostgreSQL is not reachable at $PG_URL"
    PG_DB=kj_msg_bench_$$
    PGOPTIONS='-c client_min_messages=warning' psql_admin -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" \
        -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    say
    kongjian_up postgres "$PG_URL/$PG_DB"
    part kongjian-pg-r5 "$LOAD" r5 --url "$KJ_URL" --tokens "$TOKENS" --pid "$KJ_PID" --pairs "$R5_PAIRS" \
        --seconds "$R5_SECONDS" --window "$R5_WINDOW"
    stop_server "$KJ_PID"
else
    echo null >"$TMP/kongjian-pg-r5.json"
fi

# ---------------------------------------------------------------- report
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
jq -n \
    --arg when "$(date -Iseconds)" --arg host "$(uname -n)" --argjson cpus "$(nproc)" \
    --arg loadavg_start "$LOAD_START" --arg loadavg_end "$LOAD_END" --arg kongjian "$BIN" \
    --arg node "$(node --version 2>/dev/null || echo none)" \
    --argjson peers "$(jq -c '.dependencies' "$PEERS/package.json")" \
    --argjson district "$(cat "$TMP/district.json")" \
    --argjson settings "$(jq -n --argjson p "$PARENTS" --argjson c "$CLASS_SIZE" --argjson s "$STEP_SECONDS" \
        --argjson start "$START_RATE" --argjson f "$FACTOR" --argjson r "$REFINE" --argjson rt "$RETRIES" \
        --argjson r2 "$R2_SECONDS" --argjson pr "$PROBE_RATE" --arg r2rate "$R2_RATE" --argjson pairs "$R5_PAIRS" \
        --argjson r5s "$R5_SECONDS" --argjson w "$R5_WINDOW" --argjson runs "$R6_RUNS" --argjson m "$R6_MESSAGES" \
        --arg quick "${QUICK:-}" \
        '{parents: $p, class_size: $c, step_seconds: $s, start_rate: $start, factor: $f, refine: $r, retries: $rt,
          r2_seconds: $r2, probe_rate: $pr, r2_background_rate: (if $r2rate == "" then "half of R1" else ($r2rate | tonumber) end),
          r5_pairs: $pairs, r5_seconds: $r5s, r5_window: $w, r6_runs: $runs, r6_messages: $m, quick: ($quick != "")}')" \
    --slurpfile kf "$TMP/kongjian-fanout.json" --slurpfile r5 "$TMP/kongjian-r5.json" \
    --slurpfile r6 "$TMP/kongjian-r6.json" --slurpfile pg "$TMP/kongjian-pg-r5.json" \
    --slurpfile ws "$TMP/ws-fanout.json" --slurpfile sio "$TMP/socketio-fanout.json" \
    '{when: $when, host: $host, cpus: $cpus, loadavg_at_start: $loadavg_start, loadavg_at_end: $loadavg_end,
      kongjian: $kongjian, node: $node, peers: $peers, district: $district, settings: $settings,
      results: {kongjian: {fanout: $kf[0], r5_sqlite: $r5[0], r6: $r6[0], r5_postgres: $pg[0]},
                ws: {fanout: $ws[0]}, socketio: {fanout: $sio[0]}}}' >"$OUT"

# One figure: jq FILTER over the results, "-" when missing.
fig() { jq -r "($1) // \"-\" | if type == \"number\" then (. * 100 | round / 100 | tostring) else . end" "$OUT"; }
num() { case $1 in '' | - | null) return 1 ;; *) return 0 ;; esac; }
ratio() { if num "$1" && num "$2"; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; else echo -; fi; }
verdict() { # CONDITION (awk expression over a, b) A B
    if num "$2" && num "${3:-0}"; then
        awk -v a="$2" -v b="${3:-0}" "BEGIN { exit !($1) }" && echo PASS || echo FAIL
    else echo "n/a"; fi
}

K=.results.kongjian.fanout W=.results.ws.fanout S=.results.socketio.fanout
R1_K=$(fig "$K.r1.best_deliveries_per_s") R1_W=$(fig "$W.r1.best_deliveries_per_s") R1_S=$(fig "$S.r1.best_deliveries_per_s")
R1_BEST_PEER=$(printf '%s\n' "$R1_W" "$R1_S" | grep -v '^-$' | sort -g | tail -n 1 || true)
R4_K=$(fig "$K.r4.kib_per_connection") R4_W=$(fig "$W.r4.kib_per_connection") R4_S=$(fig "$S.r4.kib_per_connection")
R4_BEST_PEER=$(printf '%s\n' "$R4_W" "$R4_S" | grep -v '^-$' | sort -g | head -n 1 || true)
R2_K=$(fig "$K.r2.last_parent_p99_ms")
R5_K=$(fig .results.kongjian.r5_sqlite.committed_per_s) R5_PG=$(fig .results.kongjian.r5_postgres.committed_per_s)
R6_K=$(fig .results.kongjian.r6.median_ms)
R1_RATIO=$(ratio "$R1_K" "${R1_BEST_PEER:--}")
R4_RATIO=$(ratio "$R4_K" "${R4_BEST_PEER:--}")

echo
echo "Messaging benchmark — $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $LOAD_START before, $LOAD_END after${QUICK:+; QUICK smoke run}"
echo "district: $(jq -r '"\(.parents) parents (\(.students) students, \(.classes) classes, \(.teachers) teachers, \(.schools) schools)"' "$TMP/district.json"); peers: node $(node --version 2>/dev/null || echo -), $(jq -r '.dependencies | to_entries | map("\(.key) \(.value)") | join(", ")' "$PEERS/package.json")"
echo "the load generator shares the $(nproc) CPUs with the server under test: see load-generator CPU in the JSON"
echo
# (labels in ASCII: printf pads by bytes)
row() { printf '%-46s %14s %14s %14s %12s\n' "$@"; }
row figure kongjian 'ws (peer)' socket.io 'x best peer'
row "R1 deliveries/s at p99 <= 50 ms" "$R1_K" "$R1_W" "$R1_S" "$R1_RATIO"
row "   p99 ms at that rate" "$(fig "$K.r1.best.p99_ms")" "$(fig "$W.r1.best.p99_ms")" "$(fig "$S.r1.best.p99_ms")"
row "   server CPU us per delivery" "$(fig "$K.r1.best.server_cpu_us_per_delivery")" "$(fig "$W.r1.best.server_cpu_us_per_delivery")" "$(fig "$S.r1.best.server_cpu_us_per_delivery")"
row "   load generator CPU s in that step" "$(fig "$K.r1.best.client_cpu_s")" "$(fig "$W.r1.best.client_cpu_s")" "$(fig "$S.r1.best.client_cpu_s")"
row "R2 p99 ms to the last parent of a class" "$R2_K" "$(fig "$W.r2.last_parent_p99_ms")" "$(fig "$S.r2.last_parent_p99_ms")"
row "   background deliveries/s meanwhile" "$(fig "$K.r2.background_offered_per_s")" "$(fig "$W.r2.background_offered_per_s")" "$(fig "$S.r2.background_offered_per_s")"
row "R4 KiB per idle connection" "$R4_K" "$R4_W" "$R4_S" "$R4_RATIO"
row "   connections measured" "$(fig "$K.r4.connections")" "$(fig "$W.r4.connections")" "$(fig "$S.r4.connections")"
row "R5 messages committed/s, SQLite" "$R5_K"
row "R5 messages committed/s, PostgreSQL" "$R5_PG"
row "   sent p99 ms, SQLite / PostgreSQL" "$(fig .results.kongjian.r5_sqlite.sent_ack.p99_ms) / $(fig .results.kongjian.r5_postgres.sent_ack.p99_ms)"
row "   server CPU us per message, SQLite / PG" "$(fig .results.kongjian.r5_sqlite.server_cpu_us_per_message) / $(fig .results.kongjian.r5_postgres.server_cpu_us_per_message)"
row "   received live by the other side, % (SQLite / PG)" "$(fig '.results.kongjian.r5_sqlite | select(. != null) | 100 * .received_by_other_side / ([.committed, 1] | max)') / $(fig '.results.kongjian.r5_postgres | select(. != null) | 100 * .received_by_other_side / ([.committed, 1] | max)')"
row "   sockets closed by the server, SQLite / PG" "$(fig .results.kongjian.r5_sqlite.sockets_dropped_total) / $(fig .results.kongjian.r5_postgres.sockets_dropped_total)"
row "R6 ms to catch up $R6_MESSAGES messages (median)" "$R6_K"
echo
echo "goals:"
goal() { printf '  %-5s %s\n' "$1" "$2"; }
goal "$(verdict "a >= $GOAL_R1_RATE" "$R1_K")" "R1 ≥ $GOAL_R1_RATE deliveries/s with p99 ≤ 50 ms"
goal "$(verdict "a >= $GOAL_R1_RATIO" "$R1_RATIO")" "R1 ≥ $GOAL_R1_RATIO × the best peer"
goal "$(verdict "a <= $GOAL_R2_MS && b == 0" "$R2_K" "$(fig "$K.r2.incomplete")")" "R2 p99 ≤ $GOAL_R2_MS ms to the last parent of a $CLASS_SIZE-parent class, R1 at half load"
goal "$(verdict "a <= $GOAL_R4_KIB" "$R4_K")" "R4 ≤ $GOAL_R4_KIB KiB of server memory per idle authenticated connection"
goal "$(verdict "a <= $GOAL_R4_RATIO" "$R4_RATIO")" "R4 ≤ $GOAL_R4_RATIO × the best peer"
goal "$(verdict "a >= $GOAL_R5_RATE && b == 0" "$R5_K" "$(fig '.results.kongjian.r5_sqlite | .errors + .sockets_dropped_total')")" "R5 ≥ $GOAL_R5_RATE durable messages/s with receipts on SQLite ($R5_PAIRS pairs)"
goal "$(verdict "a <= $GOAL_R6_MS" "$R6_K")" "R6 ≤ $GOAL_R6_MS ms of server time to catch up $R6_MESSAGES missed messages"
if [ -n "${QUICK:-}" ]; then
    echo "  (QUICK: $PARENTS parents and short steps — a smoke run, not the figures the goals are about)"
fi
echo
echo "raw numbers: $OUT"
