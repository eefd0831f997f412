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
