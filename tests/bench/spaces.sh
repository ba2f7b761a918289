#!/usr/bin/env bash
# Spaces benchmark (issue #7): a pupil's space page (`GET /space`, signed in with the session
# cookie, 20 lessons and 20 assignments in it, some handed in and returned with feedback) next to
# the peer, a bare axum "hello" handler (tests/src/bin/hello.rs), with the same wrk settings in
# the same run; then the page alone under an open-loop load of 1,000 pages/s (rate-bench).
#
#   tests/bench/spaces.sh                       # RUNS=3, wrk 10 s, 1,000 pages/s for 20 s
#   RUNS=1 WRK_SECONDS=5 SECONDS_AT_RATE=10 tests/bench/spaces.sh   # a quick look
#
# Environment:
#   RUNS=3                         wrk repetitions (alternating page and peer); medians reported
#   WRK_THREADS=2 WRK_CONNECTIONS=64 WRK_SECONDS=10   wrk settings, the same for both rows
#   RATE=1000 SECONDS_AT_RATE=20 CLIENTS=64            the open-loop row
#   SEED=1                         the district (one school of tests/src/bin/roster-gen.rs)
#   OUT=FILE.json                  raw numbers (default $CARGO_TARGET_DIR/bench/spaces-<time>.json)
#   SKIP_BUILD=1 KEEP=1 CARGO_TARGET_DIR   as in the other benchmarks
#
# Goals (issue text): the page renders at ≥ 0.3× the requests per second of the hello peer in
# the same run, and p99 ≤ 20 ms at 1,000 pages/s.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-3}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_SECONDS=${WRK_SECONDS:-10}
RATE=${RATE:-1000}
SECONDS_AT_RATE=${SECONDS_AT_RATE:-20}
CLIENTS=${CLIENTS:-64}
SEED=${SEED:-1}
PASSWORD=${PASSWORD:-chun-mian-bu-jue-xiao-2026}
GOAL_RATIO=0.3
GOAL_P99_MS=20

# shellcheck source=common.sh
. "$ROOT/tests/bench/common.sh"
need_tool jq jq
need_tool curl curl
need_tool wrk wrk

build_release
BIN=$TARGET/release/kongjian
GEN=$TARGET/release/roster-gen
HELLO=$TARGET/release/hello
LOAD=$TARGET/release/rate-bench
for b in "$BIN" "$GEN" "$HELLO" "$LOAD"; do [ -x "$b" ] || die "$b is missing"; done
OUT=${OUT:-$TARGET/bench/spaces-$(date +%Y%m%dT%H%M%S).json}
mkdir -p "$(dirname "$OUT")"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kj-spaces-bench.XXXXXX")
DATA=$TMP/data
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
kj() { KONGJIAN_DATA_DIR="$DATA" KONGJIAN_DEMO=off "$BIN" "$@"; }

# ---------------------------------------------------------------- the district
PKG=$TMP/district
say "generating one school (seed $SEED) and importing it (SQLite)…"
"$GEN" --out "$PKG" --schools 1 --seed "$SEED" >/dev/null
kj roster import "$PKG" --json >"$TMP/import.json" 2>"$TMP/import.err" ||
    { head -c 4000 "$TMP/import.err" >&2; die "the roster import failed"; }
column() { head -n 1 "$1" | tr -d '\r' | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
E=$PKG/enrollments.csv
CLASS=$(awk -F, -v t="$(column "$PKG/classes.csv" classType)" -v i="$(column "$PKG/classes.csv" sourcedId)" \
    'NR > 1 && $t == "homeroom" { print $i; exit }' "$PKG/classes.csv")
ec=$(column "$E" classSourcedId) eu=$(column "$E" userSourcedId) er=$(column "$E" role)
TEACHER=$(awk -F, -v c="$ec" -v u="$eu" -v r="$er" -v k="$CLASS" 'NR > 1 && $c == k && $r == "teacher" { print $u; exit }' "$E")
PUPIL=$(awk -F, -v c="$ec" -v u="$eu" -v r="$er" -v k="$CLASS" 'NR > 1 && $c == k && $r == "student" { print $u; exit }' "$E")
[ -n "$CLASS" ] && [ -n "$TEACHER" ] && [ -n "$PUPIL" ] || die "no homeroom with a teacher and a pupil in $PKG"
say "class $CLASS, teacher $TEACHER, pupil $PUPIL"
kj codes issue --class "$CLASS" --json >"$TMP/codes.json" 2>"$TMP/codes.err" || { cat "$TMP/codes.err" >&2; die "codes issue failed"; }
CODE=$(jq -r --arg p "$PUPIL" 'map(select(.sourced_id == $p)) | .[0].code' "$TMP/codes.json")
[ -n "$CODE" ] && [ "$CODE" != null ] || die "no code for $PUPIL"
T_TOKEN=$(kj token create --user "$TEACHER" --name spaces-bench 2>"$TMP/token.err") || { cat "$TMP/token.err" >&2; die "token create failed"; }
P_TOKEN=$(kj token create --user "$PUPIL" --name spaces-bench 2>>"$TMP/token.err") || { cat "$TMP/token.err" >&2; die "token create failed"; }

# ---------------------------------------------------------------- the servers
start_server() { # NAME LOGFILE COMMAND... ; sets STARTED_URL
    local name=$1 log=$2 i addr=
    shift 2
    "$@" >"$log" 2>&1 &
    PIDS+=($!)
    local pid=$!
    for i in $(seq 1 300); do
        addr=$(grep -ao 'listening on [a-z:/]*[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/^listening on \(http:\/\/\)\{0,1\}//' || true)
        [ -n "$addr" ] && break
        kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; die "$name exited before listening"; }
        sleep 0.1
    done
    [ -n "$addr" ] || die "$name did not start listening within 30 s"
    STARTED_URL=http://$addr
}
start_server kongjian "$TMP/server.log" env KONGJIAN_DATA_DIR="$DATA" KONGJIAN_DEMO=off KONGJIAN_BIND=127.0.0.1:0 \
    KONGJIAN_QUIET_HOURS=off "$BIN" serve
KJ_URL=$STARTED_URL
KJ_PID=${PIDS[-1]}
for i in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$KJ_URL/healthz")" = 200 ] && break
    [ "$i" = 300 ] && die "$KJ_URL/healthz did not answer 200 within 30 s"
    sleep 0.1
done
start_server hello "$TMP/hello.log" "$HELLO" 127.0.0.1:0
HELLO_URL=$STARTED_URL
HELLO_PID=${PIDS[-1]}

api() { # METHOD PATH TOKEN [JSON] → body on stdout; dies on a non-2xx answer
    local method=$1 path=$2 token=$3 body=${4:-} status
    local args=(-sS -o "$TMP/api.out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
    status=$(curl "${args[@]}" "$KJ_URL$path")
    case $status in 2??) cat "$TMP/api.out" ;; *) die "$method $path answered $status: $(head -c 600 "$TMP/api.out")" ;; esac
}

# ---------------------------------------------------------------- 20 lessons, 20 assignments
say "the teacher publishes 20 lessons and sets 20 assignments; the pupil hands in 10, 5 come back marked…"
for n in $(seq 1 20); do
    body=$(jq -nc --arg t "第 $n 课 二次函数的图像与性质" \
        --arg b "$(printf '## 学习目标\n\n1. 理解二次函数 y = ax² + bx + c 的图像。\n2. 会用配方法求顶点坐标。\n\n> 课前请预习教材第 %s 页。' "$n")" \
        '{title: $t, body: $b}')
    id=$(api POST /api/v1/lessons "$T_TOKEN" "$body" | jq -r .id)
    api POST "/api/v1/lessons/$id/publish" "$T_TOKEN" "$(jq -nc --arg c "$CLASS" '{classes: [$c]}')" >/dev/null
done
ASSIGNMENTS=()
for n in $(seq 1 20); do
    due=$(date -u -d "+$n days" +%Y-%m-%dT%H:%M:%SZ)
    body=$(jq -nc --arg c "$CLASS" --arg t "练习 $n：二次函数" --arg d "$due" \
        '{class: $c, title: $t, instructions: "完成课本练习题 1–5，写出解题过程。", due_at: $d, scale: "bands", accept_late: true}')
    ASSIGNMENTS+=("$(api POST /api/v1/assignments "$T_TOKEN" "$body" | jq -r .id)")
done
for n in $(seq 11 20); do
    sub=$(api POST "/api/v1/assignments/${ASSIGNMENTS[$((n - 1))]}/submissions" "$P_TOKEN" '{"text": "第一题：顶点坐标为 (1, -2)……"}' | jq -r .id)
    if [ "$n" -le 15 ]; then
        api POST "/api/v1/submissions/$sub/feedback" "$T_TOKEN" '{"comment": "思路清楚，注意书写规范。", "score": "良"}' >/dev/null
    fi
done

# ---------------------------------------------------------------- the pupil signs in
body=$(jq -nc --arg c "$CODE" --arg p "$PASSWORD" '{code: $c, password: $p}')
status=$(curl -sS -D "$TMP/login.headers" -o "$TMP/activate.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$KJ_URL/api/v1/auth/activate")
[ "$status" = 200 ] || die "activation of $PUPIL answered $status: $(head -c 500 "$TMP/activate.json")"
cookie_value() { tr -d '\r' <"$TMP/login.headers" | sed -n "s/^[Ss]et-[Cc]ookie: $1=\([^;]*\).*/\1/p" | tail -n 1; }
SESSION=$(cookie_value kj_session)
CSRF=$(cookie_value kj_csrf)
[ -n "$SESSION" ] || die "the sign-in set no kj_session cookie"
COOKIE="Cookie: kj_session=$SESSION${CSRF:+; kj_csrf=$CSRF}"
curl -sS -o "$TMP/space.html" -w '%{http_code}' -H "$COOKIE" "$KJ_URL/space" >"$TMP/space.status"
[ "$(cat "$TMP/space.status")" = 200 ] || die "GET /space answered $(cat "$TMP/space.status")"
LESSONS=$(grep -c 'href="/lessons/' "$TMP/space.html" || true)
ASSIGNED=$(grep -c 'data-assignment=' "$TMP/space.html" || true)
RETURNED=$(grep -c 'data-status="returned"' "$TMP/space.html" || true)
PAGE_BYTES=$(wc -c <"$TMP/space.html")
[ "$LESSONS" -ge 20 ] && [ "$ASSIGNED" = 20 ] && [ "$RETURNED" = 5 ] ||
    die "the page shows $LESSONS lesson links, $ASSIGNED assignments, $RETURNED returned (want ≥20, 20, 5)"
say "the page: $PAGE_BYTES bytes, $ASSIGNED assignments ($RETURNED returned), $LESSONS lesson links"

# ---------------------------------------------------------------- helpers
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
pass() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)
wrk_run() { # LABEL URL HEADER PID → RPS P50_MS P99_MS BAD SERVER_CPU
    local label=$1 url=$2 header=$3 pid=$4 out=$TMP/wrk-$1.txt t0 t1
    local args=(-t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency)
    [ -n "$header" ] && args+=(-H "$header")
    t0=$(cpu_ticks "$pid")
    wrk "${args[@]}" "$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed on $url"; }
    t1=$(cpu_ticks "$pid")
    SERVER_CPU=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v s="$WRK_SECONDS" 'BEGIN { printf "%.2f", (b - a) / hz / s }')
    RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    to_ms() { awk -v p="$1" '$1 == p { v = $2; n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) ; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }' "$out"; }
    P50_MS=$(to_ms 50%)
    P99_MS=$(to_ms 99%)
    local non2xx sock
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    sock=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
    BAD=$((${non2xx:-0} + ${sock:-0}))
    [ -n "$RPS" ] || { cat "$out" >&2; die "could not read wrk's output for $label"; }
}

# ---------------------------------------------------------------- 1. closed loop, next to hello
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "GET /space (cookie) and the hello peer: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s, alternating, $RUNS run(s)"
wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s -H "$COOKIE" "$KJ_URL/space" >/dev/null 2>&1 || true
wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d2s "$HELLO_URL/" >/dev/null 2>&1 || true
declare -a H_RPS H_P99 S_RPS S_P50 S_P99 S_BAD S_CPU
printf '%-4s %-18s %12s %9s %9s %8s %8s\n' run row 'req/s' 'p50 ms' 'p99 ms' errors 'srv CPU' >&2
for run in $(seq 1 "$RUNS"); do
    wrk_run "space-$run" "$KJ_URL/space" "$COOKIE" "$KJ_PID"
    S_RPS+=("$RPS") S_P50+=("$P50_MS") S_P99+=("$P99_MS") S_BAD+=("$BAD") S_CPU+=("$SERVER_CPU")
    printf '%-4s %-18s %12s %9s %9s %8s %8s\n' "$run" "/space (pupil)" "$RPS" "$P50_MS" "$P99_MS" "$BAD" "$SERVER_CPU" >&2
    wrk_run "hello-$run" "$HELLO_URL/" "" "$HELLO_PID"
    H_RPS+=("$RPS") H_P99+=("$P99_MS")
    printf '%-4s %-18s %12s %9s %9s %8s %8s\n' "$run" "hello (peer)" "$RPS" "$P50_MS" "$P99_MS" "$BAD" "$SERVER_CPU" >&2
done

# ---------------------------------------------------------------- 2. open loop at RATE pages/s
say "GET /space at $RATE pages/s for ${SECONDS_AT_RATE}s (open loop, $CLIENTS connections)…"
"$LOAD" --url "$KJ_URL/space" --header "$COOKIE" --rate "$RATE" --seconds "$SECONDS_AT_RATE" --clients "$CLIENTS" \
    --expect 'data-assignment=' --pid "$KJ_PID" >"$TMP/rate.json" || die "rate-bench failed"

# ---------------------------------------------------------------- report
MS_RPS=$(median "${S_RPS[@]}") MS_P50=$(median "${S_P50[@]}") MS_P99=$(median "${S_P99[@]}") MS_CPU=$(median "${S_CPU[@]}")
MH_RPS=$(median "${H_RPS[@]}") MH_P99=$(median "${H_P99[@]}")
R=$(ratio "$MS_RPS" "$MH_RPS")
BAD_TOTAL=0
for b in "${S_BAD[@]}"; do BAD_TOTAL=$((BAD_TOTAL + b)); done
RATE_P99=$(jq .p99_ms "$TMP/rate.json")
RATE_ERR=$(jq .errors "$TMP/rate.json")
OK_RATIO=$(awk -v r="$R" -v g="$GOAL_RATIO" -v e="$BAD_TOTAL" 'BEGIN { print (r >= g && e == 0) ? 1 : 0 }')
OK_P99=$(awk -v p="$RATE_P99" -v g="$GOAL_P99_MS" -v e="$RATE_ERR" 'BEGIN { print (p <= g && e == 0) ? 1 : 0 }')
jq -n --arg when "$(date -Iseconds)" --argjson cpus "$(nproc)" --arg load "$LOAD_START" \
    --arg class "$CLASS" --arg pupil "$PUPIL" --argjson bytes "$PAGE_BYTES" \
    --argjson space "$(printf '%s\n' "${S_RPS[@]}" | jq -s .)" --argjson hello "$(printf '%s\n' "${H_RPS[@]}" | jq -s .)" \
    --argjson space_p99 "$(printf '%s\n' "${S_P99[@]}" | jq -s .)" \
    --slurpfile rate "$TMP/rate.json" \
    --argjson medians "{\"space_rps\": $MS_RPS, \"hello_rps\": $MH_RPS, \"ratio\": $R, \"space_p50_ms\": $MS_P50, \"space_p99_ms\": $MS_P99, \"server_cpu_per_s\": $MS_CPU}" \
    --argjson goals "{\"ratio_ge_0_3\": $([ "$OK_RATIO" = 1 ] && echo true || echo false), \"p99_le_20ms_at_rate\": $([ "$OK_P99" = 1 ] && echo true || echo false)}" \
    '{when: $when, cpus: $cpus, loadavg_at_start: $load, class: $class, pupil: $pupil, page_bytes: $bytes,
      wrk_rps: {space: $space, hello: $hello}, wrk_p99_ms: {space: $space_p99}, medians: $medians,
      open_loop: $rate[0], goals_met: $goals}' >"$OUT"

echo
echo "Spaces benchmark — $RUNS run(s), medians; $(nproc) CPUs; load average $LOAD_START before"
echo "kongjian: $BIN (release, SQLite); peer: $HELLO (bare axum, GET / → \"hello\")"
echo "page: GET /space as pupil $PUPIL of $CLASS, $PAGE_BYTES bytes, 20 lessons, 20 assignments (10 handed in, 5 returned)"
echo
printf '  %-22s %12s %9s %9s %8s %9s\n' row 'req/s' 'p50 ms' 'p99 ms' '× hello' 'srv CPU'
printf '  %-22s %12s %9s %9s %8s %9s\n' "hello peer (GET /)" "$MH_RPS" "" "$MH_P99" "1.000" ""
printf '  %-22s %12s %9s %9s %8s %9s\n' "/space (pupil)" "$MS_RPS" "$MS_P50" "$MS_P99" "$R" "$MS_CPU"
echo "  req/s per run: hello ${H_RPS[*]}; /space ${S_RPS[*]}"
echo
echo "open loop, $RATE pages/s for ${SECONDS_AT_RATE}s: $(jq -c '{count, errors, achieved_per_s, p50_ms, p90_ms, p99_ms, max_ms, server_cpu_per_s}' "$TMP/rate.json")"
echo
echo "goals:"
printf '  %-44s %-5s (%s = %s / %s req/s)\n' "/space ≥ ${GOAL_RATIO} × hello req/s" "$(pass "$OK_RATIO")" "$R" "$MS_RPS" "$MH_RPS"
printf '  %-44s %-5s (%s ms, %s errors)\n' "p99 ≤ ${GOAL_P99_MS} ms at $RATE pages/s" "$(pass "$OK_P99")" "$RATE_P99" "$RATE_ERR"
echo
echo "raw numbers: $OUT"
