#!/bin/sh
# bench/run.sh - time jinpu and the peer tools on the same generated CSVs, check
# that they give the same answers, print a markdown table.  `make bench` runs it.
#
#   sh bench/run.sh [--sizes 1m,5m] [--reps 3] [--only REGEX]
#
#   --sizes  row counts, comma-separated: 1m, 5m, 200k, 30000 (default 1m)
#   --reps   runs per case, taken in turns (every case once, then again);
#            the median wall time is reported (default 3)
#   --only   run only the cases whose "WORKLOAD tool" matches REGEX (grep -E),
#            e.g. --only 'W1' or --only 'jinpu|DuckDB 2' (BATCH, the per-job
#            overhead of jinpu batch against xargs, is bench/batch.sh)
#
# Environment: JINPU (default ./jinpu), BENCH_DIR (default build/bench: the
# generator, data/, out/, results-*.md), DUCKDB_NODE_DIR (a node_modules
# directory holding @duckdb/node-api), BENCH_TIMEOUT (seconds per run, 600),
# CC (default cc).
#
# Exit status: 0 when every jinpu case ran and agreed with the reference
# answers; 1 when a jinpu case failed or disagreed; 2 on usage errors or when
# the harness itself cannot be built.  A peer that fails or disagrees is shown
# in the table and the checks but does not change the exit status.
#
# The reference answers come from the generator, which computes them from the
# integers it prints; every tool, jinpu and peers alike, is checked against
# them, so the peers also confirm the reference.  Data and outputs stay under
# BENCH_DIR and never go into the source tree.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
WORK=${BENCH_DIR:-$ROOT/build/bench}
JINPU=${JINPU:-$ROOT/jinpu}
TIMEOUT=${BENCH_TIMEOUT:-600}
CC=${CC:-cc}
SIZES=1m
REPS=3
ONLY=

usage() { # the comment block at the top of this file
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

die() {
    echo "bench: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --sizes) [ $# -ge 2 ] || die "--sizes needs a value"; SIZES=$2; shift 2 ;;
    --sizes=*) SIZES=${1#--sizes=}; shift ;;
    --reps) [ $# -ge 2 ] || die "--reps needs a value"; REPS=$2; shift 2 ;;
    --reps=*) REPS=${1#--reps=}; shift ;;
    --only) [ $# -ge 2 ] || die "--only needs a value"; ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#--only=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
case $REPS in '' | *[!0-9]* | 0) die "--reps wants a whole number >= 1, not '$REPS'" ;; esac

# "1m" -> 1000000, "200k" -> 200000, "30000" -> 30000
rows_of() {
    case $1 in
    *[!0-9kKmM]* | '' | [kKmM]*) return 1 ;;
    *[kK]) echo $((${1%[kK]} * 1000)) ;;
    *[mM]) echo $((${1%[mM]} * 1000000)) ;;
    *[!0-9]*) return 1 ;;
    *) echo "$1" ;;
    esac
}
for s in $(echo "$SIZES" | tr ',' ' '); do
    rows_of "$s" >/dev/null || die "bad size '$s' (use e.g. 1m, 5m, 200k)"
done

mkdir -p "$WORK/data" "$WORK/out" || die "cannot create $WORK"
H=$WORK/harness
$CC -O2 -std=c11 -o "$WORK/gen" "$BENCH/gen.c" -lm || die "cannot build the generator"
$CC -O2 -std=c11 -o "$H" "$BENCH/harness.c" -lm || die "cannot build the harness"

STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS=$WORK/out/results.tsv    # size workload tool status median_s rss_kb seq
CHECKS=$WORK/out/checks.txt
NOTES=$WORK/out/notes.txt
: >"$RESULTS"
: >"$CHECKS"
: >"$NOTES"
JINPU_BAD=0
SEQ=0

note() {
    grep -qxF -- "$*" "$NOTES" 2>/dev/null || echo "$*" >>"$NOTES"
}

# ---- peers: each only when it is installed --------------------------------

have() { command -v "$1" >/dev/null 2>&1; }

PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import pandas' >/dev/null 2>&1; then PY=$p; break; fi
done

DUCK=
if have node; then
    for d in ${DUCKDB_NODE_DIR:-} "$BENCH/node_modules" /tmp/perf/duckdb_npm/node_modules; do
        [ -n "$d" ] || continue
        [ -d "$d/node_modules/@duckdb/node-api" ] && d=$d/node_modules
        if [ -d "$d/@duckdb/node-api" ] &&
            node "$BENCH/peers/duckdb_w.cjs" "$d" NOP - - 1 >/dev/null 2>&1; then
            DUCK=$d
            break
        fi
    done
fi

[ -x "$JINPU" ] || note "jinpu: no binary at $JINPU (run make, or set JINPU): its cases fail"
[ -n "$PY" ] || note "pandas: skipped (no python3 that can import pandas)"
[ -n "$DUCK" ] || note "DuckDB: skipped (node with @duckdb/node-api not found: set DUCKDB_NODE_DIR, or npm install @duckdb/node-api in bench/)"
have mlr || note "Miller: skipped (mlr not installed)"
have sqlite3 || note "sqlite3: skipped (not installed)"
have lua5.4 || note "plain Lua: skipped (lua5.4 not installed)"
have gzip || note "gzip: skipped (not installed; W2 and EXPORT outputs cannot be checked)"
have pigz || note "pigz: skipped (not installed)"

export IN OUT JINPU BENCH PY DUCK

# ---- running one case -------------------------------------------------------

median() { # numbers on stdin
    sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

is_jinpu() {
    case $1 in jinpu*) return 0 ;; esac
    return 1
}

record() { # workload tool status median rss
    SEQ=$((SEQ + 1))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SIZE" "$1" "$2" "$3" "$4" "$5" "$SEQ" >>"$RESULTS"
}

verdict() { # workload tool rc text
    printf '%-4s %-8s %-24s %s\n' "$SIZE" "$1" "$2" "$4" >>"$CHECKS"
    printf '       check: %s\n' "$4"
    if [ "$3" -ne 0 ]; then
        if is_jinpu "$2"; then JINPU_BAD=1; else note "a peer disagreed with the reference: see the checks"; fi
    fi
}

# run_case WORKLOAD TOOL SUFFIX COMMAND: COMMAND is run by sh -c with $IN
# (the CSV) and $OUT (where its output goes, ending in SUFFIX) set.
# It runs once per round (ROUND = 1..REPS): the cases take turns, so that a
# burst of other work on the machine is shared among them instead of landing
# on one.  The last round reports the median and checks the output.
run_case() {
    w=$1 tool=$2 suf=$3 cmd=$4
    if [ -n "$ONLY" ] && ! printf '%s %s\n' "$w" "$tool" | grep -Eq -- "$ONLY"; then return 0; fi
    tag=$(printf '%s_%s_%s' "$SIZE" "$w" "$tool" | tr -c 'A-Za-z0-9' '_')
    OUT=$WORK/out/$tag$suf
    log=$WORK/out/$tag.log
    runs=$WORK/out/$tag.runs # "wall_s maxrss_kb" per run
    if [ "$ROUND" -eq 1 ]; then
        rm -f "$runs"
    elif [ ! -f "$runs" ]; then
        return 0 # failed in an earlier round
    fi
    rm -f "$OUT"
    "$H" time "$WORK/out/time.txt" "$TIMEOUT" sh -c "$cmd" >"$log" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        rm -f "$runs"
        why="exit status $rc"
        [ $rc -eq 124 ] && why="timed out after ${TIMEOUT}s"
        printf '%-4s %-8s %-24s FAILED (%s)\n' "$SIZE" "$w" "$tool" "$why"
        head -n 3 "$log" | sed 's/^/       | /'
        record "$w" "$tool" FAILED - -
        printf '%-4s %-8s %-24s FAILED: %s; %s\n' "$SIZE" "$w" "$tool" "$why" \
            "$(grep -m1 . "$log" | cut -c1-200)" >>"$CHECKS"
        is_jinpu "$tool" && JINPU_BAD=1
        return 0
    fi
    read -r wall _user _sys kb <"$WORK/out/time.txt"
    echo "$wall $kb" >>"$runs"
    if [ "$ROUND" -lt "$REPS" ]; then
        printf '%-4s %-8s %-24s %8.3f s\n' "$SIZE" "$w" "$tool" "$wall"
        return 0
    fi
    med=$(cut -d' ' -f1 "$runs" | median)
    rss=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$runs")
    printf '%-4s %-8s %-24s %8.3f s  median %.3f s of%s  rss %.1f MB\n' "$SIZE" "$w" "$tool" "$wall" \
        "$med" "$(cut -d' ' -f1 "$runs" | awk '{ printf " %.3f", $1 }')" \
        "$(echo "$rss" | awk '{ print $1 / 1024 }')"
    record "$w" "$tool" ok "$med" "$rss"
    check_case "$w" "$tool"
}

# ---- checking one case's output against the reference --------------------------

check_case() {
    w=$1 tool=$2
    case $w in
    W1)
        text=$("$H" w1 "$IN.w1.csv" "$OUT" 2>&1)
        verdict "$w" "$tool" $? "$text"
        ;;
    W3)
        text=$("$H" num "$REF_SUM" "$OUT" 2>&1)
        verdict "$w" "$tool" $? "$text"
        ;;
    W2)
        if ! have gzip; then verdict "$w" "$tool" 0 "not checked (no gzip)"; return; fi
        if ! gzip -t "$OUT" 2>/dev/null; then
            verdict "$w" "$tool" 1 "gzip -t fails MISMATCH"
            return
        fi
        text=$(gzip -dc "$OUT" | "$H" csv output_t "$REF_ROWS" "$REF_SUM" 2>&1)
        rc=$?
        if gzip -dc "$OUT" | cmp -s - "$IN"; then same="byte-identical to the input"; else same="re-serialised"; fi
        verdict "$w" "$tool" $rc "gzip -t ok, $same, $text"
        ;;
    EXPORT)
        if ! have gzip; then verdict "$w" "$tool" 0 "not checked (no gzip)"; return; fi
        if ! gzip -t "$OUT" 2>/dev/null; then
            verdict "$w" "$tool" 1 "gzip -t fails MISMATCH"
            return
        fi
        entry=$(tar -tzf "$OUT" 2>/dev/null | grep '\.csv$' | head -n 1)
        if [ -z "$entry" ]; then
            verdict "$w" "$tool" 1 "no .csv entry in the archive MISMATCH"
            return
        fi
        text=$(tar -xzOf "$OUT" "$entry" | "$H" csv output_t "$REF_ROWS" "$REF_SUM" 2>&1)
        rc=$?
        if is_jinpu "$tool"; then
            if vtext=$("$JINPU" verify "$OUT" 2>&1); then
                text="$text; jinpu verify ok"
            else
                rc=1
                text="$text; jinpu verify FAILS: $(printf '%s' "$vtext" | tail -n 1 | cut -c1-120)"
            fi
        fi
        verdict "$w" "$tool" $rc "gzip -t ok, $entry: $text"
        ;;
    W5 | SORT)
        n=1000
        [ "$w" = SORT ] && n=0
        text=$("$H" order "$IN" "$OUT" $n 2>&1)
        verdict "$w" "$tool" $? "$text"
        ;;
    JOIN)
        text=$("$H" share "$IN" "$OUT" 2>&1)
        verdict "$w" "$tool" $? "$text"
        ;;
    WINDOW)
        text=$("$H" window "$IN" "$OUT" 2>&1)
        verdict "$w" "$tool" $? "$text"
        ;;
    XLSX)
        if ! have unzip; then verdict "$w" "$tool" 0 "not checked (no unzip)"; return; fi
        rows=$(unzip -p "$OUT" xl/worksheets/sheet1.xml 2>/dev/null | grep -o '<row ' | wc -l | tr -d ' ')
        mem=$(sed -n 's/.*dataset held in \([0-9]*\) KB, peak while writing \([0-9]*\) KB.*/\1 \2/p' "$log")
        text=$(echo "$rows $REF_ROWS $mem" | awk '{
            ok = ($1 == $2 + 1)
            r = $3 > 0 ? $4 / $3 : 99
            printf "%d rows and a header%s; peak while writing %.0f MB = %.2fx the process holding the dataset (%.0f MB, target < 1.5)%s",
                $1 - 1, ok ? "" : " (expected " $2 ")", $4 / 1024, r, $3 / 1024, (ok && r < 1.5) ? " OK" : " MISMATCH"
            exit !(ok && r < 1.5) }')
        verdict "$w" "$tool" $? "$text"
        ;;
    SQLITE)
        table=crops
        is_jinpu "$tool" && table=$(basename "$IN" .csv)
        got=$(sqlite3 "$OUT" "SELECT count(*), printf('%.6f', sum(output_t)) FROM \"$table\"" 2>&1)
        printf '%s\n' "${got#*|}" >"$OUT.sum"
        text=$("$H" num "$REF_SUM" "$OUT.sum" 2>&1)
        rc=$?
        [ "${got%%|*}" = "$REF_ROWS" ] || rc=1
        verdict "$w" "$tool" $rc "rows ${got%%|*} (expected $REF_ROWS), sum(output_t) $text"
        ;;
    VALIDATE)
        got=$(sed -n 1p "$OUT" 2>/dev/null)
        secs=$(sed -n 2p "$OUT" 2>/dev/null)
        broken=$(sed -n 3p "$OUT" 2>/dev/null)
        cpu=$(sed -n 4p "$OUT" 2>/dev/null)
        readt=$(sed -n 5p "$OUT" 2>/dev/null)
        extra=
        [ -n "$secs" ] && extra=" (validate() alone: $secs s wall${cpu:+, $cpu s CPU}${readt:+; the read before it: $readt s})"
        if [ -n "$broken" ] && [ "$broken" != 0 ]; then
            verdict "$w" "$tool" 1 "errors=$got but $broken rule(s) could not run$extra MISMATCH"
        elif [ "$got" = "$REF_ERRORS" ]; then
            verdict "$w" "$tool" 0 "errors=$got$extra OK"
        else
            verdict "$w" "$tool" 1 "errors=$got, expected $REF_ERRORS$extra MISMATCH"
        fi
        ;;
    esac
}

# ---- the cases ------------------------------------------------------------------

run_size() {
    # W1: read, keep output_t > 456.0, derive yield, group by district and year,
    # count / sum / mean, sort, write CSV
    run_case W1 "jinpu (expressions)" .csv '"$JINPU" run "$BENCH/jinpu_w.lua" W1 "$IN" "$OUT"'
    run_case W1 "jinpu (Lua functions)" .csv '"$JINPU" run "$BENCH/jinpu_w.lua" W1fn "$IN" "$OUT"'
    if [ -n "$DUCK" ]; then
        run_case W1 "DuckDB 2 threads" .csv 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W1 "$IN" "$OUT" 2'
        run_case W1 "DuckDB 1 thread" .csv 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W1 "$IN" "$OUT" 1'
    fi
    [ -z "$PY" ] || run_case W1 pandas .csv '"$PY" "$BENCH/peers/pandas_w.py" W1 "$IN" "$OUT"'
    have mlr && run_case W1 Miller .csv 'sh "$BENCH/peers/mlr_w.sh" W1 "$IN" "$OUT"'
    have sqlite3 && run_case W1 sqlite3 .csv 'sh "$BENCH/peers/sqlite_w.sh" W1 "$IN" "$OUT"'
    have lua5.4 && run_case W1 "plain Lua 5.4" .csv 'lua5.4 "$BENCH/peers/plain.lua" W1 "$IN" "$OUT"'

    # W2: read, write the same rows as .csv.gz at level 6
    run_case W2 "jinpu" .csv.gz '"$JINPU" run "$BENCH/jinpu_w.lua" W2 "$IN" "$OUT"'
    [ -z "$DUCK" ] || run_case W2 "DuckDB 2 threads" .csv.gz 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W2 "$IN" "$OUT" 2'
    have gzip && run_case W2 "gzip -6" .csv.gz 'gzip -6 -c "$IN" >"$OUT"'
    have pigz && run_case W2 "pigz -6 -p 2" .csv.gz 'pigz -6 -p 2 -c "$IN" >"$OUT"'

    # W3: read one column, sum it
    run_case W3 "jinpu" .txt '"$JINPU" run "$BENCH/jinpu_w.lua" W3 "$IN" "$OUT"'
    if [ -n "$DUCK" ]; then
        run_case W3 "DuckDB 2 threads" .txt 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W3 "$IN" "$OUT" 2'
        run_case W3 "DuckDB 1 thread" .txt 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W3 "$IN" "$OUT" 1'
    fi
    [ -z "$PY" ] || run_case W3 pandas .txt '"$PY" "$BENCH/peers/pandas_w.py" W3 "$IN" "$OUT"'
    have mlr && run_case W3 Miller .txt 'sh "$BENCH/peers/mlr_w.sh" W3 "$IN" "$OUT"'
    have sqlite3 && run_case W3 sqlite3 .txt 'sh "$BENCH/peers/sqlite_w.sh" W3 "$IN" "$OUT"'
    have lua5.4 && run_case W3 "plain Lua 5.4" .txt 'lua5.4 "$BENCH/peers/plain.lua" W3 "$IN" "$OUT"'

    # EXPORT: the CSV into a .tar.gz archive (level 6) with manifest and checksums
    run_case EXPORT "jinpu export" .tar.gz '"$JINPU" export -o "$OUT" "$IN"'
    have pigz && run_case EXPORT "tar | pigz -6 -p 2" .tar.gz \
        'tar -C "$(dirname "$IN")" -cf - "$(basename "$IN")" | pigz -6 -p 2 >"$OUT"'

    # XLSX: every row as an Excel workbook (the xlsx plugin, streaming);
    # SQLITE: jinpu export into a SQLite database (the sqlite plugin) against
    # the sqlite3 shell's .import of the same CSV into a typed table
    run_case XLSX "jinpu ds:write xlsx" .xlsx '"$JINPU" run "$BENCH/jinpu_w.lua" XLSX "$IN" "$OUT"'
    run_case SQLITE "jinpu export sqlite" .sqlite '"$JINPU" export -o "$OUT" "$IN"'
    have sqlite3 && run_case SQLITE "sqlite3 .import" .sqlite 'sh "$BENCH/peers/sqlite_w.sh" IMPORT "$IN" "$OUT"'

    # W5: sort by two keys, keep the first 1000 rows (a top-N); SORT: every row
    run_case W5 "jinpu" .csv '"$JINPU" run "$BENCH/jinpu_w.lua" W5 "$IN" "$OUT"'
    [ -z "$DUCK" ] || run_case W5 "DuckDB 2 threads" .csv 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" W5 "$IN" "$OUT" 2'
    run_case SORT "jinpu" .csv '"$JINPU" run "$BENCH/jinpu_w.lua" SORT "$IN" "$OUT"'
    [ -z "$DUCK" ] || run_case SORT "DuckDB 2 threads" .csv 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" SORT "$IN" "$OUT" 2'

    # JOIN: each row's share of its group: the group table joined back onto the rows
    run_case JOIN "jinpu" .txt '"$JINPU" run "$BENCH/jinpu_w.lua" JOIN "$IN" "$OUT"'
    [ -z "$DUCK" ] || run_case JOIN "DuckDB 2 threads" .txt 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" JOIN "$IN" "$OUT" 2'

    # WINDOW: per district, in (year, output_t) order, lag and a running sum of output_t
    run_case WINDOW "jinpu" .txt '"$JINPU" run "$BENCH/jinpu_w.lua" WINDOW "$IN" "$OUT"'
    [ -z "$DUCK" ] || run_case WINDOW "DuckDB 2 threads" .txt 'node "$BENCH/peers/duckdb_w.cjs" "$DUCK" WINDOW "$IN" "$OUT" 2'
    [ -z "$PY" ] || run_case WINDOW pandas .txt '"$PY" "$BENCH/peers/pandas_w.py" WINDOW "$IN" "$OUT"'

    # VALIDATE: constraints on seven fields and two row rules over every row
    run_case VALIDATE "jinpu" .txt '"$JINPU" run "$BENCH/jinpu_w.lua" VALIDATE "$IN" "$OUT"'
    [ -z "$PY" ] || run_case VALIDATE pandas .txt '"$PY" "$BENCH/peers/pandas_w.py" VALIDATE "$IN" "$OUT"'
    return 0
}

# ---- main ---------------------------------------------------------------------

ref_value() { # key file
    awk -v k="$1" '$1 == k { print $2 }' "$2"
}

# Other work on the machine skews every time: the load average says how much there was.
loadavg() {
    cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?'
}
LOAD_START=$(loadavg)

echo "jinpu bench: sizes $SIZES, $REPS run(s) per case, data in $WORK/data (load average $LOAD_START)"
for SIZE in $(echo "$SIZES" | tr ',' ' '); do
    n=$(rows_of "$SIZE")
    IN=$WORK/data/d$SIZE.csv
    if [ ! -s "$IN.ref" ] || [ ! -s "$IN" ] || [ "$(ref_value rows "$IN.ref")" != "$n" ] ||
        [ "$(ref_value bytes "$IN.ref")" != "$(wc -c <"$IN" | tr -d ' ')" ]; then
        printf 'generating %s rows into %s ... ' "$n" "$IN"
        rm -f "$IN.ref"
        "$WORK/gen" "$n" "$IN" || die "the generator failed"
        echo "done"
    fi
    REF_ROWS=$(ref_value rows "$IN.ref")
    REF_SUM=$(ref_value sum_output_t "$IN.ref")
    REF_ERRORS=$(ref_value validate_errors "$IN.ref")
    cat "$IN" >/dev/null # into the page cache: parsing is measured, not the disk
    t0=$(date +%s)
    ROUND=0
    while [ $ROUND -lt "$REPS" ]; do
        ROUND=$((ROUND + 1))
        echo "-- $SIZE, round $ROUND of $REPS"
        run_size
    done
    echo "$SIZE: all cases in $(($(date +%s) - t0)) s"
done

# BATCH: per-job overhead of jinpu batch against xargs (bench/batch.sh)
BATCH_MD=
if [ -z "$ONLY" ] || printf 'BATCH jinpu batch\n' | grep -Eq -- "$ONLY"; then
    echo "-- BATCH"
    BENCH_DIR=$WORK JINPU=$JINPU CC=$CC sh "$BENCH/batch.sh" --reps "$REPS" || JINPU_BAD=1
    BATCH_MD=$WORK/out/batch.md
fi

# ---- report ---------------------------------------------------------------------

machine() {
    cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
    echo "Machine: $(nproc 2>/dev/null || echo '?') cores, ${cpu:-unknown CPU}, $(uname -sr); load average $LOAD_START at the start, $(loadavg) at the end"
    v=
    [ -x "$JINPU" ] && v="$v $("$JINPU" --version 2>/dev/null | head -n 1);"
    [ -n "$DUCK" ] && v="$v DuckDB node-api $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$DUCK/@duckdb/node-api/package.json" | head -n 1);"
    [ -n "$PY" ] && v="$v pandas $("$PY" -c 'import pandas; print(pandas.__version__)');"
    have mlr && v="$v $(mlr --version 2>/dev/null | head -n 1);"
    have sqlite3 && v="$v sqlite3 $(sqlite3 --version | cut -d' ' -f1);"
    have lua5.4 && v="$v $(lua5.4 -v 2>&1 | cut -d' ' -f1-2);"
    have pigz && v="$v $(pigz --version 2>&1 | head -n 1);"
    have gzip && v="$v gzip $(gzip --version | head -n 1 | awk '{ print $NF }');"
    echo "Versions:${v%;}"
}

# Ratio base per workload: W1-W3 DuckDB with 2 threads (else jinpu's main
# row), EXPORT pigz -6 -p 2 on the same CSV (its W2 row; gzip -6 without
# pigz), VALIDATE jinpu.
table() {
    awk -F '\t' -v OFS='\t' -v sizes="$SIZES" -v mbytes_file="$WORK/out/mbytes.tsv" '
    BEGIN {
        while ((getline line < mbytes_file) > 0) {
            split(line, a, "\t")
            mbytes[a[1]] = a[2] / 1e6
        }
    }
    function base_name(w, s) {
        if (w == "EXPORT") return t[s, "W2", "pigz -6 -p 2"] != "" ? "pigz -6 -p 2 (W2)" : "gzip -6 (W2)"
        if (w == "XLSX") return "jinpu export (EXPORT)"
        if (w == "SQLITE") return "sqlite3 .import"
        if (w != "VALIDATE" && t[s, w, "DuckDB 2 threads"] != "") return "DuckDB 2 threads"
        return w == "W1" ? "jinpu (expressions)" : "jinpu"
    }
    function base_of(w, s) {
        if (w == "EXPORT") return t[s, "W2", substr(base_name(w, s), 1, length(base_name(w, s)) - 5)]
        if (w == "XLSX") return t[s, "EXPORT", "jinpu export"]
        return t[s, w, base_name(w, s)]
    }
    {
        gsub(/\|/, "\\|", $3) # a pipe in a tool name would split the markdown cell
        row[NR] = $0
        if ($4 == "ok") t[$1, $2, $3] = $5
    }
    END {
        nw = split("W1 W2 W3 W5 SORT JOIN WINDOW EXPORT XLSX SQLITE VALIDATE", W, " ")
        ns = split(sizes, S, ",")
        print "| workload | tool | size | median s | MB/s | peak RSS MB | x base | base |"
        print "|---|---|---|---:|---:|---:|---:|---|"
        for (i = 1; i <= nw; i++) for (j = 1; j <= ns; j++) for (k = 1; k <= NR; k++) {
            split(row[k], f, "\t")
            if (f[2] != W[i] || f[1] != S[j]) continue
            if (f[4] != "ok") {
                printf "| %s | %s | %s | %s | | | | |\n", f[2], f[3], f[1], f[4]
                continue
            }
            b = base_of(f[2], f[1])
            ratio = (b != "" && b > 0) ? sprintf("%.2f", f[5] / b) : "-"
            printf "| %s | %s | %s | %.3f | %.0f | %.0f | %s | %s |\n", f[2], f[3], f[1], f[5],
                mbytes[f[1]] / f[5], f[6] / 1024, ratio, (b != "" ? base_name(f[2], f[1]) : "-")
        }
    }' "$RESULTS"
}

targets() {
    awk -F '\t' -v sizes="$SIZES" '
    $4 == "ok" { t[$1, $2, $3] = $5; m[$1, $2, $3] = $6 }
    function ratio(label, s, a, b, target) {
        if (a == "" || b == "") return
        printf "- %s at %s: %.2f%s\n", label, s, a / b, target
    }
    function mb(label, s, kb, target) {
        if (kb == "") return
        printf "- %s at %s: %.0f MB%s\n", label, s, kb / 1024, target
    }
    END {
        ns = split(sizes, S, ",")
        for (j = 1; j <= ns; j++) {
            s = S[j]
            ratio("W1 jinpu (expressions) / DuckDB 2 threads", s, t[s, "W1", "jinpu (expressions)"], t[s, "W1", "DuckDB 2 threads"], " (target < 1, aim 0.5)")
            ratio("W3 jinpu / DuckDB 2 threads", s, t[s, "W3", "jinpu"], t[s, "W3", "DuckDB 2 threads"], " (target < 1, aim 0.5)")
            ratio("W1 jinpu (Lua functions) / pandas", s, t[s, "W1", "jinpu (Lua functions)"], t[s, "W1", "pandas"], " (target < 1)")
            ratio("EXPORT jinpu export / pigz -6 -p 2", s, t[s, "EXPORT", "jinpu export"], t[s, "W2", "pigz -6 -p 2"], " (target <= 1)")
            mb("EXPORT jinpu export peak RSS", s, m[s, "EXPORT", "jinpu export"], " (target < 128 MB: the entry streams)")
            ratio("W5 (sort + head 1000) jinpu / DuckDB 2 threads", s, t[s, "W5", "jinpu"], t[s, "W5", "DuckDB 2 threads"], " (target <= 0.5)")
            ratio("W5 peak RSS jinpu / DuckDB 2 threads", s, m[s, "W5", "jinpu"], m[s, "W5", "DuckDB 2 threads"], " (target <= 1)")
            ratio("SORT jinpu / DuckDB 2 threads", s, t[s, "SORT", "jinpu"], t[s, "SORT", "DuckDB 2 threads"], " (target < 1)")
            ratio("JOIN jinpu / DuckDB 2 threads", s, t[s, "JOIN", "jinpu"], t[s, "JOIN", "DuckDB 2 threads"], " (target <= 0.5)")
            ratio("WINDOW jinpu / DuckDB 2 threads", s, t[s, "WINDOW", "jinpu"], t[s, "WINDOW", "DuckDB 2 threads"], " (target <= 0.5)")
            ratio("XLSX ds:write(x.xlsx) / jinpu export -o x.tar.gz", s, t[s, "XLSX", "jinpu ds:write xlsx"], t[s, "EXPORT", "jinpu export"], " (target <= 3)")
            ratio("SQLITE jinpu export -o x.sqlite / sqlite3 .import", s, t[s, "SQLITE", "jinpu export sqlite"], t[s, "SQLITE", "sqlite3 .import"], " (target <= 2)")
        }
    }' "$RESULTS"
}

# MB of input per size, for the MB/s column
: >"$WORK/out/mbytes.tsv"
for SIZE in $(echo "$SIZES" | tr ',' ' '); do
    printf '%s\t%s\n' "$SIZE" "$(wc -c <"$WORK/data/d$SIZE.csv" | tr -d ' ')" >>"$WORK/out/mbytes.tsv"
done

REPORT=$WORK/results-$STAMP.md
{
    echo
    echo "## Results ($REPS run(s) per case, median wall time; $(date '+%Y-%m-%d %H:%M'))"
    echo
    machine
    echo
    table
    echo
    echo "Targets:"
    targets
    echo
    if [ -n "$BATCH_MD" ] && [ -s "$BATCH_MD" ]; then
        cat "$BATCH_MD"
        echo
    fi
    echo "Checks (every output against the generator's answers):"
    echo
    sed 's/^/    /' "$CHECKS"
    if [ -s "$NOTES" ]; then
        echo
        echo "Notes:"
        sed 's/^/- /' "$NOTES"
    fi
} | tee "$REPORT"
echo
echo "(saved as $REPORT)"

if [ $JINPU_BAD -ne 0 ]; then
    echo "bench: a jinpu case failed or disagreed with the reference answers" >&2
    exit 1
fi
exit 0
