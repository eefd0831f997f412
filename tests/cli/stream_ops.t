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
