#!/bin/sh
# bench/batch.sh - the BATCH case of the benchmark: per-job overhead.
#
#   sh bench/batch.sh [--jobs N] [--reps R]     (make bench runs it)
#
# N small jobs (default 400: county-sized CSVs of 200 rows, the script
# bench/batch_job.lua) three ways, each run R times (default 3) in turns:
#   bare     xargs -P 2 running the same `jinpu run --sandbox ...` commands
#            the batch runner starts (after one mkdir of their output folders)
#   batch    `jinpu batch -j 2` into a fresh output root: the same processes,
#            plus logs, SHA-256 of inputs and outputs, records, summary
#   cached   `jinpu batch -j 2` again: nothing changed, nothing runs
# and prints the median wall times, batch / bare (target <= 1.1) and
# cached / bare (target <= 0.05), the peak RSS of the runner itself (the
# cached run starts no process), and whether batch's outputs equal bare's.
# Writes the same as markdown to $WORK/out/batch.md.  Exit 1 when a run
# failed or the outputs differ; the targets are reported, not enforced (the
# machine is shared).
#
# Environment: JINPU (default ./jinpu), BENCH_DIR (default build/bench), CC.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/build/bench}
JINPU=${JINPU:-$ROOT/jinpu}
CC=${CC:-cc}
N=400
REPS=3
while [ $# -gt 0 ]; do
    case $1 in
    --jobs) N=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    *) echo "usage: sh bench/batch.sh [--jobs N] [--reps R]" >&2; exit 2 ;;
    esac
done
case $N$REPS in *[!0-9]*) echo "bench/batch.sh: --jobs and --reps want whole numbers" >&2; exit 2 ;; esac

B=$WORK/batch
H=$WORK/harness
mkdir -p "$B" "$WORK/out" || exit 2
[ -x "$H" ] || $CC -O2 -std=c11 -o "$H" "$ROOT/bench/harness.c" -lm || exit 2
[ -x "$WORK/gen" ] || $CC -O2 -std=c11 -o "$WORK/gen" "$ROOT/bench/gen.c" -lm || exit 2
JINPU=$(cd "$(dirname "$JINPU")" && pwd)/$(basename "$JINPU")

# the inputs: N files of 200 rows each, from one generated CSV
if [ "$(ls "$B/raw" 2>/dev/null | wc -l)" -ne "$N" ]; then
    rm -rf "$B/raw"
    mkdir -p "$B/raw"
    "$WORK/gen" $((N * 200)) "$B/all.csv" >/dev/null || exit 2
    awk -v dir="$B/raw" -v n="$N" 'NR == 1 { head = $0; next }
        { i = int((NR - 2) / 200); f = sprintf("%s/county%04d.csv", dir, i)
          if (!(i in seen)) { seen[i] = 1; print head > f } print > f
          if ((NR - 1) % 200 == 0) close(f) }' "$B/all.csv"
fi
cp "$ROOT/bench/batch_job.lua" "$B/job.lua"
rm -rf "$B"/r[0-9]* # what an interrupted run left

# Each round writes into folders of its own and nothing is deleted until
# the end: a file system that has just deleted many files creates new ones
# more slowly for a while (ext4 skips recently freed inodes), which would
# bill one round for the previous round's cleanup.
BDIR=$(cd "$B" && pwd -P)
prepare_round() { # R: rR.yaml, rR.commands, rR.folders
    printf 'jinpu_batch: 1\nscript: job.lua\ninputs: "raw/*.csv"\noutput: r%s.out\n' "$1" >"$B/r$1.yaml"
    # the bare commands: what the runner starts (sandboxed, as every job is),
    # run from the job file's folder; and the output folders they need, made
    # in the timed run too (by one mkdir), as batch makes its own
    for f in "$B"/raw/*.csv; do
        k=$(basename "$f" .csv)
        echo "--sandbox --allow-read $BDIR --allow-write $BDIR/r$1.bare/$k job.lua raw/$k.csv $BDIR/r$1.bare/$k"
    done >"$B/r$1.commands"
    for f in "$B"/raw/*.csv; do echo "r$1.bare/$(basename "$f" .csv)"; done >"$B/r$1.folders"
    mkdir "$B/r$1.bare"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$B/bare.times"
: >"$B/batch.times"
: >"$B/cached.times"
bad=0
timed() { # NAME CMD...: run CMD from $B, append "wall kb" to NAME.times
    name=$1
    shift
    (cd "$B" && "$H" time "$B/t.txt" 3600 "$@") >"$B/$name.log" 2>&1 || {
        echo "BATCH $name: exit $? (see $B/$name.log)"
        bad=1
    }
    awk '{ print $1, $4, $2 + $3 }' "$B/t.txt" >>"$B/$name.times"
}
r=0
while [ $r -lt "$REPS" ]; do
    r=$((r + 1))
    prepare_round $r
    timed bare sh -c "xargs mkdir <r$r.folders && xargs -P 2 -L 1 '$JINPU' run <r$r.commands"
    timed batch "$JINPU" batch r$r.yaml -j 2
    timed cached "$JINPU" batch r$r.yaml -j 2
    printf 'BATCH round %d of %d: bare %.3f s, batch %.3f s, cached %.3f s\n' $r "$REPS" \
        "$(tail -n 1 "$B/bare.times" | cut -d' ' -f1)" "$(tail -n 1 "$B/batch.times" | cut -d' ' -f1)" \
        "$(tail -n 1 "$B/cached.times" | cut -d' ' -f1)"
done

same=yes
for d in "$B"/r1.bare/*; do
    cmp -s "$d/districts.csv" "$B/r1.out/jobs/$(basename "$d")/districts.csv" || { same=no; bad=1; }
done
grep -q '"cached": '"$N"'}' "$B/r1.out/summary.json" || { echo "BATCH: the rerun did not skip every job"; bad=1; }
bare=$(cut -d' ' -f1 "$B/bare.times" | median)
batch=$(cut -d' ' -f1 "$B/batch.times" | median)
cached=$(cut -d' ' -f1 "$B/cached.times" | median)
bare_cpu=$(cut -d' ' -f3 "$B/bare.times" | median)
batch_cpu=$(cut -d' ' -f3 "$B/batch.times" | median)
cached_cpu=$(cut -d' ' -f3 "$B/cached.times" | median)
rss=$(cut -d' ' -f2 "$B/cached.times" | sort -n | tail -n 1)
{
    echo "BATCH: $N jobs (200-row CSV each: read, filter, derive, group, write), -j 2 / -P 2, median of $REPS"
    echo
    echo "| run | median wall s | x bare | target | median CPU s (user+sys, all processes) | x bare |"
    echo "|---|---:|---:|---|---:|---:|"
    awk -v b="$bare" -v t="$batch" -v c="$cached" -v bc="$bare_cpu" -v tc="$batch_cpu" -v cc="$cached_cpu" 'BEGIN {
        printf "| xargs -P 2 jinpu run (bare) | %.3f | 1.00 | | %.3f | 1.00 |\n", b, bc
        printf "| jinpu batch -j 2 | %.3f | %.3f | <= 1.1 | %.3f | %.3f |\n", t, t / b, tc, tc / bc
        printf "| jinpu batch -j 2, all cached | %.3f | %.3f | <= 0.05 | %.3f | %.3f |\n", c, c / b, cc, cc / bc }'
    echo
    echo "Runner peak RSS (the cached run starts no process): $(awk -v k="$rss" 'BEGIN { printf "%.1f MB", k / 1024 }');" \
        "outputs of batch and bare identical: $same; load average $(cut -d' ' -f1 /proc/loadavg)."
} | tee "$WORK/out/batch.md"
rm -rf "$B"/r[0-9]*
exit $bad
