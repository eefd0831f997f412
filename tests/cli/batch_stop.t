# jinpu batch stopped by SIGINT or SIGTERM (tests/batch/stop.sh): nothing
# new starts, running jobs are stopped, nothing half-written is published,
# logs are kept, the summary is written, exit 130 or 143.

$ sh tests/batch/stop.sh INT
> exit 130
> "interrupted": "SIGINT"
> "not_run": ["stall3", "stall4"]
> "key": "ok1", "status": "ok"
> "key": "stall1", "status": "failed"
> "key": "stall2", "status": "failed"
> "error": "stopped: the run was interrupted (SIGINT)"
> published: ok1 
> logs: ok1.log stall1.log stall2.log 
> private folders left: 0
> cached ok1  raw/ok1.txt  -- unchanged since its ok run (attempt 1)
> run    stall1  raw/stall1.txt  -- no record of an earlier run
> run    stall2  raw/stall2.txt  -- no record of an earlier run
> run    stall3  raw/stall3.txt  -- no record of an earlier run
> run    stall4  raw/stall4.txt  -- no record of an earlier run

$ sh tests/batch/stop.sh TERM
> exit 143
> "interrupted": "SIGTERM"
> "not_run": ["stall3", "stall4"]
> "key": "ok1", "status": "ok"
> "key": "stall1", "status": "failed"
> "key": "stall2", "status": "failed"
> "error": "stopped: the run was interrupted (SIGTERM)"
> published: ok1 
> logs: ok1.log stall1.log stall2.log 
> private folders left: 0
> cached ok1  raw/ok1.txt  -- unchanged since its ok run (attempt 1)
> run    stall1  raw/stall1.txt  -- no record of an earlier run
> run    stall2  raw/stall2.txt  -- no record of an earlier run
> run    stall3  raw/stall3.txt  -- no record of an earlier run
> run    stall4  raw/stall4.txt  -- no record of an earlier run

# the same job run twice at once over one output root (a requeued shard, a
# second pod for one index): both finish, the published jobs are whole
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 ok3 ok4 ok5 ok6 && cd $T/j && { $JINPU batch job.yaml 2>/dev/null & a=$!; $JINPU batch job.yaml --force 2>/dev/null & b=$!; wait $a && wait $b && echo both ok; } && for k in 1 2 3 4 5 6; do sed -n 2p out/jobs/ok$k/result.txt; done; ls -A out/.jinpu/tmp | wc -l
> both ok
> content ok1
> content ok2
> content ok3
> content ok4
> content ok5
> content ok6
> 0

# on a terminal: one live line on stderr (done/total, running, failed, elapsed), failures above it
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 fail1 && script -qec "$JINPU batch $T/j/job.yaml -j 1" /dev/null | tr '\r' '\n' > $T/tty; grep -Ec 'failed +fail1 .*cannot use' $T/tty; grep -Eq '^.\[Kjinpu batch: 3/3 done, 0 running, 1 failed, 0:0[0-9] elapsed$' $T/tty && echo live; grep -Ec '\] ok |[2-9] running' $T/tty || true
@ script -qec true /dev/null
> 1
> live
> 0

# what a runner of this machine killed outright left behind is removed by the next run; another machine's is not
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && mkdir -p $T/j/out/.jinpu/tmp/$(hostname)-4194304-abcdef/ok9.out $T/j/out/.jinpu/tmp/other.host-1-abcdef && $JINPU batch $T/j/job.yaml 2>/dev/null && ls $T/j/out/.jinpu/tmp
> other.host-1-abcdef
