# The progress line: on a terminal, a stream that runs long enough shows one
# line on stderr (file, bytes, rows per second, seconds) and erases it at the
# end; never when stderr is not a terminal, with --quiet or with NO_COLOR.
# JINPU_PROGRESS_AFTER=0 shows it from the first batch (the default is 2 s).

$ awk 'BEGIN { print "a,b,c"; for (i = 0; i < 800000; i++) print i "," i % 7 ",abcdefgh" }' > $T/big.csv && printf 'local jp = require("jinpu")\njp.read_csv(arg[1]):filter("a > 10"):group_by("b"):agg{ n = jp.count() }:write_csv(arg[2])\n' > $T/p.lua && script -qec "JINPU_PROGRESS_AFTER=0 $JINPU run $T/p.lua $T/big.csv $T/out.csv" /dev/null && cat $T/out.csv
@ script -qec true /dev/null
~ big\.csv: [0-9]+ MB of [0-9]+ MB \([0-9]+%\), [0-9.]+M rows/s
~ ^4,114285

$ awk 'BEGIN { print "a,b,c"; for (i = 0; i < 800000; i++) print i "," i % 7 ",abcdefgh" }' > $T/big.csv && printf 'local jp = require("jinpu")\njp.read_csv(arg[1]):write_csv(arg[2])\n' > $T/p.lua && JINPU_PROGRESS_AFTER=0 $JINPU run $T/p.lua $T/big.csv $T/out.csv 2>&1 && cmp $T/big.csv $T/out.csv && echo same
> same

$ awk 'BEGIN { print "a,b,c"; for (i = 0; i < 800000; i++) print i "," i % 7 ",abcdefgh" }' > $T/big.csv && printf 'local jp = require("jinpu")\njp.read_csv(arg[1]):write_csv(arg[2])\nprint("done")\n' > $T/p.lua && script -qec "JINPU_PROGRESS_AFTER=0 $JINPU --quiet run $T/p.lua $T/big.csv $T/out.csv" /dev/null | tr -d "\r"
@ script -qec true /dev/null
> done

$ awk 'BEGIN { print "a,b,c"; for (i = 0; i < 800000; i++) print i "," i % 7 ",abcdefgh" }' > $T/big.csv && printf 'local jp = require("jinpu")\njp.read_csv(arg[1]):write_csv(arg[2])\nprint("done")\n' > $T/p.lua && script -qec "NO_COLOR=1 JINPU_PROGRESS_AFTER=0 $JINPU run $T/p.lua $T/big.csv $T/out.csv" /dev/null | tr -d "\r"
@ script -qec true /dev/null
> done
