#!/bin/sh
# tests/batch/recipes.sh RECIPE: run a recipe of docs/batch.md (slurm,
# kubernetes, parallel) as its scheduler would, on this machine: the shards
# as concurrent processes with the scheduler's variables, then the merge
# the recipe gives; compare with a one-machine run of the same job file.
# The recipe's /shared/clean/job.yaml is replaced by a test job file.
# Needs $JINPU and $T.
set -u
. tests/batch/lib.sh
DOC=$(pwd)/docs/batch.md
# the fenced block after "<!-- recipe: NAME -->"
recipe() {
    awk -v want="<!-- recipe: $1 -->" '
        $0 == want { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$DOC"
}
# the words of a YAML flow list of strings: ["a", "b"] -> a b
words() { sed -e 's/^[^[]*\[//' -e 's/\].*$//' -e 's/"//g' -e 's/,/ /g'; }

mkjob "$T/one" 'reduce: combine.lua\n' ok1 ok2 ok3 ok4 ok5 ok6 ok7 ok8 ok9 ok10 ok11
cp -r "$T/one" "$T/many"
(cd "$T/one" && "$JINPU" batch job.yaml 2>/dev/null) || echo "one machine: exit $?"
job=$T/many/job.yaml
PATH=$(dirname "$JINPU"):$PATH
export PATH
cd "$T" || exit 1
pids=""

case $1 in
slurm)
    recipe slurm | sed "s|/shared/clean/job.yaml|$job|g" >clean.sbatch
    range=$(sed -n 's/^#SBATCH --array=\([0-9]*-[0-9]*\)$/\1/p' clean.sbatch)
    lo=${range%-*}
    hi=${range#*-}
    name=$(sed -n 's/^#SBATCH --job-name=//p' clean.sbatch)
    echo "array $range, job name $name"
    i=$lo
    while [ "$i" -le "$hi" ]; do
        SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$lo SLURM_ARRAY_TASK_MAX=$hi \
            SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) SLURM_ARRAY_TASK_STEP=1 SLURM_JOB_NAME=$name \
            SLURM_CPUS_PER_TASK=$(sed -n 's/^#SBATCH --cpus-per-task=//p' clean.sbatch) \
            sh clean.sbatch 2>>err &
        pids="$pids $!"
        i=$((i + 1))
    done
    merge=$(recipe slurm-submit | sed -n "s/.*--wrap '\(.*\)'$/\1/p" | sed "s|/shared/clean/job.yaml|$job|g")
    ;;
kubernetes)
    recipe kubernetes >job.k8s
    n=$(sed -n 's/^ *completions: *\([0-9]*\)$/\1/p' job.k8s)
    count=$(grep -A1 'name: JINPU_SHARD_COUNT' job.k8s | sed -n 's/.*value: *"\([0-9]*\)"/\1/p')
    cmd=$(grep 'command:' job.k8s | words | sed "s|/shared/clean/job.yaml|$job|g")
    echo "completions $n, JINPU_SHARD_COUNT $count"
    i=0
    while [ "$i" -lt "$n" ]; do
        JOB_COMPLETION_INDEX=$i JINPU_SHARD_COUNT=$count $cmd 2>>err &
        pids="$pids $!"
        i=$((i + 1))
    done
    merge=$(recipe kubernetes-merge | grep 'command:' | words | sed "s|/shared/clean/job.yaml|$job|g")
    ;;
parallel)
    # every login becomes this machine (":"), one shard at a time per login
    recipe parallel | sed -e "s|/shared/clean/job.yaml|$job|g" \
        -e 's/--sshlogin [^ ]*/--sshlogin 1\/:,1\/:,1\/:,1\/:/' >run.sh
    sh run.sh >/dev/null 2>>err || echo "the recipe: exit $?"
    echo "parallel ran $(ls "$T/many/out" | grep -c '^summary\.[0-9]-of-4\.json$') shards"
    ;;
esac
for p in $pids; do wait "$p" || echo "a shard: exit $?"; done
[ -n "${merge:-}" ] && { $merge 2>>err || echo "merge: exit $?"; }
cmp "$T/one/out/summary.json" "$T/many/out/summary.json" && echo "summary.json: identical"
diff -r "$T/one/out/jobs" "$T/many/out/jobs" && echo "jobs/: identical"
cmp "$T/one/out/all.txt" "$T/many/out/all.txt" && echo "reduce output: identical"
