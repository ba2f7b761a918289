#!/usr/bin/env bash
# Roster-import benchmark: a generated district (100 schools by default: 135,000 students,
# ≈200,000 guardians, 900 teachers, 12,000 classes, ≈550,000 enrollments) imported by
# `kongjian roster import` into SQLite and into PostgreSQL, next to the peer: a bare
# PostgreSQL `\copy` of the same CSV rows into plain text tables (no constraints, no indexes).
#
#   tests/bench/roster-import.sh                 # RUNS=3, 100 schools
#   RUNS=1 SCHOOLS=10 tests/bench/roster-import.sh
#
# Environment:
#   RUNS=3               repetitions of a–d; medians are reported
#   SCHOOLS=100 SEED=1   the district (see tests/src/bin/roster-gen.rs)
#   PG_URL=postgres://postgres@127.0.0.1:5432   PostgreSQL server (trust auth; needs CREATE DATABASE)
#   IMPORT_TIMEOUT=600   seconds before one kongjian import is killed (the run then stops)
#   SKIP_BUILD=1         use the binaries already built
#   SKIP_PG=1            skip c (Kongjian on PostgreSQL); the COPY peer still runs
#   KEEP=1               keep the temporary directory (district, data dirs, time logs)
#   CARGO_TARGET_DIR     honoured (binaries are taken from $CARGO_TARGET_DIR/release)
#
# Goals (issue text): SQLite import ≤ 15 s, peak RSS ≤ 1.5 GiB, not slower than the COPY
# peer, unchanged re-import ≤ 5 s writing nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-3}
SCHOOLS=${SCHOOLS:-100}
SEED=${SEED:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-600}
GOAL_IMPORT_S=15
GOAL_RSS_KB=$((1536 * 1024))
GOAL_REIMPORT_S=5

# shellcheck source=common.sh
. "$ROOT/tests/bench/common.sh"
[ -x /usr/bin/time ] || need_tool /usr/bin/time time
need_tool jq jq
need_tool psql postgresql-client
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

# ---------------------------------------------------------------- build
build_release
BIN=$TARGET/release/kongjian
GEN=$TARGET/release/roster-gen
[ -x "$BIN" ] || die "$BIN is missing"
[ -x "$GEN" ] || die "$GEN is missing"

# ---------------------------------------------------------------- scratch space and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kj-roster-bench.XXXXXX")
PG_DBS=()
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql_admin() { psql "$PG_URL/postgres" -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
    local db
    for db in "${PG_DBS[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
    if [ -n "${KEEP:-}" ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
psql_admin -c 'SELECT 1' >/dev/null || die "PostgreSQL is not reachable at $PG_URL"

create_db() { psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null; PG_DBS+=("$1"); }
drop_db() { psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- the district
PKG=$TMP/district
say "generating $SCHOOLS schools (seed $SEED) into $PKG…"
t0=$(now)
"$GEN" --out "$PKG" --schools "$SCHOOLS" --seed "$SEED"
GEN_S=$(elapsed "$t0" "$(now)")
FILES=(orgs academicSessions courses classes users roles enrollments)
declare -A ROWS
TOTAL_ROWS=0
for f in "${FILES[@]}"; do
    ROWS[$f]=$(($(wc -l <"$PKG/$f.csv") - 1))
    TOTAL_ROWS=$((TOTAL_ROWS + ROWS[$f]))
done
PKG_MB=$(du -sm "$PKG" | cut -f1)

# ---------------------------------------------------------------- one kongjian import
# kj_import LABEL ENV... : runs `kongjian roster import $PKG --json $KJ_FLAGS` under
# /usr/bin/time -v with the given environment; sets WALL (s), RSS_KB, CPU_S, FS_OUT (512-byte blocks written)
# and JSON (the report's file).
kj_import() {
    local label=$1
    shift
    local timelog=$TMP/$label.time
    JSON=$TMP/$label.json
    local t0 t1 rc=0
    t0=$(now)
    env "$@" KONGJIAN_DEMO=off KONGJIAN_LOG="${KONGJIAN_LOG:-info}" timeout "$IMPORT_TIMEOUT" \
        /usr/bin/time -v -o "$timelog" "$BIN" roster import "$PKG" --json ${KJ_FLAGS:-} >"$JSON" 2>"$TMP/$label.err" || rc=$?
    t1=$(now)
    WALL=$(elapsed "$t0" "$t1")
    if [ "$rc" = 124 ]; then
        die "$label: the import took more than ${IMPORT_TIMEOUT}s and was stopped"
    fi
    if [ "$rc" != 0 ]; then
        say "$label: kongjian exited with $rc"
        head -c 4000 "$TMP/$label.err" >&2 || true
        jq -c '{outcome, errors: .errors[:5]}' "$JSON" >&2 2>/dev/null || head -c 2000 "$JSON" >&2
        exit 1
    fi
    # Per-stage times, when the server logs them ("roster import stage done stage=… ms=…").
    sed -n 's/.*roster import stage done.*stage="\([^"]*\)".*ms=\([0-9]*\).*/\1\t\2/p' "$TMP/$label.err" |
        awk -F'\t' -v kind="${label%-*}" '{ printf "%s\t%s\t%s\n", kind, $1, $2 }' >>"$TMP/stages.tsv"
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$timelog")
    CPU_S=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$timelog")
    FS_OUT=$(awk -F': ' '/File system outputs/ { print $2 }' "$timelog")
}

# check_first_import: every row of every file created, nothing else.
check_first_import() {
    local label=$1 outcome
    outcome=$(jq -r .outcome "$JSON")
    [ "$outcome" = imported ] || die "$label: outcome $outcome"
    local pair entity file want got
    for pair in orgs:orgs sessions:academicSessions courses:courses classes:classes users:users roles:roles enrollments:enrollments; do
        entity=${pair%%:*}
        file=${pair#*:}
        want=${ROWS[$file]}
        got=$(jq -r ".counts.$entity.created" "$JSON")
        [ "$got" = "$want" ] || die "$label: $entity created $got, expected $want ($file.csv rows); $(jq -c .counts "$JSON")"
    done
    local other
    other=$(jq '[.counts[] | .updated + .retired] | add' "$JSON")
    [ "$other" = 0 ] || die "$label: a first import updated or retired $other rows"
}

# check_unchanged LABEL [quick|full]: an unchanged re-import creates, updates and retires nothing,
# logs nothing; answered from the import log (quick) or by comparing every row (full, --recheck).
check_unchanged() {
    local label=$1 how=${2:-quick} outcome changed since
    outcome=$(jq -r .outcome "$JSON")
    [ "$outcome" = imported ] || die "$label: outcome $outcome"
    changed=$(jq '[.counts[] | .created + .updated + .retired] | add' "$JSON")
    [ "$changed" = 0 ] || die "$label: the unchanged re-import changed $changed rows: $(jq -c .counts "$JSON")"
    [ "$(jq -r .id "$JSON")" = null ] || die "$label: the unchanged re-import wrote an import log entry"
    since=$(jq -r .unchanged_since "$JSON")
    if [ "$how" = quick ]; then
        [ "$since" != null ] || die "$label: the same files were compared again instead of answered from the log"
    else
        [ "$since" = null ] || die "$label: --recheck was answered from the log"
    fi
}

# ---------------------------------------------------------------- the peer: PostgreSQL COPY
COPY_DB=kj_copy_$$
copy_peer() {
    create_db "$COPY_DB"
    local ddl=$TMP/copy-ddl.sql copies=$TMP/copy.sql f cols
    : >"$ddl"
    : >"$copies"
    for f in "${FILES[@]}"; do
        cols=$(head -n 1 "$PKG/$f.csv" | tr -d '\r' | awk -F, '{ for (i = 1; i <= NF; i++) printf "%s\"%s\" text", (i > 1 ? ", " : ""), $i }')
        printf 'CREATE TABLE "%s" (%s);\n' "$f" "$cols" >>"$ddl"
        printf "\\\\copy \"%s\" FROM '%s' WITH (FORMAT csv, HEADER true)\n" "$f" "$PKG/$f.csv" >>"$copies"
    done
    psql "$PG_URL/$COPY_DB" -X -q -v ON_ERROR_STOP=1 -f "$ddl" >/dev/null
    local t0 t1
    t0=$(now)
    psql "$PG_URL/$COPY_DB" -X -q -v ON_ERROR_STOP=1 -f "$copies" >/dev/null
    t1=$(now)
    COPY_S=$(elapsed "$t0" "$t1")
    # The peer loaded every row.
    for f in "${FILES[@]}"; do
        local n
        n=$(psql "$PG_URL/$COPY_DB" -X -q -At -c "SELECT count(*) FROM \"$f\"")
        [ "$n" = "${ROWS[$f]}" ] || die "COPY: $f has $n rows, expected ${ROWS[$f]}"
    done
    drop_db "$COPY_DB"
}

# A second reference, for scale (not a goal): the sqlite3 shell's `.import` of the same files
# into plain tables of a fresh SQLite file — SQLite's own bare bulk-load speed. Only when the
# sqlite3 shell is installed.
sqlite_peer() {
    SQLITE_S=nan
    command -v sqlite3 >/dev/null 2>&1 || return 0
    local db=$TMP/bare.db script=$TMP/bare.sql f t0 t1
    rm -f "$db"
    printf '.mode csv\n' >"$script"
    for f in "${FILES[@]}"; do printf ".import '%s' %s\n" "$PKG/$f.csv" "$f" >>"$script"; done
    t0=$(now)
    sqlite3 "$db" <"$script"
    t1=$(now)
    SQLITE_S=$(elapsed "$t0" "$t1")
    [ "$(sqlite3 "$db" 'SELECT count(*) FROM enrollments')" = "${ROWS[enrollments]}" ] || die "sqlite3 .import lost rows"
    rm -f "$db"
}

# ---------------------------------------------------------------- runs
declare -a R_LITE R_SQ R_SQ_RSS R_SQ_CPU R_RE R_RE_RSS R_RE_CPU R_RE_OUT R_RC R_RC_RSS R_RC_CPU R_PG R_PG_RSS R_PG_CPU R_PGRE R_COPY
printf '%-4s %10s %10s %10s %10s %10s %10s %10s\n' run 'sqlite s' 'RSS MiB' 're-imp s' 'pg s' 'pg RSS' 'pg re s' 'COPY s' >&2
for run in $(seq 1 "$RUNS"); do
    data=$TMP/data-$run
    # a. Kongjian into a fresh SQLite data dir.
    kj_import "sqlite-$run" KONGJIAN_DATA_DIR="$data"
    check_first_import "sqlite-$run"
    R_SQ+=("$WALL") R_SQ_RSS+=("$RSS_KB") R_SQ_CPU+=("$CPU_S")
    # b. The same package again on the same data dir: nothing to write.
    db_sum=$(cat "$data/kongjian.db" | cksum)
    kj_import "reimport-$run" KONGJIAN_DATA_DIR="$data"
    check_unchanged "reimport-$run"
    R_RE+=("$WALL") R_RE_RSS+=("$RSS_KB") R_RE_CPU+=("$CPU_S") R_RE_OUT+=("$FS_OUT")
    [ "$(cat "$data/kongjian.db" | cksum)" = "$db_sum" ] || say "note: kongjian.db changed during the unchanged re-import"
    # b'. The same again with --recheck: every row compared (what any changed package costs).
    KJ_FLAGS=--recheck kj_import "recheck-$run" KONGJIAN_DATA_DIR="$data"
    check_unchanged "recheck-$run" full
    R_RC+=("$WALL") R_RC_RSS+=("$RSS_KB") R_RC_CPU+=("$CPU_S")
    [ "$(cat "$data/kongjian.db" | cksum)" = "$db_sum" ] || say "note: kongjian.db changed during the --recheck re-import"
    rm -rf "$data"

    # c. Kongjian into a fresh PostgreSQL database (and the unchanged re-import there too).
    if [ -z "${SKIP_PG:-}" ]; then
        pgdb=kj_bench_$$
        create_db "$pgdb"
        kj_import "pg-$run" KONGJIAN_DATA_DIR="$TMP/pgdata-$run" KONGJIAN_DATABASE_URL="$PG_URL/$pgdb"
        check_first_import "pg-$run"
        R_PG+=("$WALL") R_PG_RSS+=("$RSS_KB") R_PG_CPU+=("$CPU_S")
        kj_import "pgre-$run" KONGJIAN_DATA_DIR="$TMP/pgdata-$run" KONGJIAN_DATABASE_URL="$PG_URL/$pgdb"
        check_unchanged "pgre-$run"
        R_PGRE+=("$WALL")
        drop_db "$pgdb"
    else
        R_PG+=(nan) R_PG_RSS+=(0) R_PG_CPU+=(nan) R_PGRE+=(nan)
    fi

    # d. The peer.
    copy_peer
    R_COPY+=("$COPY_S")
    sqlite_peer
    R_LITE+=("$SQLITE_S")

    printf '%-4s %10s %10d %10s %10s %10d %10s %10s\n' "$run" "${R_SQ[-1]}" $((R_SQ_RSS[-1] / 1024)) "${R_RE[-1]}" \
        "${R_PG[-1]}" $((R_PG_RSS[-1] / 1024)) "${R_PGRE[-1]}" "${R_COPY[-1]}" >&2
done

# ---------------------------------------------------------------- report
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.2f", a / b; else print "n/a" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
yes_no() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == a + 0 && a <= b) ? 1 : 0 }'; }

M_SQ=$(median "${R_SQ[@]}")
M_SQ_RSS=$(median "${R_SQ_RSS[@]}")
M_SQ_CPU=$(median "${R_SQ_CPU[@]}")
M_RE=$(median "${R_RE[@]}")
M_RE_RSS=$(median "${R_RE_RSS[@]}")
M_RE_CPU=$(median "${R_RE_CPU[@]}")
M_RE_OUT=$(median "${R_RE_OUT[@]}")
M_RC=$(median "${R_RC[@]}")
M_RC_RSS=$(median "${R_RC_RSS[@]}")
M_RC_CPU=$(median "${R_RC_CPU[@]}")
M_PG=$(median "${R_PG[@]}")
M_PG_RSS=$(median "${R_PG_RSS[@]}")
M_PG_CPU=$(median "${R_PG_CPU[@]}")
M_PGRE=$(median "${R_PGRE[@]}")
M_COPY=$(median "${R_COPY[@]}")
M_LITE=$(median "${R_LITE[@]}")
MAX_RSS=$(printf '%s\n' "${R_SQ_RSS[@]}" | sort -g | tail -n 1)
MAX_RE_RSS=$(printf '%s\n' "${R_RE_RSS[@]}" "${R_RC_RSS[@]}" | sort -g | tail -n 1)

echo
echo "Roster import benchmark — $SCHOOLS schools, seed $SEED, $RUNS run(s), medians; $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "kongjian: $BIN (release); peer: PostgreSQL $(psql_admin -At -c 'SHOW server_version') \\copy into unconstrained text tables"
echo "district generated in ${GEN_S}s, ${PKG_MB} MiB of CSV"
echo
printf '%-22s %10s\n' file rows
for f in "${FILES[@]}"; do printf '%-22s %10d\n' "$f.csv" "${ROWS[$f]}"; done
printf '%-22s %10d\n' total "$TOTAL_ROWS"
echo
printf '%-40s %9s %10s %9s %12s\n' measurement 'wall s' 'peak RSS' 'CPU s' 'rows/s'
printf '%-40s %9s %7s MiB %9s %12.0f\n' "a. Kongjian import → SQLite" "$M_SQ" "$(mib "$M_SQ_RSS")" "$M_SQ_CPU" "$(awk -v n="$TOTAL_ROWS" -v s="$M_SQ" 'BEGIN { print n / s }')"
printf '%-40s %9s %7s MiB %9s   %s\n' "b. unchanged re-import → SQLite" "$M_RE" "$(mib "$M_RE_RSS")" "$M_RE_CPU" "($(awk -v b="$M_RE_OUT" 'BEGIN { printf "%.0f", b / 2 }') KiB written)"
printf '%-40s %9s %7s MiB %9s\n' "b'. re-import with --recheck → SQLite" "$M_RC" "$(mib "$M_RC_RSS")" "$M_RC_CPU"
if [ -z "${SKIP_PG:-}" ]; then
    printf '%-40s %9s %7s MiB %9s %12.0f\n' "c. Kongjian import → PostgreSQL" "$M_PG" "$(mib "$M_PG_RSS")" "$M_PG_CPU" "$(awk -v n="$TOTAL_ROWS" -v s="$M_PG" 'BEGIN { print n / s }')"
    printf '%-40s %9s\n' "   unchanged re-import → PostgreSQL" "$M_PGRE"
fi
printf '%-40s %9s %10s %9s %12.0f\n' "d. peer: PostgreSQL \\copy (7 files)" "$M_COPY" "" "" "$(awk -v n="$TOTAL_ROWS" -v s="$M_COPY" 'BEGIN { print n / s }')"
if [ "$M_LITE" != nan ]; then
    printf '%-40s %9s %10s %9s %12.0f\n' "   for scale: sqlite3 .import (7 files)" "$M_LITE" "" "" "$(awk -v n="$TOTAL_ROWS" -v s="$M_LITE" 'BEGIN { print n / s }')"
fi
if [ -s "$TMP/stages.tsv" ]; then
    echo
    echo "stages (median ms, from the server's log):"
    for kind in sqlite reimport recheck pg pgre; do
        grep -q "^$kind"$'\t' "$TMP/stages.tsv" || continue
        awk -F'\t' -v k="$kind" '$1 == k && !seen[$2]++ { print $2 }' "$TMP/stages.tsv" | while IFS= read -r stage; do
            printf '  %-9s %-36s %8s\n' "$kind" "$stage" \
                "$(median $(awk -F'\t' -v k="$kind" -v s="$stage" '$1 == k && $2 == s { print $3 }' "$TMP/stages.tsv"))"
        done
    done
fi
echo
echo "ratios (< 1.0 = faster than the peer):"
printf '  %-36s %s\n' "Kongjian SQLite / PG COPY" "$(ratio "$M_SQ" "$M_COPY")"
[ -z "${SKIP_PG:-}" ] && printf '  %-36s %s\n' "Kongjian PostgreSQL / PG COPY" "$(ratio "$M_PG" "$M_COPY")"
[ "$M_LITE" != nan ] && printf '  %-36s %s\n' "(sqlite3 .import / PG COPY)" "$(ratio "$M_LITE" "$M_COPY")"
echo
echo "goals:"
printf '  %-36s %-8s (%s s)\n' "import ≤ ${GOAL_IMPORT_S} s" "$(yes_no "$(le "$M_SQ" "$GOAL_IMPORT_S")")" "$M_SQ"
printf '  %-36s %-8s (%s MiB, highest of the SQLite imports)\n' "peak RSS ≤ 1.5 GiB" "$(yes_no "$(le "$MAX_RSS" "$GOAL_RSS_KB")")" "$(mib "$MAX_RSS")"
printf '  %-36s %-8s (%s s vs %s s)\n' "import ≤ PG COPY time" "$(yes_no "$(le "$M_SQ" "$M_COPY")")" "$M_SQ" "$M_COPY"
printf '  %-36s %-8s (%s s; created=updated=retired=0, no log entry)\n' "unchanged re-import ≤ ${GOAL_REIMPORT_S} s" "$(yes_no "$(le "$M_RE" "$GOAL_REIMPORT_S")")" "$M_RE"
printf '  %-36s %-8s (%s MiB, highest of the re-imports)\n' "(also) re-import peak RSS ≤ 1.5 GiB" "$(yes_no "$(le "$MAX_RE_RSS" "$GOAL_RSS_KB")")" "$(mib "$MAX_RE_RSS")"
echo
echo "per run (s): sqlite ${R_SQ[*]} | re-import ${R_RE[*]} | --recheck ${R_RC[*]} | pg ${R_PG[*]} | pg re-import ${R_PGRE[*]} | copy ${R_COPY[*]} | sqlite3 .import ${R_LITE[*]}"
