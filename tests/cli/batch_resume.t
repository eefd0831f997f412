# jinpu batch: resume by content, --explain, --force, --dry-run on a
# finished run.  A job is cached when script, modules, args, input, limits,
# sandbox and jinpu version are those of its last ok run and its outputs
# still match their SHA-256.  Times never count (touch changes nothing).

# a second run of a finished job file runs nothing
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && $JINPU batch $T/j/job.yaml 2>/dev/null && touch $T/j/raw/* $T/j/kinds.lua && $JINPU batch $T/j/job.yaml --explain; echo "exit $?"; grep -o '"counts": {[^}]*}' $T/j/out/summary.json; field $T/j/out/summary.json ok1 status; field $T/j/out/summary.json ok1 attempt
> ok1: skipped: unchanged since its ok run (attempt 1)
> ok2: skipped: unchanged since its ok run (attempt 1)
> exit 0
> "counts": {"ok": 0, "invalid": 0, "failed": 0, "timeout": 0, "oom": 0, "cached": 2}
> "cached"
> 1
! 2 jobs: 2 cached in

# a cached job keeps its recorded outputs in the summary
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && field $T/j/out/summary.json ok1 outputs > $T/a && $JINPU batch $T/j/job.yaml 2>/dev/null && field $T/j/out/summary.json ok1 outputs > $T/b && cmp $T/a $T/b && grep -c result.txt $T/b
> 1

# what changed, job by job: an input, then a module beside the script, args, limits, the script
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && cd $T/j && $JINPU batch job.yaml 2>/dev/null && echo more >> raw/ok2.txt && $JINPU batch job.yaml --explain 2>/dev/null && echo '-- changed' >> helper.lua && $JINPU batch job.yaml --explain 2>/dev/null && echo 'args: ["x"]' >> job.yaml && $JINPU batch job.yaml --explain 2>/dev/null | head -1 && echo 'limits: { seconds: 100 }' >> job.yaml && $JINPU batch job.yaml --explain 2>/dev/null | head -1 && echo '-- changed' >> kinds.lua && $JINPU batch job.yaml --explain 2>/dev/null | head -1
> ok1: skipped: unchanged since its ok run (attempt 1)
> ok2: runs: the input raw/ok2.txt changed
> ok1: runs: the module helper.lua changed
> ok2: runs: the module helper.lua changed
> ok1: runs: the args changed
> ok1: runs: the limits changed (memory=none seconds=none -> memory=none seconds=100)
> ok1: runs: the script kinds.lua changed

# the attempt counts runs of the job in this output root
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && $JINPU batch $T/j/job.yaml --force 2>/dev/null && $JINPU batch $T/j/job.yaml --force --explain 2>/dev/null && field $T/j/out/summary.json ok1 attempt
> ok1: runs: --force
> 3

# outputs are checked by content: edited, removed, added files and a missing folder rerun the job
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 ok3 ok4 && cd $T/j && $JINPU batch job.yaml 2>/dev/null && sed -i 's/ok1/OK1/' out/jobs/ok1/result.txt && rm out/jobs/ok2/result.txt && echo x > out/jobs/ok3/extra.txt && rm -r out/jobs/ok4 && $JINPU batch job.yaml --explain 2>/dev/null && cat out/jobs/ok1/result.txt | sed -n 2p && ls out/jobs/ok3
> ok1: runs: output jobs/ok1/result.txt changed (SHA-256)
> ok2: runs: output jobs/ok2/result.txt is missing
> ok3: runs: jobs/ok3/extra.txt is not one of its recorded outputs
> ok4: runs: jobs/ok4/ is missing
> content ok1
> result.txt

# a job that failed runs again, and the record says why
$ . tests/batch/lib.sh && mkjob $T/j '' fail1 ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null; $JINPU batch $T/j/job.yaml --explain 2>/dev/null; echo "exit $?"; field $T/j/out/summary.json fail1 attempt
> fail1: runs: its last run ended failed
> ok1: skipped: unchanged since its ok run (attempt 1)
> exit 3
> 2

# --dry-run on a finished run: what would run and why; nothing is touched
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && $JINPU batch $T/j/job.yaml 2>/dev/null && echo more >> $T/j/raw/ok1.txt && cp $T/j/out/summary.json $T/s && $JINPU batch $T/j/job.yaml --dry-run --explain | tail -n +3 && cmp $T/s $T/j/out/summary.json && echo untouched
> run    ok1  raw/ok1.txt  -- the input raw/ok1.txt changed
> cached ok2  raw/ok2.txt  -- unchanged since its ok run (attempt 1)
> 1 to run, 1 cached
> untouched

# JSON Lines: the reasons as explain events
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && $JINPU batch $T/j/job.yaml --explain --log-format json | grep -c '"event": "explain", "t": [0-9.]*, "key": "ok1", "action": "cached", "reason": "unchanged since its ok run (attempt 1)"}'
> 1

# a new input runs alone; a removed one leaves the others cached
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && $JINPU batch $T/j/job.yaml 2>/dev/null && echo ok3 > $T/j/raw/ok3.txt && rm $T/j/raw/ok1.txt && $JINPU batch $T/j/job.yaml --explain 2>/dev/null
> ok2: skipped: unchanged since its ok run (attempt 1)
> ok3: runs: no record of an earlier run

# the records: one file after a complete run, one more per shard until merge joins them
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 ok3 && cd $T/j && $JINPU batch job.yaml 2>/dev/null && ls out/.jinpu/state | wc -l && $JINPU batch job.yaml --shard 0/2 --force 2>/dev/null && $JINPU batch job.yaml --shard 1/2 --force 2>/dev/null && ls out/.jinpu/state | wc -l && $JINPU batch merge job.yaml 2>/dev/null && ls out/.jinpu/state | wc -l && $JINPU batch job.yaml --explain 2>/dev/null
> 1
> 3
> 1
> ok1: skipped: unchanged since its ok run (attempt 2)
> ok2: skipped: unchanged since its ok run (attempt 2)
> ok3: skipped: unchanged since its ok run (attempt 2)

# a record torn by a crash is skipped: that job runs again, the others stay cached
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && cd $T/j && $JINPU batch job.yaml -j 1 2>/dev/null && f=$(ls out/.jinpu/state/*.jsonl) && head -c -40 $f > $T/torn && cp $T/torn $f && $JINPU batch job.yaml --explain 2>/dev/null
> ok1: skipped: unchanged since its ok run (attempt 1)
> ok2: runs: no record of an earlier run
