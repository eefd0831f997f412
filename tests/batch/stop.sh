#!/bin/sh
# tests/batch/stop.sh SIGNAL: start a run whose jobs 2 and 3 wait forever,
# send SIGNAL (INT or TERM) to the runner once they have started, and print
# what it left: its exit status, the summary's verdict, what was published,
# which logs exist, what is left in the private folders, and whether any
# process of the stopped jobs still runs.  Needs $JINPU and $T.
set -u
. tests/batch/lib.sh
mkjob "$T/j" 'sandbox: false\n' ok1 stall1 stall2 stall3 stall4
cd "$T/j" || exit 1
"$JINPU" batch job.yaml -j 2 2>err &
runner=$!
wait_for started.stall1 started.stall2 sleeper.stall1 sleeper.stall2 || { kill -KILL $runner; exit 1; }
kill -"$1" $runner
wait $runner
echo "exit $?"
grep -o '"interrupted": "[A-Z]*"' out/summary.json
grep -o '"not_run": \[[^]]*\]' out/summary.json
grep -o '"key": "[a-z0-9]*", [^{]*"status": "[a-z]*"' out/summary.json | sed 's/"input": "[^"]*", //'
grep -o '"error": "stopped[^"]*"' out/summary.json | sort -u
echo "published: $(ls out/jobs | tr '\n' ' ')"
echo "logs: $(ls out/logs | tr '\n' ' ')"
echo "private folders left: $(find out/.jinpu/tmp -mindepth 1 | wc -l)"
# the stopped jobs' processes (each led its own group) are gone
n=0
alive() {
    for _p in $(cat sleeper.* 2>/dev/null); do
        ps -o stat= -p "$_p" 2>/dev/null | grep -qv Z && return 0
    done
    return 1
}
while alive; do
    n=$((n + 1))
    [ $n -gt 50 ] && { echo "a stopped job still runs"; break; }
    sleep 0.1
done
# a rerun would run the stopped jobs and not the finished one
"$JINPU" batch job.yaml --dry-run --explain | sed -n '3,7p'
