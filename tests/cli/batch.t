# jinpu batch: the job file, running, statuses, exit codes, the record.
# Helpers (mkjob, field) are in tests/batch/lib.sh; the job script is
# tests/data/batch/kinds.lua, whose behaviour is named by each input.

# ---- a run: layout, arguments, summary ----------------------------------------

$ . tests/batch/lib.sh && mkjob $T/j 'args: ["10", "strict"]\n' ok1 ok2 ok3 && $JINPU batch $T/j/job.yaml && cd $T/j/out && ls jobs && ls logs && cat jobs/ok2/result.txt
> ok1
> ok2
> ok3
> ok1.log
> ok2.log
> ok3.log
> input raw/ok2.txt
> content ok2
> args 10 strict
! 3 jobs: 3 ok in
!! failed

# the job's stdout and stderr are its log; the private folders are gone
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && cat $T/j/out/logs/ok1.log && ls -A $T/j/out/.jinpu/tmp | wc -l
> ok ok1
> 0

# the summary: fixed fields in a fixed order, one job per line, no times
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && $JINPU batch $T/j/job.yaml 2>/dev/null && sed -e 's/[0-9a-f]\{64\}/H/g' $T/j/out/summary.json
> {
>   "jinpu_batch": 1,
>   "jinpu_version": "0.1.0",
>   "job_file": "job.yaml",
>   "job_file_sha256": "H",
>   "exit": 0,
>   "counts": {"ok": 2, "invalid": 0, "failed": 0, "timeout": 0, "oom": 0, "cached": 0},
>   "jobs": [
>     {"key": "ok1", "input": "raw/ok1.txt", "status": "ok", "exit": 0, "attempt": 1, "outputs": [{"path": "jobs/ok1/result.txt", "bytes": 36, "sha256": "H"}], "log": "logs/ok1.log"},
>     {"key": "ok2", "input": "raw/ok2.txt", "status": "ok", "exit": 0, "attempt": 1, "outputs": [{"path": "jobs/ok2/result.txt", "bytes": 36, "sha256": "H"}], "log": "logs/ok2.log"}
>   ]
> }

# the recorded SHA-256 is the file's
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && cd $T/j/out && [ "$(sha256sum jobs/ok1/result.txt | cut -c1-64)" = "$(grep -o '"sha256": "[0-9a-f]*"' summary.json | cut -d'"' -f4)" ] && echo same
> same

# timings are a file of their own
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && grep -c '"key": "ok1", "seconds": [0-9.]*, "max_rss_kb": [0-9]*, "host"' $T/j/out/timings.json
> 1

# a list of inputs, relative to the job file; keys in bytewise order whatever the list's order
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && mkdir $T/j/more && echo b > $T/j/more/ok-B.txt && echo a > $T/j/more/ok-a.csv && sed -i 's|^inputs:.*|inputs: [more/ok-a.csv, raw/ok1.txt, more/ok-B.txt]|' $T/j/job.yaml && $JINPU batch $T/j/job.yaml 2>/dev/null && grep -o '"key": "[^"]*"' $T/j/out/summary.json
> "key": "ok-B"
> "key": "ok-a"
> "key": "ok1"

# run from another folder: the job file's folder is the jobs' folder
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && cd / && $JINPU batch $T/j/job.yaml 2>/dev/null && head -1 $T/j/out/jobs/ok1/result.txt
> input raw/ok1.txt

# ---- statuses and exit codes -----------------------------------------------------

# the script exits 1 (data invalid): exit 1, nothing published, the log kept
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 invalid1 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json invalid1 status; field $T/j/out/summary.json invalid1 error; ls $T/j/out/jobs; cat $T/j/out/logs/invalid1.log
> exit 1
> "invalid"
> "row 3, field 'x': 'abc' is not a number"
> ok1
> row 3, field 'x': 'abc' is not a number
! invalid +invalid1

# a script error: failed with the error line (not the traceback), exit 3; other jobs unharmed
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 fail1 invalid1 ok2 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json fail1 status; field $T/j/out/summary.json fail1 exit; field $T/j/out/summary.json fail1 error | sed 's/lua:[0-9]*:/lua:N:/'; ls $T/j/out/jobs; grep -c traceback $T/j/out/logs/fail1.log
> exit 3
> "failed"
> 3
> "kinds.lua:N: cannot use raw/fail1.txt: no column 'x'"
> ok1
> ok2
> 1
! failed +fail1 .*kinds\.lua:[0-9]+: cannot use
! 4 jobs: 2 ok, 1 invalid, 1 failed

# any other exit status is a failure
$ . tests/batch/lib.sh && mkjob $T/j '' exit1 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json exit1 exit; field $T/j/out/summary.json exit1 error
> exit 3
> 7
> "exit status 7"

# a crash (SIGSEGV) costs only that job
$ . tests/batch/lib.sh && mkjob $T/j 'sandbox: false\n' crash1 ok1 && ASAN_OPTIONS=${ASAN_OPTIONS:-}:handle_segv=0 $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json crash1 status; field $T/j/out/summary.json crash1 exit; field $T/j/out/summary.json crash1 error; ls $T/j/out/jobs
> exit 3
> "failed"
> null
> "killed by SIGSEGV"
> ok1

# memory: the job's own JINPU_MAX_MEMORY stops it (exit 4) -> oom
$ . tests/batch/lib.sh && mkjob $T/j 'limits: { memory: 32M }\n' oom1 ok1 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json oom1 status; field $T/j/out/summary.json oom1 exit; ls $T/j/out/jobs
> exit 3
> "oom"
> 4
> ok1

# the limits reach the job: its environment, and an address-space backstop of twice the
# memory limit plus 1 GiB (not in AddressSanitizer builds, whose shadow memory needs terabytes)
$ . tests/batch/lib.sh && mkjob $T/j 'sandbox: false\nlimits: { memory: 100M, seconds: 30 }\n' limits1 && JINPU_MAX_MEMORY=1G $JINPU batch $T/j/job.yaml 2>/dev/null && case $JINPU in *asan*) sed 's/unlimited/1283457024/' ;; *) cat ;; esac < $T/j/out/jobs/limits1/result.txt
> memory 104857600
> seconds 30
> address space 1283457024
> tmp private

# no limits in the job file: none for the job, whatever the runner's own environment
$ . tests/batch/lib.sh && mkjob $T/j 'sandbox: false\n' limits1 && JINPU_MAX_SECONDS=100 $JINPU batch $T/j/job.yaml 2>/dev/null && head -3 $T/j/out/jobs/limits1/result.txt
> memory nil
> seconds nil
> address space unlimited

# time: a Lua loop stops itself at the limit (exit 5) -> timeout
$ . tests/batch/lib.sh && mkjob $T/j 'limits: { seconds: 1 }\n' loop1 ok1 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json loop1 status; field $T/j/out/summary.json loop1 exit; field $T/j/out/summary.json loop1 error; ls $T/j/out/jobs
> exit 3
> "timeout"
> 5
> "time limit of 1 s exceeded (JINPU_MAX_SECONDS)"
> ok1

# time: a job waiting outside Lua (a command) is killed by the runner a moment after its limit
$ . tests/batch/lib.sh && mkjob $T/j 'sandbox: false\nlimits: { seconds: 1 }\n' block1 && $JINPU batch $T/j/job.yaml; echo "exit $?"; field $T/j/out/summary.json block1 status; field $T/j/out/summary.json block1 error; ls $T/j/out/jobs | wc -l
> exit 3
> "timeout"
> "killed 2 s after its time limit of 1 s"
> 0

# a rerun that fails removes the outputs of the earlier ok run: jobs/ holds only what is true now
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null && ls $T/j/out/jobs && echo 'error("now broken")' > $T/j/kinds.lua && $JINPU batch $T/j/job.yaml 2>/dev/null; echo "exit $?"; ls $T/j/out/jobs | wc -l; field $T/j/out/summary.json ok1 attempt
> ok1
> exit 3
> 0
> 2

# ---- reduce ------------------------------------------------------------------------

# after every job ended ok: REDUCE OUTPUT_ROOT JOBDIR... in key order
$ . tests/batch/lib.sh && mkjob $T/j 'reduce: combine.lua\n' ok2 ok1 ok10 && $JINPU batch $T/j/job.yaml && grep '^out' $T/j/out/all.txt && cat $T/j/out/reduce.log && grep '"reduce"' $T/j/out/summary.json
> out/jobs/ok1
> out/jobs/ok10
> out/jobs/ok2
> combined 3 jobs
>   "reduce": {"status": "ok", "exit": 0, "log": "reduce.log"},
! reduce ok

# a job failed: no reduce
$ . tests/batch/lib.sh && mkjob $T/j 'reduce: combine.lua\n' ok1 fail1 && $JINPU batch $T/j/job.yaml 2>/dev/null; echo "exit $?"; ls $T/j/out/all.txt 2>&1 | grep -c 'No such'; grep '"reduce"' $T/j/out/summary.json
> exit 3
> 1
>   "reduce": {"status": "skipped", "error": "not every job ended ok"},

# the reduce fails: exit 3
$ . tests/batch/lib.sh && mkjob $T/j 'reduce: combine.lua\n' ok1 && echo 'error("cannot combine")' > $T/j/combine.lua && $JINPU batch $T/j/job.yaml 2>/dev/null; echo "exit $?"; grep -o '"reduce": {"status": "failed", "exit": 3, "log": "reduce.log", "error": "combine.lua:1: cannot combine"}' $T/j/out/summary.json
> exit 3
> "reduce": {"status": "failed", "exit": 3, "log": "reduce.log", "error": "combine.lua:1: cannot combine"}

# ---- progress ------------------------------------------------------------------------

# not a terminal: one line per finished job on stderr, nothing on stdout
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 fail1 && $JINPU batch $T/j/job.yaml -j 1 2>$T/err; echo "exit $?"; cat $T/err
~ ^exit 3$
~ ^\[1/2\] failed +fail1 +[0-9.]+ s: kinds\.lua:[0-9]+: cannot use raw/fail1\.txt
~ ^\[2/2\] ok +ok1 +[0-9.]+ s$
~ ^jinpu batch: 2 jobs: 1 ok, 1 failed in [0-9.]+ s; .*out/summary\.json$

# JSON Lines: run_start, job_start, job_end (summary fields, seconds, max_rss_kb), run_end
# (a job's successor starts before its job_end: the runner records a job while the next runs)
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 fail1 && $JINPU batch $T/j/job.yaml --log-format json -j 1 > $T/ev 2>$T/err; echo "exit $?"; cut -d, -f1 $T/ev; grep -c '"event": "job_end", "t": [0-9.]*, "key": "fail1", "input": "raw/fail1.txt", "status": "failed", "exit": 3, "attempt": 1, "outputs": \[\], "log": "logs/fail1.log", "error": "kinds.lua:[0-9]*: [^"]*", "seconds": [0-9.]*, "max_rss_kb": [0-9]*}$' $T/ev; grep -c '"event": "run_end".*"exit": 3, "counts": {"ok": 1, "invalid": 0, "failed": 1' $T/ev; wc -c < $T/err
> exit 3
> {"event": "run_start"
> {"event": "job_start"
> {"event": "job_start"
> {"event": "job_end"
> {"event": "job_end"
> {"event": "run_end"
> 1
> 1
> 0

# ---- dry run --------------------------------------------------------------------------

$ . tests/batch/lib.sh && mkjob $T/j 'args: ["a b"]\njobs: 3\n' ok1 ok2 && $JINPU batch $T/j/job.yaml --dry-run --no-sandbox; echo "exit $?"; ls $T/j/out 2>&1 | grep -c 'No such'
> 2 jobs, 3 at a time (the job file's 'jobs'); each runs:
>   jinpu run kinds.lua INPUT OUTDIR 'a b'
> run    ok1  raw/ok1.txt
> run    ok2  raw/ok2.txt
> 2 to run, 0 cached
> exit 0
> 1

# parallelism: the CPUs granted (SLURM_CPUS_PER_TASK here), -j over all
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && SLURM_CPUS_PER_TASK=1 $JINPU batch $T/j/job.yaml --dry-run | head -1 && SLURM_CPUS_PER_TASK=1 $JINPU batch $T/j/job.yaml --dry-run -j 5 | head -1
> 1 job, 1 at a time (SLURM_CPUS_PER_TASK); each runs:
> 1 job, 5 at a time (-j); each runs:

# ---- the job file: checked before anything runs, exit 2 with file and line ---------

$ printf 'jinpu_batch: 1\nscript: nope.lua\ninputs: "raw/*.csv"\noutptu: out\nlimits: { memory: 512, seconds: soon, cpu: 2 }\njobs: 0\nsandbox: maybe\nargs: 7\n' > $T/job.yaml && $JINPU batch $T/job.yaml; echo "exit $?"; ls $T
> exit 2
> job.yaml
! job\.yaml:1: missing 'output:'
! job\.yaml:2: script: 'nope\.lua' does not exist
! job\.yaml:3: inputs: 'raw/\*\.csv' matched no file \(there is no folder 'raw'\)
! job\.yaml:4: unknown key 'outptu' \(did you mean 'output'\?\)
! job\.yaml:5: limits\.memory: '512' is less than 1M \(a number alone is bytes: write 512M for megabytes\)
! job\.yaml:5: limits\.seconds: 'soon' is not a number of seconds
! job\.yaml:5: limits: unknown key 'cpu'
! job\.yaml:6: jobs: needs a whole number from 1 to 4096, not '0'
! job\.yaml:7: sandbox: must be true or false
! job\.yaml:8: args: needs a list
! job\.yaml: 10 problems; nothing was run

# two inputs with the same stem; an input that is not there; no match
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && mkdir $T/j/b && echo x > $T/j/b/ok1.csv && printf 'jinpu_batch: 1\nscript: kinds.lua\ninputs:\n  - raw/ok1.txt\n  - b/ok1.csv\n  - raw/none.txt\n  - "raw/*.zip"\noutput: out\n' > $T/j/job.yaml && $JINPU batch $T/j/job.yaml; echo "exit $?"
> exit 2
! job\.yaml:5: inputs: 'raw/ok1\.txt' and 'b/ok1\.csv' have the same stem 'ok1'
! job\.yaml:6: inputs: 'raw/none\.txt' does not exist
! job\.yaml:7: inputs: 'raw/\*\.zip' matched no file$

# sizes and times as people write them are accepted
$ . tests/batch/lib.sh && mkjob $T/j 'limits: { memory: 1.5G, seconds: 5m }\n' ok1 && $JINPU batch $T/j/job.yaml --dry-run | tail -1
> 1 to run, 0 cached

# YAML errors name line and column; aliases and second documents are refused
$ printf 'jinpu_batch: 1\nscript: [a, b\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:3:1: did not find expected ',' or ']'

$ printf 'jinpu_batch: 1\nscript: &s a.lua\nreduce: *s\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:3:9: aliases \(\*name\) are not allowed here

$ printf 'jinpu_batch: 1\n---\njinpu_batch: 1\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:2:1: only one YAML document is allowed

$ printf 'jinpu_batch: 1\njinpu_batch: 1\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:2:1: duplicate key 'jinpu_batch'

$ printf -- '- a\n- b\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:1: a job file is a mapping

$ : > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:1: the job file is empty

$ printf 'jinpu_batch: 2\n' > $T/j.yaml && $JINPU batch $T/j.yaml
? 2
! j\.yaml:1: jinpu_batch: version '2' is not supported \(this jinpu reads version 1\)

$ $JINPU batch $T/none.yaml
? 2
! none\.yaml: cannot open

# the output root must be a folder
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 && : > $T/j/out && $JINPU batch $T/j/job.yaml
? 2
! job\.yaml:4: output: 'out' exists and is not a folder

# ---- usage ----------------------------------------------------------------------------

$ $JINPU batch
? 2
! jinpu batch: no job file given

$ $JINPU batch --help
~ ^usage: jinpu batch JOB\.yaml

$ $JINPU batch a.yaml b.yaml
? 2
! one job file at a time

$ $JINPU batch a.yaml -j 0
? 2
! -j needs a whole number from 1 to 4096

$ $JINPU batch a.yaml --log-format xml
? 2
! --log-format must be text or json

$ $JINPU batch a.yaml --frobnicate
? 2
! unknown option '--frobnicate'

# ---- the sandbox: every job runs `jinpu run --sandbox` ---------------------------------

# the command of each job
$ . tests/batch/lib.sh && mkjob $T/j 'args: ["x"]\n' ok1 && $JINPU batch $T/j/job.yaml --dry-run | sed -n 2p | sed "s|$(cd $T/j && pwd -P)|JOBDIR|"
>   jinpu run --sandbox --allow-read JOBDIR --allow-write OUTDIR kinds.lua INPUT OUTDIR x

# jobs read their input, the job file's folder and modules beside the script, and write their output
$ . tests/batch/lib.sh && mkjob $T/j '' ok1 ok2 && $JINPU batch $T/j/job.yaml 2>/dev/null && sed -n 2p $T/j/out/jobs/ok2/result.txt
> content ok2

# each refusal fails its job only, with the call and the path in the error
$ . tests/batch/lib.sh && mkjob $T/j '' exec1 popen1 loadlib1 steal1 deface1 meddle1 ok1 && $JINPU batch $T/j/job.yaml 2>/dev/null; echo "exit $?"; grep -o '"key": "[a-z]*1".*"status": "[a-z]*"' $T/j/out/summary.json | sed 's/"input".*"status"/"status"/'; ls $T/j/out/jobs; cmp $T/j/kinds.lua tests/data/batch/kinds.lua && echo intact
> exit 3
> "key": "deface1", "status": "failed"
> "key": "exec1", "status": "failed"
> "key": "loadlib1", "status": "failed"
> "key": "meddle1", "status": "failed"
> "key": "ok1", "status": "ok"
> "key": "popen1", "status": "failed"
> "key": "steal1", "status": "failed"
> ok1
> intact

$ . tests/batch/lib.sh && mkjob $T/j '' exec1 popen1 loadlib1 steal1 deface1 meddle1 && $JINPU batch $T/j/job.yaml 2>/dev/null; for k in exec1 popen1 loadlib1 steal1 deface1 meddle1; do field $T/j/out/summary.json $k error; done
~ ^"kinds\.lua:[0-9]+: os\.execute: the sandboxed script may not run commands
~ ^"kinds\.lua:[0-9]+: io\.popen: the sandboxed script may not run commands
~ ^"kinds\.lua:[0-9]+: package\.loadlib: the sandboxed script may not
~ ^"kinds\.lua:[0-9]+: io\.open: the sandboxed script may not read '/etc/passwd'
~ ^"kinds\.lua:[0-9]+: io\.open: the sandboxed script may not write 'kinds\.lua'
~ ^"kinds\.lua:[0-9]+: attempt to call a nil value \(field 'sethook'\)"$

# sandbox: false in the job file, or --no-sandbox, lifts it for trusted scripts
$ . tests/batch/lib.sh && mkjob $T/j 'sandbox: false\n' exec1 && $JINPU batch $T/j/job.yaml 2>/dev/null && cat $T/j/out/jobs/exec1/result.txt
> ran a command

$ . tests/batch/lib.sh && mkjob $T/j '' exec1 && $JINPU batch $T/j/job.yaml --no-sandbox 2>/dev/null && cat $T/j/out/jobs/exec1/result.txt && $JINPU batch $T/j/job.yaml --explain 2>/dev/null; echo "exit $?"
> ran a command
> exec1: runs: the sandbox is now on
> exit 3
