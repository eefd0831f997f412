# The jinpu command itself: running scripts, chunks, arguments, errors.

$ $JINPU --version
~ ^jinpu [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4

$ $JINPU --help
~ ^usage: jinpu
~ validate FILE

# --help names every command of the command line
$ $JINPU --help
~ ^  run SCRIPT
~ ^  info FILE
~ ^  validate FILE
~ ^  export -o OUT
~ ^  verify ARCHIVE
~ ^  batch JOB\.yaml
~ batch merge JOB\.yaml
~ ^  plugins \[info NAME

# --help lists every exit status and both limit variables
$ $JINPU --help
~ 0 ok +1 data failed validation
~ 2 usage error +3 runtime failure
~ 4 out of memory +5 time limit
~ 130 interrupted \(Ctrl-C\) +143 terminated \(SIGTERM\)
~ ^  JINPU_MAX_MEMORY=
~ ^  JINPU_MAX_SECONDS=

$ $JINPU -e 'print(1 + 1)'
> 2

$ $JINPU -e 'x = 40' -e 'print(x + 2)'
> 42

# arg and ... as the standalone lua sets them
$ printf 'print(arg[0], arg[1], arg[2], select("#", ...), ...)\n' > $T/a.lua && $JINPU run $T/a.lua one two
~ a\.lua	one	two	2	one	two

$ printf 'print("direct", arg[1])\n' > $T/b.lua && $JINPU $T/b.lua x
> direct	x

# a shebang script runs directly
$ printf '#!/usr/bin/env jinpu\nprint("shebang ok")\n' > $T/s.lua && chmod +x $T/s.lua && PATH=$(dirname $JINPU):$PATH $T/s.lua
> shebang ok

# the script on standard input
$ echo 'print(#jp.dataset{columns = {a = {1, 2, 3}}})' | $JINPU -
> 3

$ echo 'print("piped")' | $JINPU
> piped

# runtime errors: file:line: message, a traceback, exit 3
$ printf 'local x = 1\nlocal y = nil + x\n' > $T/e.lua && $JINPU run $T/e.lua
? 3
! e\.lua:2: attempt to perform arithmetic on a nil value
! stack traceback

# syntax errors name the file and line
$ printf 'print("a")\nlocal = 3\n' > $T/syn.lua && $JINPU run $T/syn.lua
? 3
! syn\.lua:2:

# error() with a table value
$ $JINPU -e 'error({})'
? 3
! error object is a table value

# errors from the library name the script line and the data file
$ printf 'local jp = require("jinpu")\nlocal ds = jp.load("no/such.yaml")\n' > $T/l.lua && $JINPU run $T/l.lua
? 3
! l\.lua:2: .*no/such\.yaml

# os.exit is honoured
$ $JINPU -e 'os.exit(7)'
? 7

# usage errors exit 2
$ $JINPU run
? 2
! run needs a script

$ $JINPU run $T/missing.lua
? 2
! cannot open script

$ $JINPU --frobnicate
? 2
! unknown option '--frobnicate'

# a misspelt option gets a suggestion, at every level
$ $JINPU --verison
? 2
! unknown option '--verison' \(did you mean '--version'\?\)

$ $JINPU run --sandbx x.lua
? 2
! run: unknown option '--sandbx' \(did you mean '--sandbox'\?\)

$ $JINPU info --rwos 3 datasets/cherry.yaml
? 2
! unknown option '--rwos' \(did you mean '--rows'\?\)

$ $JINPU frobnicate
? 2
! unknown command or script 'frobnicate'

$ $JINPU -e
? 2
! -e needs a chunk

# jinpu info needs a file
$ $JINPU info
? 2
! no file given

$ $JINPU info --rows zero x.yaml
? 2
! --rows needs a whole number 1 or more

$ $JINPU info no/such/file.yaml
? 3
! no/such/file\.yaml

# the memory cap stops a runaway script cleanly
$ JINPU_MAX_MEMORY=64M $JINPU -e 'local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end'
? 4
! not enough memory

$ JINPU_MAX_MEMORY=lots $JINPU -e 'print(1)'
? 2
! not a size

# the interactive prompt (on a pseudo-terminal): expressions print their value;
# skipped where no pseudo-terminal can be made (some containers)
$ printf '1 + 1\nx = {\n1, 2}\n#x\n' | script -qec "$JINPU" /dev/null
@ script -qec true /dev/null
~ jinpu>
~ ^2
~ ^>> 

# a time limit stops a script, even one that catches errors, with exit 5
$ JINPU_MAX_SECONDS=0.5 timeout 20 $JINPU -e 'while true do pcall(function() while true do end end) end'
? 5
! time limit of 0\.5 s exceeded

$ JINPU_MAX_SECONDS=soon $JINPU -e 'print(1)'
? 2
! not a number of seconds
