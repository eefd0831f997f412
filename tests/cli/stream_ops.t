# Column reductions over a file pipeline stream: ds:column(name) of a lazy
# CSV file (or of filters, mutations, selections over one) is loaded only
# when its cells are read; col:sum(), mean(), min(), max(), count(),
# null_count(), nulls(), qualified(), #col and col.type read the file in
# batches and give what the loaded column gives, bit for bit, whatever the
# batch size and thread count (JINPU_TEST_CSV_TUNING="BATCH,LAZY,THREADS").

$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && $JINPU_HOOKS run tests/data/stream/reduce.lua $T/r.csv eager > $T/want.txt && for t in 4096,1,1 1500,1,3 0,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS run tests/data/stream/reduce.lua $T/r.csv lazy > $T/got.txt && cmp $T/want.txt $T/got.txt || exit 1; done && grep -c . $T/got.txt
> 16

$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && $JINPU_HOOKS run tests/data/stream/reduce.lua $T/r.csv eager "i > 0 and late < 50" > $T/want.txt && for t in 4096,1,3 0,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS run tests/data/stream/reduce.lua $T/r.csv lazy "i > 0 and late < 50" > $T/got.txt && cmp $T/want.txt $T/got.txt || exit 1; done && grep -c . $T/got.txt
> 16

# The loaded column (8 MB) does not fit in 6 MB; its reductions stream in a
# few batches of text.
$ awk 'BEGIN { print "x"; for (i = 0; i < 1000000; i++) print i % 1000 }' > $T/big.csv && JINPU_MAX_MEMORY=6M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local c = jp.read_csv(arg[1]):column("x"); print(c:sum(), c:mean(), c:max(), #c, c.type)' $T/big.csv
> 499500000	499.5	999	1000000	integer

$ awk 'BEGIN { print "x"; for (i = 0; i < 1000000; i++) print i % 1000 }' > $T/big.csv && JINPU_MAX_MEMORY=6M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local c = jp.read_csv(arg[1]):column("x"); print(c[2])' $T/big.csv
? 4
! out of memory

# Filters and mutations by Lua functions over a file pipeline run as the file
# is read, batch by batch: the rows kept and the columns made are those of
# the loaded file (late type changes, nils first, an integer column that a
# decimal turns to numbers), and so is what streams on from them.
$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && $JINPU_HOOKS run tests/data/stream/functions.lua $T/r.csv eager $T/want.csv > $T/want.txt && for t in 4096,1,1 1500,1,3 0,1,2; do JINPU_TEST_CSV_TUNING=$t,1 $JINPU_HOOKS run tests/data/stream/functions.lua $T/r.csv lazy $T/got.csv > $T/got.txt && cmp $T/want.txt $T/got.txt && cmp $T/want.csv $T/got.csv && cmp $T/want.csv.g.csv $T/got.csv.g.csv || exit 1; done && cat $T/got.txt
> u	1873615.0	exact

# Over a file pipeline the functions run when the pipeline is consumed, by a
# verb that streams it or one that loads it; their errors name the same row
# and fields as over the loaded file (the location is the consuming verb's);
# a row view kept past its call raises.
$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && $JINPU_HOOKS run tests/data/stream/fn_errors.lua $T/r.csv eager | sed 's/^[^:]*:[0-9]*: //' > $T/want.txt && for t in 4096,1,1 0,1,2; do JINPU_TEST_CSV_TUNING=$t,1 $JINPU_HOOKS run tests/data/stream/fn_errors.lua $T/r.csv lazy | sed 's/^[^:]*:[0-9]*: //' > $T/got.txt && cmp $T/want.txt $T/got.txt || exit 1; done && cut -c 1-60 $T/got.txt
> filter: row 1289: tests/data/stream/fn_errors.lua:18: seven
> filter: row 1, field 'nl': tests/data/stream/fn_errors.lua:1
> mutate: 'v', row 30: returned a string after integer values
> mutate: 'v', row 1: returned a table (values must be numbers
> a row view is only valid inside the filter function that rec
> filter: row 1289: tests/data/stream/fn_errors.lua:18: seven
> filter: row 1, field 'nl': tests/data/stream/fn_errors.lua:1
> mutate: 'v', row 30: returned a string after integer values
> mutate: 'v', row 1: returned a table (values must be numbers
> a row view is only valid inside the filter function that rec

# Functions in a pipeline run when it is consumed: a field first read late in
# the file, a pipeline made in a coroutine that is gone, pairs() over the view,
# the map form (each function sees the input), consumers that stream and
# consumers that load: the same as over the loaded file, at every batch size.
$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && $JINPU_HOOKS run tests/data/stream/fn_plan.lua $T/r.csv eager $T/want.csv > $T/want.txt && for t in 4096,1,1 1500,1,3 0,1,2; do JINPU_TEST_CSV_TUNING=$t,1 $JINPU_HOOKS run tests/data/stream/fn_plan.lua $T/r.csv lazy $T/got.csv > $T/got.txt && cmp $T/want.txt $T/got.txt && cmp $T/want.csv $T/got.csv || exit 1; done && cut -f 1 $T/got.txt | paste -sd ' '
> late field named field each row once coroutine pairs map form concat rows sum top first

# A filter and a mutation by functions, grouped: nothing of the file is held
# (the rows kept and the new column would need 29 MB; the limit is 8 MB).
$ awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 2000000; i++) print i "," i % 1000 "," i % 7 "," i % 3 }' > $T/big.csv && JINPU_MAX_MEMORY=8M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local g = jp.read_csv(arg[1]):filter(function(r) return r.a % 10 ~= 0 end):mutate{ e = function(r) return r.b * 2 end }:group_by("c"):agg{ n = jp.count(), e = jp.sum("e") }:sort("c") for r in g:rows() do print(r.c, r.n, r.e) end' $T/big.csv | head -n 2
> 0	257143	257141730
> 1	257144	257144000

# Counting and printing a file pipeline hold a batch, not the file (loading
# the filter's column alone would need 16 MB; the limit is 8 MB).
$ awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 2000000; i++) print i "," i % 1000 "," i % 7 "," i % 3 }' > $T/big.csv && JINPU_MAX_MEMORY=8M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local d = jp.read_csv(arg[1]):filter("b >= 990") print(#d) print(d:preview(2)) local f = jp.read_csv(arg[1]):filter(function(r) return r.b >= 990 end) print(#f) print(f)' $T/big.csv | grep -v -e -- -e integer
> 20000
> big: 20000 rows x 4 fields
>       a        b        c        d
>     990      990        3        0
>     991      991        4        1
> ... 19998 more rows
> 
> 20000
> big: 20000 rows x 4 fields
>       a        b        c        d
>     990      990        3        0
>     991      991        4        1
>     992      992        5        2
>     993      993        6        0
>     994      994        0        1
>     995      995        1        2
>     996      996        2        0
>     997      997        3        1
>     998      998        4        2
>     999      999        5        0
> ... 19990 more rows
> 

# A function that never returns, run by a write: the time limit stops it,
# and nothing is written.
$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && JINPU_TEST_CSV_TUNING=4096,1,1 JINPU_MAX_SECONDS=1 timeout 60 $JINPU_HOOKS -e 'jp.read_csv(arg[1]):filter(function(r) while true do end end):write_csv(arg[2])' $T/r.csv $T/out.csv; echo "exit $?"; ls -A $T
> exit 5
> r.csv
! time limit of 1 s exceeded
!! ; stopped

# A function that fails early, a malformed record at the end: the record's error.
$ awk -v n=30000 -f tests/data/stream/gen.awk > $T/r.csv && echo 1,2 >> $T/r.csv && JINPU_TEST_CSV_TUNING=4096,1,2,1 $JINPU_HOOKS run tests/data/stream/fn_bad.lua $T/r.csv lazy
~ r.csv:30002:4: row 30001: expected 8 fields, found 2

# The file's four columns (32 MB loaded) do not fit in 8 MB; the function
# sees every row, the rows kept and the new column are all that is held.
$ awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 1000000; i++) print i "," i % 1000 "," i % 7 "," i % 3 }' > $T/big.csv && JINPU_MAX_MEMORY=8M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local f = jp.read_csv(arg[1]):filter(function(r) return r.a % 100 == 0 end):mutate{ e = function(r) return r.b * 2 end }; print(f:column("e"):sum(), #f:column("a"))' $T/big.csv
> 9000000	10000
