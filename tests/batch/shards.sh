#!/bin/sh
# tests/batch/shards.sh SCHEDULER N: run a job file on one machine, and
# again as N shards started at the same time as separate processes over one
# output root with SCHEDULER's variables set (slurm, kubernetes, aws or
# manual), then `jinpu batch merge`; print what differs between the two.
# Needs $JINPU and $T (tests/cli/README.md).
set -u
. tests/batch/lib.sh
sched=$1
n=$2
keys="ok1 ok2 ok3 ok4 ok5 ok6 ok7 ok8"
mkjob "$T/one" 'reduce: combine.lua\nargs: ["x"]\n' $keys
cp -r "$T/one" "$T/many"
(cd "$T/one" && "$JINPU" batch job.yaml 2>/dev/null) || echo "one machine: exit $?"

cd "$T/many" || exit 1
pids=""
k=0
while [ $k -lt "$n" ]; do
    case $sched in
    slurm) env SLURM_ARRAY_TASK_ID=$((k + 5)) SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_MAX=$((n + 4)) \
        SLURM_ARRAY_TASK_COUNT="$n" SLURM_ARRAY_TASK_STEP=1 "$JINPU" batch job.yaml --shard auto 2>>err & ;;
    kubernetes) env JOB_COMPLETION_INDEX=$k JINPU_SHARD_COUNT="$n" "$JINPU" batch job.yaml --shard auto 2>>err & ;;
    aws) env AWS_BATCH_JOB_ARRAY_INDEX=$k AWS_BATCH_JOB_ARRAY_SIZE="$n" "$JINPU" batch job.yaml --shard auto 2>>err & ;;
    manual) "$JINPU" batch job.yaml --shard "$k/$n" 2>>err & ;;
    esac
    pids="$pids $!"
    k=$((k + 1))
done
for p in $pids; do wait "$p" || echo "a shard: exit $?"; done
ls out | grep -c '^summary\.[0-9]*-of-'"$n"'\.json$'
[ -e out/all.txt ] && echo "a shard ran the reduce"
"$JINPU" batch merge job.yaml 2>>err || echo "merge: exit $?"
cmp "$T/one/out/summary.json" out/summary.json && echo "summary.json: identical"
cmp "$T/one/out/all.txt" out/all.txt && echo "reduce output: identical"
diff -r "$T/one/out/jobs" out/jobs && echo "jobs/: identical"
grep -c '"key": "ok[0-9]", "seconds"' out/timings.json
