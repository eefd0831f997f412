# jinpu validate over a CSV file large enough to be read lazily goes batch
# by batch: memory for a batch and the report (and what unique and keys
# hold), not for the file.  Its output (text and JSON, exit status) is the
# loaded file's byte for byte, whatever the batch size
# (JINPU_TEST_CSV_TUNING="BATCH,LAZY,THREADS"; a LAZY of 1000000000 loads
# these files whole): cells that do not parse as their field's type, many
# on batch boundaries and one on the second line of a record, a field that
# turns to text late, a .csv.gz, more such cells than are listed.

$ awk -v n=3000 -f tests/data/stream/cgen.awk > $T/c.csv && JINPU_TEST_CSV_TUNING=4096,1000000000,1 $JINPU_HOOKS validate --schema tests/data/stream/cells.yaml $T/c.csv > $T/want.txt; test $? = 1 || exit 9; for t in 4096,1,1 1500,1,3 0,1,2 65536,1,1; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS validate --schema tests/data/stream/cells.yaml $T/c.csv > $T/got.txt; test $? = 1 && cmp $T/want.txt $T/got.txt || exit 1; done; grep -E 'rows, |^  ERROR   [a-z]+\.type|at line' $T/got.txt | sed 's|/.*/||'
> c (c.csv): 3000 rows, 8 rules: FAILED (634 errors)
>   ERROR   qty.type: type integer (67 of 3000 rows fail)
>   ERROR   day.type: type date (61 of 3000 rows fail)
>       c.csv:150: row 148, field 'day': '2021-02-30' is not a date (YYYY-MM-DD), at line 151
>   ERROR   share.type: type number (43 of 3000 rows fail)

# the JSON report, every issue listed, and without the schema's constraints
$ awk -v n=3000 -f tests/data/stream/cgen.awk > $T/c.csv && for o in "--format json" "--max 0" "--no-schema --format json"; do JINPU_TEST_CSV_TUNING=4096,1000000000,1 $JINPU_HOOKS validate $o --schema tests/data/stream/cells.yaml $T/c.csv > $T/want.txt; test $? = 1 || exit 9; for t in 4096,1,1 0,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS validate $o --schema tests/data/stream/cells.yaml $T/c.csv > $T/got.txt; test $? = 1 && cmp $T/want.txt $T/got.txt || exit 1; done; done; grep -o '"by_rule":{[^}]*}' $T/got.txt
> "by_rule":{"qty.type":67,"day.type":61,"share.type":43}

# a .csv.gz
$ awk -v n=3000 -f tests/data/stream/cgen.awk | gzip > $T/c.csv.gz && for o in "--format json" "--format text"; do JINPU_TEST_CSV_TUNING=4096,1000000000,1 $JINPU_HOOKS validate $o --schema tests/data/stream/cells.yaml $T/c.csv.gz > $T/want.txt; test $? = 1 || exit 9; for t in 4096,1,1 1500,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS validate $o --schema tests/data/stream/cells.yaml $T/c.csv.gz > $T/got.txt; test $? = 1 && cmp $T/want.txt $T/got.txt || exit 1; done; done; head -1 $T/got.txt | sed 's|/.*/||'
> c (c.csv.gz): 3000 rows, 8 rules: FAILED (634 errors)

# A million rows whose columns (32 MB loaded) do not fit in 8 MB: validated
# batch by batch, cells that are not of their type included.
$ awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 1000000; i++) print i "," (i % 250000 == 7 ? "many" : i % 1000) "," i % 7 "," (i % 100000 == 5 ? "2020-02-31" : "2020-01-0" (i % 9 + 1)) }' > $T/m.csv && JINPU_MAX_MEMORY=8M JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS validate --schema tests/data/stream/cells_m.yaml $T/m.csv > $T/out.txt; echo "exit $?"; grep -E 'rows, |^  [A-Z]+ ' $T/out.txt | sed 's|/.*/||'
> exit 1
> m (m.csv): 1000000 rows, 5 rules: FAILED (1014 errors)
>   ERROR   d.type: type date (10 of 1000000 rows fail)
>   ERROR   b.type: type integer (4 of 1000000 rows fail)
>   ERROR   b.maximum: maximum 998 on 'b' (1000 of 999996 rows fail)

# More cells not of their type than are listed (100000): the rest counted,
# and reported as missing where the field is required, as when loaded.
$ awk 'BEGIN { print "a,b"; for (i = 0; i < 150000; i++) print i "," (i % 4 ? "x" : i) }' > $T/cap.csv && printf 'jinpu: 1\nfields:\n  - { name: a, type: integer }\n  - { name: b, type: integer, constraints: { required: true } }\n' > $T/cap.yaml && for o in text json; do JINPU_TEST_CSV_TUNING=65536,1000000000,1 $JINPU_HOOKS validate --format $o --schema $T/cap.yaml $T/cap.csv > $T/want.txt; JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS validate --format $o --schema $T/cap.yaml $T/cap.csv > $T/got.txt; test $? = 1 && cmp $T/want.txt $T/got.txt || exit 1; done; JINPU_TEST_CSV_TUNING=65536,1,2 $JINPU_HOOKS validate --schema $T/cap.yaml $T/cap.csv | grep -E '^  [A-Z]|more cells' | sed 's|/.*/||'
>   ERROR   b.type: type integer (100000 of 150000 rows fail)
>   ERROR   type: cells kept (1 issue)
>       cap.csv: 12500 more cells are not of their field's type (the first 100000 are listed)
>   ERROR   b.required: required on 'b' (12500 of 150000 rows fail)

# Rules that read more than a row take the whole-file way, the cells read
# with the file: a Lua function; a foreign key from a dataset validated
# before, which reads the file whole first.
$ awk -v n=3000 -f tests/data/stream/cgen.awk > $T/c.csv && printf 'return { { check = function(r) return r.id ~= 5 end, name = "fn" } }\n' > $T/fn.lua && for t in 4096,1000000000,1 4096,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS validate --format json --rules $T/fn.lua --schema tests/data/stream/cells.yaml $T/c.csv > $T/$t.txt; test $? = 1 || exit 1; done; cmp $T/4096,1000000000,1.txt $T/4096,1,2.txt && grep -o '"by_rule":{"qty.type":67,[^}]*"fn":1}' $T/4096,1,2.txt | wc -l
> 1

$ awk -v n=3000 -f tests/data/stream/cgen.awk > $T/c.csv && printf 'jinpu: 1\nname: p\nfields:\n  - { name: pid, type: integer }\n  - { name: id, type: integer }\nrows:\n  - { pid: 1, id: 7 }\n  - { pid: 2, id: 999999 }\n' > $T/p.yaml && printf 'return { datasets = { p = { { foreign_key = { fields = "id", reference = { dataset = "c", fields = "id" } } } } } }\n' > $T/fk.lua && for t in 4096,1000000000,1 4096,1,2; do JINPU_TEST_CSV_TUNING=$t $JINPU_HOOKS validate --rules $T/fk.lua --schema tests/data/stream/cells.yaml $T/p.yaml $T/c.csv > $T/$t.txt; test $? = 1 || exit 1; done; cmp $T/4096,1000000000,1.txt $T/4096,1,2.txt && grep -E '^(p|c) .*rows|foreign_key|qty.type:' $T/4096,1,2.txt | sed 's|/.*/||'
> p (p.yaml): 2 rows, 1 rule: FAILED (2 errors)
>   ERROR   foreign_key.id: (id) in c (id) (2 of 2 rows fail)
> c (c.csv): 3000 rows, 8 rules: FAILED (634 errors)
>   ERROR   qty.type: type integer (67 of 3000 rows fail)

# A broken record met only while the file streams is an unusable input, as
# when it does not load: exit 3, the file and line, no report of it, the
# input errors in the order of the files given.
$ awk -v n=3000 -f tests/data/stream/cgen.awk > $T/c.csv && { cat $T/c.csv; echo '1,"unterminated,3,2021-01-01,1'; } > $T/b.csv && for o in text json; do JINPU_TEST_CSV_TUNING=4096,1000000000,1 $JINPU_HOOKS validate --format $o --schema tests/data/stream/cells.yaml $T/b.csv $T/none.csv $T/c.csv > $T/want.txt 2> $T/want.err; test $? = 3 || exit 9; JINPU_TEST_CSV_TUNING=1500,1,2 $JINPU_HOOKS validate --format $o --schema tests/data/stream/cells.yaml $T/b.csv $T/none.csv $T/c.csv > $T/got.txt 2> $T/got.err; test $? = 3 && cmp $T/want.txt $T/got.txt && cmp $T/want.err $T/got.err || exit 1; done; sed 's|/.*/||' $T/got.err
> jinpu validate: b.csv:3036:3: row 3001: unterminated quoted field
> jinpu validate: none.csv: No such file or directory
