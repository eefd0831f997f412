# Resource limits: JINPU_MAX_MEMORY covers Lua's heap and the C core's
# allocations as one budget; out of memory is exit 4 wherever it happens.

# the syntax: bad values are usage errors naming the variable, never "no limit"
$ JINPU_MAX_MEMORY=nan $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='nan' is not a size

$ JINPU_MAX_MEMORY=512X $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='512X' is not a size

$ JINPU_MAX_MEMORY='10 M' $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='10 M' is not a size

$ JINPU_MAX_MEMORY=-1 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='-1' is not a size

$ JINPU_MAX_MEMORY=0x10 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='0x10' is not a size

$ JINPU_MAX_MEMORY=1e9 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='1e9' is not a size

$ JINPU_MAX_MEMORY=0 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='0' is not a size

$ JINPU_MAX_MEMORY=99999999999999999999999 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='99999999999999999999999' is not a size

$ JINPU_MAX_MEMORY=16E $JINPU -e 'print(1)'
? 2
! JINPU_MAX_MEMORY='16E' is not a size

# the accepted forms
$ JINPU_MAX_MEMORY=1.5G $JINPU -e 'print(1)'
> 1

$ JINPU_MAX_MEMORY=512mb $JINPU -e 'print(1)'
> 1

$ JINPU_MAX_MEMORY=64MiB $JINPU -e 'print(1)'
> 1

$ JINPU_MAX_MEMORY=100000000 $JINPU -e 'print(1)'
> 1

$ JINPU_MAX_MEMORY= $JINPU -e 'print(1)'
> 1

# too small to start at all: out of memory, with the limit named
$ JINPU_MAX_MEMORY=4K $JINPU -e 'print(1)'
? 4
! not enough memory \(JINPU_MAX_MEMORY=4K\)

# a small file is read with a buffer of its size, not a whole batch (16 MB)
$ awk 'BEGIN { print "a,b"; for (i = 1; i <= 500; i++) print i ",x" i }' > $T/small.csv && JINPU_MAX_MEMORY=4M $JINPU -e 'local d = jp.read_csv(arg[1]) print(#d, d:column("a"):sum())' $T/small.csv
> 500	125250	exact

# the C core's columns are charged: concat doubling stops at the limit
# (it used to reach gigabytes and exit 3)
$ JINPU_MAX_MEMORY=32M timeout 60 $JINPU -e 'local d = jp.dataset{ columns = { a = {1, 2, 3, 4, 5, 6, 7, 8} } } for i = 1, 40 do d = d:concat(d) end'
? 4
! out of memory
! the limit JINPU_MAX_MEMORY=32M was reached

# one budget: columns held in C leave less room for Lua's heap
$ JINPU_MAX_MEMORY=72M $JINPU -e 'local d = jp.dataset{ columns = { a = {1, 2, 3, 4, 5, 6, 7, 8} } } for i = 1, 19 do d = d:concat(d) end collectgarbage() print(#d) local s = ("x"):rep(30e6)'
? 4
~ ^4194304$
! not enough memory

# a core out-of-memory caught by pcall: the script goes on if it recovers...
$ JINPU_MAX_MEMORY=32M $JINPU -e 'local d = jp.dataset{ columns = { a = {1, 2, 3, 4, 5, 6, 7, 8} } } local ok, e = pcall(function() for i = 1, 40 do d = d:concat(d) end end) print(ok, e:match("out of memory")) d = nil collectgarbage() print("recovered")'
> false	out of memory
> recovered

# ...and a run that fails after the limit refused memory is out of memory
$ JINPU_MAX_MEMORY=32M $JINPU -e 'local d = jp.dataset{ columns = { a = {1, 2, 3, 4, 5, 6, 7, 8} } } pcall(function() for i = 1, 40 do d = d:concat(d) end end) d = nil collectgarbage() error("later")'
? 4
! later

# Lua's own memory error, caught and raised again as a string
$ JINPU_MAX_MEMORY=16M $JINPU -e 'local ok, e = pcall(function() local t = {} for i = 1, 1e8 do t[i] = i end end) collectgarbage() error(e, 0)'
? 4
! not enough memory

# a Lua allocation that succeeds after the collector ran is no memory error
$ JINPU_MAX_MEMORY=16M $JINPU -e 'for i = 1, 200 do local s = ("x"):rep(1e6 + i) end error("plain")'
? 3
! plain

# datasets that are dropped are collected even though Lua's heap stays small
# (a dropped one stays referenced until its variable is overwritten: the
# loop holds three at a time, 80 MB)
$ JINPU_MAX_MEMORY=100M $JINPU -e 'local d = jp.dataset{ columns = { a = {1, 2, 3, 4, 5, 6, 7, 8} } } for i = 1, 18 do d = d:concat(d) end for i = 1, 30 do local e = d:concat(d) end print("ok")'
> ok

# ---- JINPU_MAX_SECONDS ----

$ JINPU_MAX_SECONDS=nan $JINPU -e 'print(1)'
? 2
! JINPU_MAX_SECONDS='nan' is not a number of seconds

$ JINPU_MAX_SECONDS=1e3 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_SECONDS='1e3' is not a number of seconds

$ JINPU_MAX_SECONDS=-1 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_SECONDS='-1' is not a number of seconds

$ JINPU_MAX_SECONDS=0 $JINPU -e 'print(1)'
? 2
! JINPU_MAX_SECONDS='0' is not a number of seconds

$ JINPU_MAX_SECONDS='5 ' $JINPU -e 'print(1)'
? 2
! is not a number of seconds

$ JINPU_MAX_SECONDS=0.5 $JINPU -e 'print(1)'
> 1

# C verbs poll the deadline: a loop of sorts (a few Lua instructions each,
# so the instruction hook alone would not fire) stops at the limit, inside
# the sort, not at the hard stop ("; stopped") three seconds later
$ JINPU_MAX_SECONDS=3 timeout 60 $JINPU -e 'local a, b = {}, {} for i = 1, 300000 do a[i] = (i * 7919) % 1000003 b[i] = (i * 31) % 977 end local d = jp.dataset{ columns = { a = a, b = b } } while true do d:sort("b", "-a") end'
? 5
! time limit of 3 s exceeded
! in method 'sort'
! jinpu: stopped: time limit of 3 s exceeded \(JINPU_MAX_SECONDS\)
!! ; stopped

# ... and pcall around the verb does not swallow it
$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = (i * 7919) % 1000003 end local d = jp.dataset{ columns = { a = a } } while true do pcall(d.sort, d, "-a") end'
? 5
! time limit of 1 s exceeded
!! ; stopped

# a run that catches the stop and ends anyway still exits 5
$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = (i * 7919) % 1000003 end local d = jp.dataset{ columns = { a = a } } local ok repeat ok = pcall(d.sort, d, "-a") until not ok print("caught")'
? 5
!! ; stopped
! jinpu: stopped: time limit of 1 s exceeded

# group, join, expressions, CSV and gzip poll it too (the message may come
# from the hook when building the data took the whole second on a busy
# machine; the hard stop must never be what ends them)
$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = i end local d = jp.dataset{ columns = { a = a } } while true do d:group_by("a"):agg{ n = jp.count() } end'
? 5
!! ; stopped

$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = i end local d = jp.dataset{ columns = { a = a } } while true do d:join(d, "a") end'
? 5
!! ; stopped

$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = i end local d = jp.dataset{ columns = { a = a } } while true do d:filter("a * 2 > a + 7") end'
? 5
! time limit of 1 s exceeded
!! ; stopped

# (one long write: a loop of writes would spend its time in fsync, which
# polls nothing; a stop there is the hard stop's)
$ JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'local a = {} for i = 1, 3e6 do a[i] = i * 7 end local d = jp.dataset{ columns = { a = a } } a = nil d:write_csv(arg[1], { level = 9, threads = 1 })' $T/w.csv.gz; echo "exit $?"; ls -A $T
> exit 5
!! ; stopped

$ $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = i * 7 end jp.dataset{ columns = { a = a, b = a } }:write_csv(arg[1])' $T/r.csv && JINPU_MAX_SECONDS=1 timeout 60 $JINPU -e 'while true do local e = jp.read_csv(arg[1]) end' $T/r.csv
? 5
! time limit of 1 s exceeded
!! ; stopped

# a coroutine does not hide a busy loop from the limit, nor does
# coroutine.resume swallow the error
$ JINPU_MAX_SECONDS=0.5 timeout 60 $JINPU -e 'local co = coroutine.create(function() while true do end end) print(coroutine.resume(co)) print("escaped")'
? 5
!! escaped
! time limit of 0\.5 s exceeded
!! ; stopped

$ JINPU_MAX_SECONDS=0.5 timeout 60 $JINPU -e 'while true do local co = coroutine.wrap(function() while true do pcall(error) end end) pcall(co) end'
? 5
!! ; stopped

# C work that polls nothing, or a script that removes the hook, meets the
# hard stop three seconds after the limit
$ JINPU_MAX_SECONDS=0.5 timeout 60 $JINPU -e 'debug.sethook() while true do end'
? 5
! jinpu: time limit of 0\.5 s exceeded \(JINPU_MAX_SECONDS\); stopped

# SIGTERM stops a write in C: exit 143, and its temporary file is removed
$ $JINPU -e 'local a = {} for i = 1, 3e6 do a[i] = i * 7 end local d = jp.dataset{ columns = { a = a } } a = nil d:write_csv(arg[1], { level = 9, threads = 1 }) print("done")' $T/out.csv.gz & pid=$!; i=0; while [ $i -lt 3000 ] && ! ls -A $T | grep -q tmp; do sleep 0.01; i=$((i + 1)); done; kill -TERM $pid; wait $pid; echo "exit $?"; ls -A $T
> exit 143
! terminated \(SIGTERM\)

# a second signal is the hard stop: it removes the temporary file of the
# write under way before exiting (the first signal stops the write at its
# next block, which removes it too; either way none is left)
$ $JINPU -e 'local a = {} for i = 1, 3e6 do a[i] = i * 7 end local d = jp.dataset{ columns = { a = a } } a = nil d:write_csv(arg[1], { level = 9, threads = 1 }) print("done")' $T/out.csv.gz & pid=$!; i=0; while [ $i -lt 3000 ] && ! ls -A $T | grep -q tmp; do sleep 0.01; i=$((i + 1)); done; kill -TERM $pid; kill -INT $pid; wait $pid; s=$?; { [ $s = 130 ] || [ $s = 143 ]; } && echo "stopped by a signal"; ls -A $T | grep -c . || true
> stopped by a signal
> 0
!! done

# a signal hooks the main thread; a coroutine without a hook (the script
# removed it before creating the coroutine) meets the hard stop
$ : > $T/o; $JINPU -e 'debug.sethook() coroutine.wrap(function() io.stdout:write("ready\n") io.stdout:flush() while true do end end)()' > $T/o & pid=$!; i=0; while [ $i -lt 3000 ] && ! grep -q ready $T/o; do sleep 0.01; i=$((i + 1)); done; kill -TERM $pid; wait $pid; echo "exit $?"
> exit 143
! jinpu: terminated \(SIGTERM\); stopped

# Ctrl-C stops C work too: exit 130
$ : > $T/o; $JINPU -e 'local a = {} for i = 1, 300000 do a[i] = (i * 7919) % 1000003 end local d = jp.dataset{ columns = { a = a } } io.stdout:write("ready\n") io.stdout:flush() while true do pcall(d.sort, d, "-a") end' > $T/o & pid=$!; i=0; while [ $i -lt 3000 ] && ! grep -q ready $T/o; do sleep 0.01; i=$((i + 1)); done; kill -INT $pid; wait $pid; echo "exit $?"
> exit 130
! interrupted
!! ; stopped
