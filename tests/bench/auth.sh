#!/usr/bin/env bash
# Sign-in benchmark (issue #4): first sign-ins with an activation code under an open-loop load,
# and an authenticated `GET /api/v1/me` next to the peer, a bare axum "hello" handler
# (tests/src/bin/hello.rs) measured with the same wrk settings in the same run.
#
#   tests/bench/auth.sh                      # RUNS=3, 20 sign-ins/s for 30 s, wrk 10 s
#   RUNS=1 DURATION=10 WRK_SECONDS=5 tests/bench/auth.sh   # a quick look
#
# Environment:
#   RUNS=3               repetitions (fresh codes for every activation run); medians are reported
#   RATE=20 DURATION=30  activation load: one first sign-in every 1/RATE s for DURATION s
#   WRK_THREADS=2 WRK_CONNECTIONS=64 WRK_SECONDS=10   wrk settings, the same for every row
#   WARMUP=2             seconds of unreported wrk load on each row before the first run
#   SEED=1               the district (one school of tests/src/bin/roster-gen.rs)
#   KONGJIAN_LOG         the server's log filter (default: the server's own default, `info`)
#   OUT=FILE.json        where the raw numbers go (default $CARGO_TARGET_DIR/bench/auth-<time>.json)
#   SKIP_BUILD=1         use the binaries already built
#   KEEP=1               keep the temporary directory (district, data dir, codes, logs)
#   CARGO_TARGET_DIR     honoured (binaries are taken from $CARGO_TARGET_DIR/release)
#
# Goals (issue text): first sign-in with a code, argon2id hash included, p99 ≤ 50 ms with
# 20 sign-ins per second in flight; an authenticated `GET /api/v1/me` at ≥ 0.5× the requests per
# second of a bare axum "hello" handler measured in the same run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-3}
RATE=${RATE:-20}
SECS=${DURATION:-30}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_SECONDS=${WRK_SECONDS:-10}
WARMUP=${WARMUP:-2}
SEED=${SEED:-1}
PASSWORD=${PASSWORD:-chun-mian-bu-jue-xiao-2026}
GOAL_P99_MS=50
GOAL_RATIO=0.5

# shellcheck source=common.sh
. "$ROOT/tests/bench/common.sh"
need_tool jq jq
need_tool curl curl
need_tool wrk wrk
for v in RUNS RATE SECS WRK_THREADS WRK_CONNECTIONS WRK_SECONDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"

# ---------------------------------------------------------------- build
build_release
BIN=$TARGET/release/kongjian
GEN=$TARGET/release/roster-gen
LOAD=$TARGET/release/auth-bench
HELLO=$TARGET/release/hello
for b in "$BIN" "$GEN" "$LOAD" "$HELLO"; do [ -x "$b" ] || die "$b is missing"; done
OUT=${OUT:-$TARGET/bench/auth-$(date +%Y%m%dT%H%M%S).json}
mkdir -p "$(dirname "$OUT")"

# ---------------------------------------------------------------- scratch space and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kj-auth-bench.XXXXXX")
DATA=$TMP/data
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "${KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

kj() { KONGJIAN_DATA_DIR="$DATA" KONGJIAN_DEMO=off "$BIN" "$@"; }

# ---------------------------------------------------------------- the district, imported
PKG=$TMP/district
say "generating one school (seed $SEED) into $PKG…"
"$GEN" --out "$PKG" --schools 1 --seed "$SEED" >/dev/null
say "importing it (SQLite, $DATA)…"
kj roster import "$PKG" --json >"$TMP/import.json" 2>"$TMP/import.err" ||
    { head -c 4000 "$TMP/import.err" >&2; die "the roster import failed"; }
[ "$(jq -r .outcome "$TMP/import.json")" = imported ] || die "import: $(jq -c '{outcome, counts}' "$TMP/import.json")"

# Column numbers (1-based) of a CSV header.
column() { head -n 1 "$1" | tr -d '\r' | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
STUDENTS=$(($(awk -F, -v c="$(column "$PKG/users.csv" sourcedId)" 'NR > 1 && $c ~ /^stu-/' "$PKG/users.csv" | wc -l)))
PEOPLE=$(($(wc -l <"$PKG/users.csv") - 1))

# ---------------------------------------------------------------- activation codes
# Homeroom classes, in file order. Issuing codes for a class voids earlier unused codes of the
# same people (a parent of children in two homerooms), so only the last code per person counts.
PER_RUN=$((RATE * SECS))
NEED=$((RUNS * PER_RUN + 1))
type_col=$(column "$PKG/classes.csv" classType)
id_col=$(column "$PKG/classes.csv" sourcedId)
mapfile -t HOMEROOMS < <(awk -F, -v t="$type_col" -v i="$id_col" 'NR > 1 && $t == "homeroom" { print $i }' "$PKG/classes.csv")
[ "${#HOMEROOMS[@]}" -gt 0 ] || die "no homeroom class in $PKG/classes.csv"
say "issuing activation codes (need $NEED: $RUNS run(s) × $PER_RUN, and one to sign in by password)…"
mkdir -p "$TMP/codes"
CLASSES_USED=0
have=0
for class in "${HOMEROOMS[@]}"; do
    kj codes issue --class "$class" --json >"$TMP/codes/$(printf '%03d' "$CLASSES_USED").json" 2>>"$TMP/codes.err" ||
        { head -c 2000 "$TMP/codes.err" >&2; die "codes issue --class $class failed"; }
    CLASSES_USED=$((CLASSES_USED + 1))
    # The last code issued for each person; the order of issue kept.
    jq -s 'add | to_entries | reverse | unique_by(.value.sourced_id) | sort_by(.key) | map(.value)' \
        "$TMP"/codes/*.json >"$TMP/codes.json"
    have=$(jq length "$TMP/codes.json")
    [ "$have" -ge "$NEED" ] && break
done
[ "$have" -ge "$NEED" ] || die "only $have codes from all ${#HOMEROOMS[@]} homerooms; lower RUNS, RATE or DURATION"
for run in $(seq 1 "$RUNS"); do
    jq --argjson from $(((run - 1) * PER_RUN)) --argjson n "$PER_RUN" '.[$from:$from + $n]' \
        "$TMP/codes.json" >"$TMP/codes-run-$run.json"
done

# The person who signs in by password for the /me rows: the first code no run uses.
ME_ID=$(jq -r ".[$((RUNS * PER_RUN))].sourced_id" "$TMP/codes.json")
ME_CODE=$(jq -r ".[$((RUNS * PER_RUN))].code" "$TMP/codes.json")
ME_ROLE=$(jq -r ".[$((RUNS * PER_RUN))].role" "$TMP/codes.json")
ME_LOGIN=$(awk -F, -v i="$(column "$PKG/users.csv" sourcedId)" -v u="$(column "$PKG/users.csv" username)" \
    -v id="$ME_ID" 'NR > 1 && $i == id { print $u; exit }' "$PKG/users.csv")
[ -n "$ME_LOGIN" ] || die "no username for $ME_ID in users.csv"
TOKEN=$(kj token create --user "$ME_ID" --name auth-bench 2>>"$TMP/token.err") ||
    { cat "$TMP/token.err" >&2; die "token create failed"; }

# ---------------------------------------------------------------- the servers
start_server() { # NAME LOGFILE COMMAND... ; sets STARTED_URL
    local name=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    PIDS+=($!)
    local pid=$! i addr=
    for i in $(seq 1 300); do
        addr=$(grep -ao 'listening on [a-z:/]*[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/^listening on \(http:\/\/\)\{0,1\}//' || true)
        [ -n "$addr" ] && break
        kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; die "$name exited before listening"; }
        sleep 0.1
    done
    [ -n "$addr" ] || { tail -n 40 "$log" >&2; die "$name did not start listening within 30 s"; }
    STARTED_URL=http://$addr
}
say "starting kongjian serve and the hello peer…"
start_server kongjian "$TMP/server.log" env KONGJIAN_DATA_DIR="$DATA" KONGJIAN_DEMO=off \
    KONGJIAN_BIND=127.0.0.1:0 "$BIN" serve
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
[ "$(curl -s "$HELLO_URL/")" = hello ] || die "the hello peer does not answer at $HELLO_URL/"

# ---------------------------------------------------------------- helpers
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
pass() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

# wrk_run LABEL URL [HEADER]: sets RPS, P50_MS, P99_MS, BAD (non-2xx + socket errors),
# SERVER_CPU (CPU seconds the server used per second of wall time during the run).
wrk_run() {
    local label=$1 url=$2 header=${3:-} pid=$4 out=$TMP/wrk-$1.txt t0 t1
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

# ---------------------------------------------------------------- 1. first sign-ins with a code
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
    say "note: load average $LOAD_START on $(nproc) CPUs before the measurements: other work competes for the CPUs"
declare -a A_P50 A_P90 A_P99 A_MAX A_ERR A_COUNT
say
say "first sign-in with a code: $RATE/s for ${SECS}s, open loop, $RUNS run(s)"
printf '%-4s %6s %6s %7s %9s %9s %9s %9s %10s\n' run count ok errors 'p50 ms' 'p90 ms' 'p99 ms' 'max ms' 'srv CPU' >&2
for run in $(seq 1 "$RUNS"); do
    c0=$(cpu_ticks "$KJ_PID")
    t0=$(date +%s.%N)
    "$LOAD" activate --url "$KJ_URL" --codes "$TMP/codes-run-$run.json" --rate "$RATE" --seconds "$SECS" \
        --password "$PASSWORD" >"$TMP/activate-$run.json" || die "auth-bench failed in run $run"
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$KJ_PID")
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v s0="$t0" -v s1="$t1" 'BEGIN { printf "%.2f", (b - a) / hz / (s1 - s0) }')
    jq --argjson cpu "$cpu" '. + {server_cpu_per_s: $cpu}' "$TMP/activate-$run.json" >"$TMP/activate-$run.tmp" &&
        mv "$TMP/activate-$run.tmp" "$TMP/activate-$run.json"
    f=$TMP/activate-$run.json
    A_COUNT+=("$(jq .count "$f")") A_ERR+=("$(jq .errors "$f")")
    A_P50+=("$(jq .p50_ms "$f")") A_P90+=("$(jq .p90_ms "$f")") A_P99+=("$(jq .p99_ms "$f")") A_MAX+=("$(jq .max_ms "$f")")
    printf '%-4s %6s %6s %7s %9s %9s %9s %9s %10s\n' "$run" "${A_COUNT[-1]}" "$(jq .ok "$f")" "${A_ERR[-1]}" \
        "${A_P50[-1]}" "${A_P90[-1]}" "${A_P99[-1]}" "${A_MAX[-1]}" "$cpu" >&2
    if [ "${A_ERR[-1]}" != 0 ]; then
        say "  errors: $(jq -c '{statuses, first_errors}' "$f")"
    fi
done
A_ERR_TOTAL=0
for e in "${A_ERR[@]}"; do A_ERR_TOTAL=$((A_ERR_TOTAL + e)); done

# ---------------------------------------------------------------- 2. one person signed in by password
say
say "signing in $ME_ID ($ME_ROLE, login $ME_LOGIN): code, then password…"
body=$(jq -nc --arg c "$ME_CODE" --arg p "$PASSWORD" '{code: $c, password: $p}')
status=$(curl -sS -o "$TMP/me-activate.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$KJ_URL/api/v1/auth/activate")
[ "$status" = 200 ] || die "activation of $ME_ID answered $status: $(head -c 500 "$TMP/me-activate.json")"
body=$(jq -nc --arg l "$ME_LOGIN" --arg p "$PASSWORD" '{login: $l, password: $p}')
status=$(curl -sS -D "$TMP/login.headers" -o "$TMP/login.json" -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$KJ_URL/api/v1/auth/login")
[ "$status" = 200 ] || die "password sign-in of $ME_LOGIN answered $status: $(head -c 500 "$TMP/login.json")"
cookie_value() { tr -d '\r' <"$TMP/login.headers" | sed -n "s/^[Ss]et-[Cc]ookie: $1=\([^;]*\).*/\1/p" | tail -n 1; }
SESSION=$(cookie_value kj_session)
CSRF=$(cookie_value kj_csrf)
[ -n "$SESSION" ] || die "the password sign-in set no kj_session cookie"
# Both cookies, as the browser holds them after signing in (without kj_csrf every answer would
# also mint and set a new CSRF cookie).
COOKIE="Cookie: kj_session=$SESSION${CSRF:+; kj_csrf=$CSRF}"
BEARER="Authorization: Bearer $TOKEN"
curl -sS -D "$TMP/me.headers" -o "$TMP/me.json" -H "$COOKIE" "$KJ_URL/api/v1/me"
[ "$(jq -r .sourced_id "$TMP/me.json" 2>/dev/null)" = "$ME_ID" ] || die "GET /api/v1/me with the cookie: $(head -c 500 "$TMP/me.json")"
curl -sS -o "$TMP/me-bearer.json" -H "$BEARER" "$KJ_URL/api/v1/me"
[ "$(jq -r .sourced_id "$TMP/me-bearer.json" 2>/dev/null)" = "$ME_ID" ] || die "GET /api/v1/me with the token: $(head -c 500 "$TMP/me-bearer.json")"
ME_BYTES=$(wc -c <"$TMP/me.json")

# ---------------------------------------------------------------- 3. /api/v1/me next to hello
say "GET /api/v1/me (cookie, bearer) and the hello peer: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s, alternating, $RUNS run(s)"
if [ "$WARMUP" -gt 0 ]; then
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP}s" -H "$COOKIE" "$KJ_URL/api/v1/me" >/dev/null 2>&1 || true
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP}s" -H "$BEARER" "$KJ_URL/api/v1/me" >/dev/null 2>&1 || true
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WARMUP}s" "$HELLO_URL/" >/dev/null 2>&1 || true
fi
declare -a H_RPS H_P50 H_P99 H_BAD H_CPU M_RPS M_P50 M_P99 M_BAD M_CPU B_RPS B_P50 B_P99 B_BAD B_CPU
printf '%-4s %-22s %12s %9s %9s %8s %8s\n' run row 'req/s' 'p50 ms' 'p99 ms' errors 'srv CPU' >&2
for run in $(seq 1 "$RUNS"); do
    wrk_run "me-cookie-$run" "$KJ_URL/api/v1/me" "$COOKIE" "$KJ_PID"
    M_RPS+=("$RPS") M_P50+=("$P50_MS") M_P99+=("$P99_MS") M_BAD+=("$BAD") M_CPU+=("$SERVER_CPU")
    printf '%-4s %-22s %12s %9s %9s %8s %8s\n' "$run" "/me, session cookie" "$RPS" "$P50_MS" "$P99_MS" "$BAD" "$SERVER_CPU" >&2
    wrk_run "hello-$run" "$HELLO_URL/" "" "$HELLO_PID"
    H_RPS+=("$RPS") H_P50+=("$P50_MS") H_P99+=("$P99_MS") H_BAD+=("$BAD") H_CPU+=("$SERVER_CPU")
    printf '%-4s %-22s %12s %9s %9s %8s %8s\n' "$run" "hello (peer)" "$RPS" "$P50_MS" "$P99_MS" "$BAD" "$SERVER_CPU" >&2
    wrk_run "me-bearer-$run" "$KJ_URL/api/v1/me" "$BEARER" "$KJ_PID"
    B_RPS+=("$RPS") B_P50+=("$P50_MS") B_P99+=("$P99_MS") B_BAD+=("$BAD") B_CPU+=("$SERVER_CPU")
    printf '%-4s %-22s %12s %9s %9s %8s %8s\n' "$run" "/me, bearer token" "$RPS" "$P50_MS" "$P99_MS" "$BAD" "$SERVER_CPU" >&2
done
sum() { local t=0 x; for x in "$@"; do t=$((t + x)); done; echo "$t"; }

# ---------------------------------------------------------------- report
MA_P50=$(median "${A_P50[@]}")
MA_P90=$(median "${A_P90[@]}")
MA_P99=$(median "${A_P99[@]}")
MA_MAX=$(median "${A_MAX[@]}")
MH_RPS=$(median "${H_RPS[@]}") MH_P50=$(median "${H_P50[@]}") MH_P99=$(median "${H_P99[@]}") MH_CPU=$(median "${H_CPU[@]}")
MM_RPS=$(median "${M_RPS[@]}") MM_P50=$(median "${M_P50[@]}") MM_P99=$(median "${M_P99[@]}") MM_CPU=$(median "${M_CPU[@]}")
MB_RPS=$(median "${B_RPS[@]}") MB_P50=$(median "${B_P50[@]}") MB_P99=$(median "${B_P99[@]}") MB_CPU=$(median "${B_CPU[@]}")
R_ME=$(ratio "$MM_RPS" "$MH_RPS")
R_BEARER=$(ratio "$MB_RPS" "$MH_RPS")
OK_P99=$(awk -v p="$MA_P99" -v g="$GOAL_P99_MS" -v e="$A_ERR_TOTAL" 'BEGIN { print (p <= g && e == 0) ? 1 : 0 }')
OK_ME=$(awk -v r="$R_ME" -v g="$GOAL_RATIO" -v e="$(sum "${M_BAD[@]}")" 'BEGIN { print (r >= g && e == 0) ? 1 : 0 }')
OK_BEARER=$(awk -v r="$R_BEARER" -v g="$GOAL_RATIO" -v e="$(sum "${B_BAD[@]}")" 'BEGIN { print (r >= g && e == 0) ? 1 : 0 }')
LOAD_AVG=$(cut -d' ' -f1-3 /proc/loadavg)

jq -n \
    --arg when "$(date -Iseconds)" --arg host "$(uname -n)" --argjson cpus "$(nproc)" --arg loadavg "$LOAD_AVG" --arg loadavg_start "$LOAD_START" \
    --arg kongjian "$BIN" --argjson runs "$RUNS" --argjson rate "$RATE" --argjson seconds "$SECS" \
    --argjson students "$STUDENTS" --argjson people "$PEOPLE" --argjson classes_issued "$CLASSES_USED" \
    --arg wrk "-t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s --latency" \
    --arg me_id "$ME_ID" --arg me_role "$ME_ROLE" --argjson me_bytes "$ME_BYTES" \
    --slurpfile activation <(for r in $(seq 1 "$RUNS"); do cat "$TMP/activate-$r.json"; done) \
    --argjson hello "$(paste -d' ' <(printf '%s\n' "${H_RPS[@]}") <(printf '%s\n' "${H_P50[@]}") <(printf '%s\n' "${H_P99[@]}") <(printf '%s\n' "${H_BAD[@]}") <(printf '%s\n' "${H_CPU[@]}") |
        jq -R 'split(" ") | map(tonumber) | {rps: .[0], p50_ms: .[1], p99_ms: .[2], errors: .[3], server_cpu_per_s: .[4]}' | jq -s .)" \
    --argjson me_cookie "$(paste -d' ' <(printf '%s\n' "${M_RPS[@]}") <(printf '%s\n' "${M_P50[@]}") <(printf '%s\n' "${M_P99[@]}") <(printf '%s\n' "${M_BAD[@]}") <(printf '%s\n' "${M_CPU[@]}") |
        jq -R 'split(" ") | map(tonumber) | {rps: .[0], p50_ms: .[1], p99_ms: .[2], errors: .[3], server_cpu_per_s: .[4]}' | jq -s .)" \
    --argjson me_bearer "$(paste -d' ' <(printf '%s\n' "${B_RPS[@]}") <(printf '%s\n' "${B_P50[@]}") <(printf '%s\n' "${B_P99[@]}") <(printf '%s\n' "${B_BAD[@]}") <(printf '%s\n' "${B_CPU[@]}") |
        jq -R 'split(" ") | map(tonumber) | {rps: .[0], p50_ms: .[1], p99_ms: .[2], errors: .[3], server_cpu_per_s: .[4]}' | jq -s .)" \
    '{when: $when, host: $host, cpus: $cpus, loadavg_at_start: $loadavg_start, loadavg_at_end: $loadavg, kongjian: $kongjian, runs: $runs,
      district: {schools: 1, students: $students, people: $people, homerooms_issued: $classes_issued},
      activation: {rate: $rate, seconds: $seconds, runs: $activation},
      me: {wrk: $wrk, person: $me_id, role: $me_role, body_bytes: $me_bytes,
           session_cookie: $me_cookie, bearer_token: $me_bearer, hello_peer: $hello}}' >"$OUT.tmp"
jq --argjson a "{\"p50_ms\": $MA_P50, \"p90_ms\": $MA_P90, \"p99_ms\": $MA_P99, \"max_ms\": $MA_MAX, \"errors\": $A_ERR_TOTAL}" \
    --argjson m "{\"hello_rps\": $MH_RPS, \"me_cookie_rps\": $MM_RPS, \"me_bearer_rps\": $MB_RPS, \"ratio_me_cookie\": $R_ME, \"ratio_me_bearer\": $R_BEARER, \"hello_p99_ms\": $MH_P99, \"me_cookie_p99_ms\": $MM_P99, \"me_bearer_p99_ms\": $MB_P99}" \
    --argjson goals "{\"activation_p99_le_50ms\": $([ "$OK_P99" = 1 ] && echo true || echo false), \"me_ratio_ge_0_5\": $([ "$OK_ME" = 1 ] && echo true || echo false)}" \
    '. + {medians: {activation: $a, me: $m}, goals_met: $goals}' "$OUT.tmp" >"$OUT"
rm -f "$OUT.tmp"

echo
echo "Sign-in benchmark — $RUNS run(s), medians; $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $LOAD_START before, $LOAD_AVG after"
echo "kongjian: $BIN (release, SQLite, KONGJIAN_LOG=${KONGJIAN_LOG:-default}); peer: $HELLO (bare axum, GET / → \"hello\")"
echo "district: 1 school, $STUDENTS students, $PEOPLE people; codes from $CLASSES_USED homeroom(s)"
echo
echo "first sign-in with a code (POST /api/v1/auth/activate, argon2id m=19MiB t=2 p=1), open loop $RATE/s for ${SECS}s:"
printf '  %-28s %9s %9s %9s %9s %8s\n' '' 'p50 ms' 'p90 ms' 'p99 ms' 'max ms' errors
printf '  %-28s %9s %9s %9s %9s %8s\n' "median of $RUNS run(s)" "$MA_P50" "$MA_P90" "$MA_P99" "$MA_MAX" "$A_ERR_TOTAL"
printf '  %-28s %s\n' "p99 per run" "${A_P99[*]}"
echo
echo "GET /api/v1/me as $ME_ID ($ME_ROLE, $ME_BYTES-byte answer) vs the peer, wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s:"
printf '  %-26s %12s %9s %9s %8s %9s\n' row 'req/s' 'p50 ms' 'p99 ms' '× hello' 'srv CPU'
printf '  %-26s %12s %9s %9s %8s %9s\n' "hello peer (GET /)" "$MH_RPS" "$MH_P50" "$MH_P99" "1.000" "$MH_CPU"
printf '  %-26s %12s %9s %9s %8s %9s\n' "/me with session cookie" "$MM_RPS" "$MM_P50" "$MM_P99" "$R_ME" "$MM_CPU"
printf '  %-26s %12s %9s %9s %8s %9s\n' "/me with bearer token" "$MB_RPS" "$MB_P50" "$MB_P99" "$R_BEARER" "$MB_CPU"
printf '  %-26s %s\n' "req/s per run: hello" "${H_RPS[*]}"
printf '  %-26s %s\n' "               /me cookie" "${M_RPS[*]}"
printf '  %-26s %s\n' "               /me bearer" "${B_RPS[*]}"
echo "  (srv CPU: CPU seconds the server process used per second of the run, of $(nproc))"
echo
echo "goals:"
printf '  %-52s %-5s (%s ms, %s errors)\n' "first sign-in p99 ≤ ${GOAL_P99_MS} ms at $RATE/s" "$(pass "$OK_P99")" "$MA_P99" "$A_ERR_TOTAL"
printf '  %-52s %-5s (%s = %s / %s req/s)\n' "/me (session cookie) ≥ ${GOAL_RATIO} × hello req/s" "$(pass "$OK_ME")" "$R_ME" "$MM_RPS" "$MH_RPS"
printf '  %-52s %-5s (%s = %s / %s req/s)\n' "(also) /me (bearer token) ≥ ${GOAL_RATIO} × hello req/s" "$(pass "$OK_BEARER")" "$R_BEARER" "$MB_RPS" "$MH_RPS"
echo
echo "raw numbers: $OUT"
