# jinpu batch over many machines: --shard K/N and --shard auto (Slurm,
# Kubernetes Indexed Jobs, AWS Batch), shards running at the same time over
# one output root, and `jinpu batch merge`, whose summary is byte for byte
# the one-machine run's (tests/batch/shards.sh).

$ sh tests/batch/shards.sh slurm 3
> 3
> summary.json: identical
> reduce output: identical
> jobs/: identical
> 8

$ sh tests/batch/shards.sh kubernetes 4
> 4
> summary.json: identical
> reduce output: identical
> jobs/: identical
> 8

$ sh tests/batch/shards.sh aws 2
> 2
> summary.json: identical
> reduce output: identical
> jobs/: identical
> 8

# more shards than jobs: the empty shards write empty summaries
$ sh tests/batch/shards.sh manual 10
> 10
> summary.json: identical
> reduce output: identical
> jobs/: identical
> 8

# shard K of N runs the jobs at positions K, K+N, ... in key order
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 ok3 ok4 ok5 && $JINPU batch $T/j/job.yaml --shard 1/2 2>/dev/null && ls $T/j/out/jobs && grep -o '"shard": {[^}]*}' $T/j/out/summary.1-of-2.json && ls $T/j/out | grep -c '^summary.json' || true
> ok2
> ok4
> "shard": {"index": 1, "count": 2, "source": "manual"}
> 0

# ---- --shard auto: where K and N come from -------------------------------------------

$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_MAX=10 SLURM_ARRAY_TASK_COUNT=8 $JINPU batch $T/j/job.yaml --shard auto --dry-run | head -1
~ ^0 jobs in shard 4 of 8, [0-9]+ at a time \(

# an array with a step, or with gaps, is refused with the reason
$ SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=8 SLURM_ARRAY_TASK_COUNT=5 SLURM_ARRAY_TASK_STEP=2 $JINPU batch $T/j.yaml --shard auto
? 2
! --shard auto: the Slurm array has a step of 2: shards must be numbered without gaps \(submit --array=0-4 instead\)

$ SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=22 SLURM_ARRAY_TASK_COUNT=3 $JINPU batch $T/j.yaml --shard auto
? 2
! --shard auto: the Slurm array has gaps \(3 tasks between 1 and 22\)

# Kubernetes does not tell the number of indexes: JINPU_SHARD_COUNT must
$ JOB_COMPLETION_INDEX=1 $JINPU batch $T/j.yaml --shard auto
? 2
! --shard auto: JOB_COMPLETION_INDEX is set: set JINPU_SHARD_COUNT

# two schedulers that disagree
$ JOB_COMPLETION_INDEX=1 JINPU_SHARD_COUNT=4 AWS_BATCH_JOB_ARRAY_INDEX=2 AWS_BATCH_JOB_ARRAY_SIZE=4 $JINPU batch $T/j.yaml --shard auto
? 2
! --shard auto: kubernetes says shard 1 of 4 but aws says 2 of 4

$ env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX -u AWS_BATCH_JOB_ARRAY_INDEX $JINPU batch $T/j.yaml --shard auto
? 2
! --shard auto: no scheduler variables found

$ $JINPU batch $T/j.yaml --shard 3/3
? 2
! --shard: shard 3 of 3 does not exist

$ $JINPU batch $T/j.yaml --shard half
? 2
! --shard needs K/N

# ---- merge: a missing or incomplete shard -----------------------------------------

# a shard never ran: exit 3, naming the file, the jobs and the array ids to resubmit; nothing reduced
$ . tests/batch/lib.sh && mkjob $T/j 'reduce: combine.lua\n' ok1 ok2 ok3 ok4 ok5 && cd $T/j && for k in 0 2; do SLURM_ARRAY_TASK_ID=$((k + 1)) SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 SLURM_JOB_NAME=clean.sbatch $JINPU batch job.yaml --shard auto 2>/dev/null; done; $JINPU batch merge job.yaml; echo "exit $?"; ls out | grep -c -e '^summary.json' -e '^all.txt' || true
> exit 3
> 0
! out/summary\.1-of-3\.json is missing
! 2 jobs are in no shard summary: ok2, ok5
! shards to run again: 1 of 3; nothing was merged or reduced
! ^  sbatch --array=2 clean\.sbatch$
! jinpu batch job\.yaml --shard 1/3

# a shard with a failed job
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 fail2 ok3 ok4 && cd $T/j && $JINPU batch job.yaml --shard 0/2 2>/dev/null; $JINPU batch job.yaml --shard 1/2 2>/dev/null; $JINPU batch merge job.yaml; echo "exit $?"
> exit 3
! job 'fail2' \(shard 0\) ended failed: kinds\.lua:[0-9]+: cannot use
! shards to run again: 0 of 2
! sbatch --array=0 YOUR_BATCH_SCRIPT

# the job file changed since the shards ran
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && cd $T/j && $JINPU batch job.yaml --shard 0/2 2>/dev/null && $JINPU batch job.yaml --shard 1/2 2>/dev/null && echo 'args: ["new"]' >> job.yaml && $JINPU batch merge job.yaml
? 3
! summary\.0-of-2\.json was written for another version of job\.yaml
! shards to run again: 0-1 of 2

$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch merge $T/j/job.yaml
? 3
! no shard summaries \(summary\.K-of-N\.json\) in .*out: run the shards first

# the shard summaries of two different runs: choose with --shards
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && cd $T/j && $JINPU batch job.yaml --shard 0/1 2>/dev/null && $JINPU batch job.yaml --shard 0/2 2>/dev/null && $JINPU batch merge job.yaml; echo "exit $?"; $JINPU batch merge job.yaml --shards 1 2>/dev/null; echo "exit $?"
> exit 3
> exit 0
! holds shard summaries of runs with 1 and 2 shards: pass --shards N

# ---- the recipes of docs/batch.md, run as their schedulers would run them ------------

$ sh tests/batch/recipes.sh slurm
> array 0-7, job name clean.sbatch
> summary.json: identical
> jobs/: identical
> reduce output: identical

$ sh tests/batch/recipes.sh kubernetes
> completions 8, JINPU_SHARD_COUNT 8
> summary.json: identical
> jobs/: identical
> reduce output: identical

$ sh tests/batch/recipes.sh parallel
> parallel ran 4 shards
> summary.json: identical
> jobs/: identical
> reduce output: identical
