# ds:validate over a file pipeline runs batch by batch: each batch's rows
# are checked against the constraints and row rules, the issues go into one
# report as they come, and the report is the loaded file's, byte for byte,
# whatever the batch size (JINPU_TEST_CSV_TUNING="BATCH,LAZY,THREADS"):
# repeats across batches (unique, keys), a column that turns to text late,
# records over two lines, where, mostly and severities.

$ awk -v n=3000 -f tests/data/stream/vgen.awk > $T/v.csv && $JINPU_HOOKS run tests/data/stream/validate.lua $T/v.csv eager > $T/want.txt && for t in 4096,1,1 1500,1,3 0,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS run tests/data/stream/validate.lua $T/v.csv lazy > $T/got.txt && cmp $T/want.txt $T/got.txt || exit 1; done && head -1 $T/got.txt | sed 's|.*/||'
> v.csv): 3000 rows, 17 rules: FAILED (7315 errors, 2760 warnings)

$ awk -v n=3000 -f tests/data/stream/vgen.awk > $T/v.csv && $JINPU_HOOKS run tests/data/stream/validate.lua $T/v.csv eager "year > 2005" > $T/want.txt && for t in 4096,1,1 0,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS run tests/data/stream/validate.lua $T/v.csv lazy "year > 2005" > $T/got.txt && cmp $T/want.txt $T/got.txt || exit 1; done && head -1 $T/got.txt | sed 's|.*/||'
> v.csv): 2415 rows, 17 rules: FAILED (5995 errors, 2223 warnings)

# The file's four columns (32 MB loaded) do not fit in 8 MB; validated
# batch by batch they need not.
$ awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 1000000; i++) print i "," i % 1000 "," i % 7 "," (i % 100000 == 5 ? "bad" : "ok") }' > $T/big.csv && JINPU_MAX_MEMORY=8M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local r = jp.read_csv(arg[1]):validate{ a = { required = true, minimum = 0 }, b = { maximum = 998 }, d = { enum = { "ok" } }, "c < 7" }; print(r.rows, #r, r.counts.errors, r.ok)' $T/big.csv
> 1000000	1010	1010	false

# Rules that read more than a row take the whole-file way, with the same
# report: a Lua function, an expression with a window function.
$ awk -v n=2000 -f tests/data/stream/vgen.awk > $T/v.csv && for m in eager lazy; do JINPU_TEST_CSV_TUNING=2048,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local ds = jp.read_csv(arg[1], { lazy = arg[2] == "lazy" }); local r = ds:validate{ { check = function(row) return row.year ~= 2001 end, name = "fn" } }; print(r:json())' $T/v.csv $m > $T/$m.txt || exit 1; done && cmp $T/eager.txt $T/lazy.txt && grep -o '"errors":[0-9]*' $T/lazy.txt | head -1
> "errors":57

$ awk -v n=2000 -f tests/data/stream/vgen.awk > $T/v.csv && for m in eager lazy; do JINPU_TEST_CSV_TUNING=2048,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local ds = jp.read_csv(arg[1], { lazy = arg[2] == "lazy" }); local r = ds:validate{ "id >= lag(id)", code = { enum = { "a" } } }; print(r:json())' $T/v.csv $m > $T/$m.txt || exit 1; done && cmp $T/eager.txt $T/lazy.txt && grep -o '"errors":[0-9]*' $T/lazy.txt | head -1
> "errors":1735

# The constraints of the schema the file is read with stream too.
$ awk -v n=3000 -f tests/data/stream/vgen.awk > $T/v.csv && for m in eager lazy; do JINPU_TEST_CSV_TUNING=4096,1,2 $JINPU_HOOKS -e 'local jp = require("jinpu"); local ds = jp.read_csv(arg[1], { lazy = arg[2] == "lazy", schema = { fields = { { name = "id", type = "integer", constraints = { unique = true, minimum = 5 } }, { name = "code", type = "string", constraints = { enum = { "a", "b" } } } } } }); print(ds:validate():json())' $T/v.csv $m > $T/$m.txt || exit 1; done && cmp $T/eager.txt $T/lazy.txt && grep -o '"by_rule":{[^}]*}' $T/lazy.txt
> "by_rule":{"id.unique":34,"id.minimum":5,"code.enum":2150}
