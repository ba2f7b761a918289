#!/usr/bin/env bash
# Search benchmark (issue #6): Kongjian's search (tantivy + jieba, `kongjian::search`) next to
# Lucene 8 with SmartChineseAnalyzer, on the same generated corpus of Chinese teaching resources,
# measured in the same run; then the HTTP search endpoint under load, and how soon an approved
# resource can be found.
#
#   tests/bench/search.sh              # 200,000 documents, 1,000 queries: the figures the goals are about
#   QUICK=1 tests/bench/search.sh      # 20,000 documents, 200 queries, short HTTP run: a smoke run
#
# What is measured (docs/search-bench.md has the details):
#   S3  bulk indexing, documents/s up to and including the commit: Lucene (tests/bench/peers/lucene/
#       SearchBench.java) and Kongjian (tests/src/bin/search-bench.rs), THREADS indexing threads
#       and HEAP_MB of indexing memory each
#   S1  query latency, one thread, warm, top 10 with their stored ids: p50 and p99 over ROUNDS
#       passes of the queries (term, AND, OR, phrase; some with a subject or grade filter)
#   S2  `GET /api/v1/search` of a running `kongjian serve` holding the corpus as published
#       resources: RATE requests/s from CLIENTS clients, open loop, for HTTP_SECONDS s
#   S4  while S2 runs: a resource created, submitted and approved through the API every
#       FRESH_INTERVAL s; time from the approval's answer until a search finds it
#
# Environment (QUICK=1 changes the defaults shown in brackets):
#   DOCS=200000 [20000] QUERIES=1000 [200] SEED=1   the corpus (tests/src/bin/search-corpus.rs),
#                        kept in $CARGO_TARGET_DIR/bench/search/ and reused when the parameters match
#   THREADS=2 HEAP_MB=256   indexing threads and memory, the same for both engines
#   WARMUP=2 ROUNDS=3       S1: untimed passes, then timed passes over the queries
#   JAVA_OPTS="-Xms4g -Xmx4g"   the Lucene JVM
#   RATE=200 CLIENTS=16 HTTP_SECONDS=20 [8] HTTP_WARMUP=2   S2
#   FRESH_SAMPLES=15 [5] FRESH_INTERVAL=1 POLL_MS=10      S4
#   SKIP_LUCENE=1 SKIP_HTTP=1   leave a part out
#   PROTOTYPE=1           also time search-bench's prototype query shapes (search-bench --prototype:
#                         compounds as one term, filters checked inside block-max WAND) beside top_ids
#   KONGJIAN_LOG          the server's log filter in S2/S4 (default: the server's own)
#   OUT=FILE.json         the raw numbers (default $CARGO_TARGET_DIR/bench/search-results.json)
#   SKIP_BUILD=1 KEEP=1 CARGO_TARGET_DIR   as in the other benchmarks
#
# Goals (issue text): S1 p50 and p99 ≤ 0.8 × Lucene's; S3 ≥ 5,000 documents/s and ≥ 1.5 ×
# Lucene's; S2 p99 ≤ 20 ms at 200 queries/s from 16 clients. S4 is reported.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${QUICK:-}" ]; then
    DOCS=${DOCS:-20000} QUERIES=${QUERIES:-200} HTTP_SECONDS=${HTTP_SECONDS:-8}
    FRESH_SAMPLES=${FRESH_SAMPLES:-5}
fi
DOCS=${DOCS:-200000}
QUERIES=${QUERIES:-1000}
SEED=${SEED:-1}
THREADS=${THREADS:-2}
HEAP_MB=${HEAP_MB:-256}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
JAVA_OPTS=${JAVA_OPTS:--Xms4g -Xmx4g}
RATE=${RATE:-200}
CLIENTS=${CLIENTS:-16}
HTTP_SECONDS=${HTTP_SECONDS:-20}
HTTP_WARMUP=${HTTP_WARMUP:-2}
FRESH_SAMPLES=${FRESH_SAMPLES:-15}
FRESH_INTERVAL=${FRESH_INTERVAL:-1}
POLL_MS=${POLL_MS:-10}
GOAL_S1_RATIO=0.8
GOAL_S3_RATE=5000
GOAL_S3_RATIO=1.5
GOAL_S2_MS=20

# shellcheck source=common.sh
. "$ROOT/tests/bench/common.sh"
need_tool jq jq
need_tool curl curl
for v in DOCS QUERIES THREADS HEAP_MB ROUNDS CLIENTS FRESH_SAMPLES POLL_MS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done

# ---------------------------------------------------------------- the peer's packages
LUCENE_JARS=
if [ -z "${SKIP_LUCENE:-}" ]; then
    need_tool java openjdk-17-jre-headless
    need_tool javac openjdk-17-jdk-headless
    jar() { ls /usr/share/java/"$1"-8*.jar 2>/dev/null | grep -v -- '-8\.x\.jar$' | sort -V | tail -n 1; }
    if [ -z "$(jar lucene-analyzers-smartcn)" ]; then
        if [ "$(id -u)" = 0 ]; then
            say "installing liblucene8-java…"
            (apt-get install -y -q liblucene8-java >/dev/null 2>&1 ||
                { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q liblucene8-java >/dev/null; }) ||
                die "cannot install liblucene8-java"
        else
            die "Lucene is missing: apt-get install liblucene8-java"
        fi
    fi
    for j in lucene-core lucene-analyzers-common lucene-analyzers-smartcn lucene-queryparser; do
        f=$(jar "$j")
        [ -n "$f" ] || die "$j-8*.jar is missing from /usr/share/java (liblucene8-java)"
        LUCENE_JARS=${LUCENE_JARS:+$LUCENE_JARS:}$f
    done
fi

# ---------------------------------------------------------------- build
build_release
BIN=$TARGET/release/kongjian
for b in "$BIN" "$TARGET/release/search-corpus" "$TARGET/release/search-bench" "$TARGET/release/search-http-bench"; do
    [ -x "$b" ] || die "$b is missing"
done
OUT=${OUT:-$TARGET/bench/search-results.json}
mkdir -p "$(dirname "$OUT")"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kj-search-bench.XXXXXX")
PIDS=()
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ -n "${KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
    say "note: load average $LOAD_START on $(nproc) CPUs before the measurements: other work competes for the CPUs"

# ---------------------------------------------------------------- the corpus
CORPUS=$TARGET/bench/search/corpus-d$DOCS-q$QUERIES-s$SEED
"$TARGET/release/search-corpus" --out "$CORPUS" --docs "$DOCS" --queries "$QUERIES" --seed "$SEED" ||
    die "search-corpus failed"

# part NAME COMMAND...: its JSON to $TMP/NAME.json ("null" when it failed), its log to the terminal
part() {
    local name=$1
    shift
    say
    say "$name: load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if "$@" >"$TMP/$name.json" 2> >(tee "$TMP/$name.log" >&2) && jq -e . "$TMP/$name.json" >/dev/null 2>&1; then
        return 0
    fi
    say "$name FAILED (its log: $TMP/$name.log)"
    echo null >"$TMP/$name.json"
}

# ---------------------------------------------------------------- S3 + S1: Lucene, then Kongjian
if [ -z "${SKIP_LUCENE:-}" ]; then
    say "compiling the Lucene peer (javac tests/bench/peers/lucene/SearchBench.java)…"
    mkdir -p "$TMP/lucene-classes"
    javac -encoding UTF-8 -nowarn -cp "$LUCENE_JARS" -d "$TMP/lucene-classes" \
        "$ROOT/tests/bench/peers/lucene/SearchBench.java" || die "javac failed"
    # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
    part lucene java $JAVA_OPTS -cp "$TMP/lucene-classes:$LUCENE_JARS" SearchBench \
        --corpus "$CORPUS" --index-dir "$TMP/lucene-index" --threads "$THREADS" --ram-mb "$HEAP_MB" \
        --warmup "$WARMUP" --rounds "$ROUNDS"
    rm -rf "$TMP/lucene-index"
else
    echo null >"$TMP/lucene.json"
fi
part kongjian "$TARGET/release/search-bench" --corpus "$CORPUS" --index-dir "$TMP/kongjian-index" \
    --threads "$THREADS" --heap-mb "$HEAP_MB" --warmup "$WARMUP" --rounds "$ROUNDS" ${PROTOTYPE:+--prototype}
rm -rf "$TMP/kongjian-index"

# ---------------------------------------------------------------- S2 + S4: the HTTP API
echo null >"$TMP/seed.json"
echo null >"$TMP/http.json"
REINDEX_S=null
if [ -z "${SKIP_HTTP:-}" ]; then
    DATA=$TMP/data
    ENV=(KONGJIAN_DATA_DIR="$DATA")
    [ -n "${KONGJIAN_LOG:-}" ] && ENV+=(KONGJIAN_LOG="$KONGJIAN_LOG")
    say
    say "S2/S4: the demo county and $DOCS published resources into a fresh data dir…"
    "$TARGET/release/search-http-bench" seed --data-dir "$DATA" --corpus "$CORPUS" >"$TMP/seed-full.json" ||
        die "search-http-bench seed failed"
    jq 'del(.teacher_token, .reviewer_token, .reader_token)' "$TMP/seed-full.json" >"$TMP/seed.json"
    say "kongjian reindex…"
    t0=$(date +%s.%N)
    env "${ENV[@]}" "$BIN" reindex >"$TMP/reindex.log" 2>&1 || { tail -n 20 "$TMP/reindex.log" >&2; die "kongjian reindex failed"; }
    REINDEX_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    say "$(tail -n 1 "$TMP/reindex.log")"
    env "${ENV[@]}" KONGJIAN_BIND=127.0.0.1:0 "$BIN" serve >"$TMP/server.log" 2>&1 &
    KJ_PID=$!
    PIDS+=("$KJ_PID")
    addr=
    for _ in $(seq 1 300); do
        addr=$(grep -ao 'listening on [a-z:/]*[0-9.]*:[0-9]*' "$TMP/server.log" | head -n 1 | sed 's/^listening on \(http:\/\/\)\{0,1\}//' || true)
        [ -n "$addr" ] && break
        kill -0 "$KJ_PID" 2>/dev/null || { tail -n 40 "$TMP/server.log" >&2; die "kongjian exited before listening"; }
        sleep 0.1
    done
    [ -n "$addr" ] || { tail -n 40 "$TMP/server.log" >&2; die "kongjian did not start listening within 30 s"; }
    KJ_URL=http://$addr
    for _ in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$KJ_URL/healthz")" = 200 ] && break
        sleep 0.1
    done
    part http "$TARGET/release/search-http-bench" run --url "$KJ_URL" --corpus "$CORPUS" \
        --token "$(jq -r .teacher_token "$TMP/seed-full.json")" \
        --reviewer-token "$(jq -r .reviewer_token "$TMP/seed-full.json")" \
        --reader-token "$(jq -r .reader_token "$TMP/seed-full.json")" \
        --rate "$RATE" --clients "$CLIENTS" --seconds "$HTTP_SECONDS" --warmup "$HTTP_WARMUP" \
        --fresh-samples "$FRESH_SAMPLES" --fresh-interval "$FRESH_INTERVAL" --poll-ms "$POLL_MS" --pid "$KJ_PID"
    stop_pid "$KJ_PID"
    PIDS=()
fi

# ---------------------------------------------------------------- report
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
jq -n \
    --arg when "$(date -Iseconds)" --arg host "$(uname -n)" --argjson cpus "$(nproc)" \
    --arg loadavg_start "$LOAD_START" --arg loadavg_end "$LOAD_END" --arg kongjian_bin "$BIN" \
    --arg java "$(java -version 2>&1 | head -n 1 || echo none)" --arg jars "$LUCENE_JARS" \
    --slurpfile corpus "$CORPUS/meta.json" \
    --argjson settings "$(jq -n --argjson t "$THREADS" --argjson h "$HEAP_MB" --argjson w "$WARMUP" \
        --argjson r "$ROUNDS" --arg jo "$JAVA_OPTS" --argjson rate "$RATE" --argjson c "$CLIENTS" \
        --argjson s "$HTTP_SECONDS" --argjson fs "$FRESH_SAMPLES" --arg fi "$FRESH_INTERVAL" \
        --argjson p "$POLL_MS" --arg quick "${QUICK:-}" \
        '{threads: $t, heap_mb: $h, warmup: $w, rounds: $r, java_opts: $jo, rate: $rate, clients: $c,
          http_seconds: $s, fresh_samples: $fs, fresh_interval: ($fi | tonumber), poll_ms: $p, quick: ($quick != "")}')" \
    --slurpfile lucene "$TMP/lucene.json" --slurpfile kongjian "$TMP/kongjian.json" \
    --slurpfile seed "$TMP/seed.json" --slurpfile http "$TMP/http.json" --argjson reindex "$REINDEX_S" \
    '{when: $when, host: $host, cpus: $cpus, loadavg_at_start: $loadavg_start, loadavg_at_end: $loadavg_end,
      kongjian_binary: $kongjian_bin, java: $java, lucene_jars: ($jars | split(":")), corpus: $corpus[0], settings: $settings,
      results: {lucene: $lucene[0], kongjian: $kongjian[0],
                http: {seed: $seed[0], reindex_seconds: $reindex, run: $http[0]}}}' >"$OUT"

fig() { jq -r "($1) // \"-\" | if type == \"number\" then (. * 100 | round / 100 | tostring) else . end" "$OUT"; }
num() { case $1 in '' | - | null) return 1 ;; *) return 0 ;; esac; }
ratio() { if num "$1" && num "$2"; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; else echo -; fi; }
verdict() { # CONDITION (awk expression over a, b) A B
    if num "$2" && num "${3:-0}"; then
        awk -v a="$2" -v b="${3:-0}" "BEGIN { exit !($1) }" && echo PASS || echo FAIL
    else echo "n/a"; fi
}

K=.results.kongjian L=.results.lucene H=.results.http.run
S1_K50=$(fig "$K.s1.p50_us") S1_L50=$(fig "$L.s1.p50_us")
S1_K99=$(fig "$K.s1.p99_us") S1_L99=$(fig "$L.s1.p99_us")
S3_K=$(fig "$K.s3.docs_per_s") S3_L=$(fig "$L.s3.docs_per_s")
R50=$(ratio "$S1_K50" "$S1_L50") R99=$(ratio "$S1_K99" "$S1_L99") R3=$(ratio "$S3_K" "$S3_L")
S2_99=$(fig "$H.s2.latency.p99_ms")

echo
echo "Search benchmark — $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); load average $LOAD_START before, $LOAD_END after${QUICK:+; QUICK smoke run}"
echo "corpus: $(jq -r '"\(.docs) documents (\(.text_bytes / 1e6 | round) MB of text), \(.queries) queries (\(.query_kinds | to_entries | map("\(.value) \(.key)") | join(", ")))"' "$CORPUS/meta.json"), seed $SEED"
echo "peer: Lucene $(fig "$L.version") with SmartChineseAnalyzer on $(java -version 2>&1 | head -n 1 | tr -d '"' || echo '-'); $THREADS indexing threads and $HEAP_MB MB of indexing memory for each engine"
echo
row() { printf '%-44s %12s %12s %10s\n' "$@"; }
row figure kongjian lucene 'ratio'
row "S1 p50 us, top 10, 1 thread, warm" "$S1_K50" "$S1_L50" "$R50"
row "S1 p99 us" "$S1_K99" "$S1_L99" "$R99"
for kind in term and or phrase; do
    row "   $kind: p50 / p99 us" "$(fig "$K.s1_by_kind.$kind.p50_us") / $(fig "$K.s1_by_kind.$kind.p99_us")" \
        "$(fig "$L.s1_by_kind.$kind.p50_us") / $(fig "$L.s1_by_kind.$kind.p99_us")"
done
row "   full page (facets, snippets) p50 / p99 us" "$(fig "$K.full_page.p50_us") / $(fig "$K.full_page.p99_us")"
if [ -n "${PROTOTYPE:-}" ]; then
    P=$K.prototype
    row "   prototype query shapes p50 / p99 us" "$(fig "$P.s1.p50_us") / $(fig "$P.s1.p99_us")" "" \
        "$(ratio "$(fig "$P.s1.p50_us")" "$S1_L50") / $(ratio "$(fig "$P.s1.p99_us")" "$S1_L99")"
    row "   (same total / same top 10, of $(fig "$P.queries"))" "$(fig "$P.same_total") / $(fig "$P.same_top10_set")"
fi
row "S3 docs/s, bulk indexing with the commit" "$S3_K" "$S3_L" "$R3"
row "   docs/s including the merges" "$(fig "$K.s3.docs_per_s_with_merges")" "$(fig "$L.s3.docs_per_s_with_merges")" \
    "$(ratio "$(fig "$K.s3.docs_per_s_with_merges")" "$(fig "$L.s3.docs_per_s_with_merges")")"
row "   index MB on disk, segments" "$(fig "$K.s3.index_mb") $(fig "$K.s3.segments")" "$(fig "$L.s3.index_mb") $(fig "$L.s3.segments")"
row "hits: queries without any hit" "$(fig "$K.hits.zero_hits")" "$(fig "$L.hits.zero_hits")"
row "   median total hits per query" "$(fig "$K.hits.median_total")" "$(fig "$L.hits.median_total")"
for kind in term and or phrase; do
    row "   $kind: mean total hits (zero-hit queries)" "$(fig "$K.hits.by_kind.$kind.mean_total | round") ($(fig "$K.hits.by_kind.$kind.zero_hits"))" \
        "$(fig "$L.hits.by_kind.$kind.mean_total | round") ($(fig "$L.hits.by_kind.$kind.zero_hits"))"
done
if [ "$(jq -r "$K.hits.totals != null and $L.hits.totals != null" "$OUT")" = true ]; then
    row "   found by one engine only (kongjian / lucene)" \
        "$(jq -r "[$K.hits.totals, $L.hits.totals] | transpose | map(select(.[0] > 0 and .[1] == 0)) | length" "$OUT")" \
        "$(jq -r "[$K.hits.totals, $L.hits.totals] | transpose | map(select(.[0] == 0 and .[1] > 0)) | length" "$OUT")"
fi
row "S2 GET /api/v1/search p50 / p99 ms" "$(fig "$H.s2.latency.p50_ms") / $S2_99"
row "   offered / completed requests/s, errors" "$RATE / $(fig "$H.s2.completed_per_s"), $(fig "$H.s2.errors")"
row "   server CPU s per 1,000 requests" "$(jq -r "if $H.server_cpu_seconds then ($H.server_cpu_seconds / (($H.s2.requests + 1) / 1000) * 100 | round / 100) else \"-\" end" "$OUT")"
row "S4 approved -> found p50 / p99 ms" "$(fig "$H.s4.freshness.p50_ms") / $(fig "$H.s4.freshness.p99_ms")"
row "   samples found / taken" "$(fig "$H.s4.found") / $(fig "$H.s4.samples")"
row "   approve answer p50 ms, polls p50" "$(fig "$H.s4.review.p50_ms"), $(fig "$H.s4.polls.p50_ms")"
row "reindex of the server's database, s" "$(fig .results.http.reindex_seconds)"
echo
echo "goals:"
goal() { printf '  %-5s %s\n' "$1" "$2"; }
goal "$(verdict "a <= $GOAL_S1_RATIO" "$R50")" "S1 p50 ≤ $GOAL_S1_RATIO × Lucene's"
goal "$(verdict "a <= $GOAL_S1_RATIO" "$R99")" "S1 p99 ≤ $GOAL_S1_RATIO × Lucene's"
goal "$(verdict "a >= $GOAL_S3_RATE" "$S3_K")" "S3 ≥ $GOAL_S3_RATE documents/s"
goal "$(verdict "a >= $GOAL_S3_RATIO" "$R3")" "S3 ≥ $GOAL_S3_RATIO × Lucene's"
goal "$(verdict "a <= $GOAL_S2_MS && b == 0" "$S2_99" "$(fig "$H.s2.errors")")" "S2 p99 ≤ $GOAL_S2_MS ms at $RATE queries/s from $CLIENTS clients, no errors"
if [ -n "${QUICK:-}" ]; then
    echo "  (QUICK: $DOCS documents and $QUERIES queries — a smoke run, not the figures the goals are about)"
fi
echo
echo "raw numbers: $OUT"
