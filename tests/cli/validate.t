# jinpu validate: verdicts, reports, exit status (0 valid, 1 data fails,
# 2 usage, 3 an input or a rule is unusable).

# the bundled datasets pass their schemas and rule packs
$ $JINPU validate datasets/*.yaml
~ ^4 of 4 datasets valid$
~ ^cherry \(datasets/cherry.yaml\): 5 rows, [0-9]+ rules: valid$
!! .

# one corrupted figure: exit 1, the file and the line of that figure
$ L=$(grep -n 'indicator: planted_area' datasets/cherry.yaml | cut -d: -f1); sed 's/value: 148000,/value: 1480,/' datasets/cherry.yaml > $T/cherry.yaml; $JINPU validate $T/cherry.yaml > $T/out; rc=$?; cat $T/out; grep -q "cherry.yaml:$L: row 1, field 'value'" $T/out || exit 9; exit $rc
? 1
~ ERROR   cherry.yield_per_mu
~ FAILED

# a share that disagrees with its part and whole
$ L=$(grep -n 'indicator: leading_industries_output_share' datasets/economy.yaml | cut -d: -f1); sed 's/value: 79.8,/value: 97.8,/' datasets/economy.yaml > $T/economy.yaml; $JINPU validate $T/economy.yaml datasets/ip.yaml > $T/out; rc=$?; cat $T/out; grep -q "economy.yaml:$L: row [0-9]*, field 'value': leading_industries_output_share 97.8" $T/out || exit 9; exit $rc
? 1
~ economy.leading_share_agrees
~ ^1 of 2 datasets valid$

# a negative figure breaks the schema's minimum, at its line
$ L=$(grep -n 'indicator: jobs_created' datasets/cherry.yaml | cut -d: -f1); sed 's/value: 60000,/value: -60000,/' datasets/cherry.yaml > $T/cherry.yaml; $JINPU validate $T/cherry.yaml > $T/out; rc=$?; cat $T/out; grep -q "cherry.yaml:$L: row 4, field 'value': -60000 is below the minimum 0" $T/out || exit 9; exit $rc
? 1
~ ERROR   value.minimum

# schema constraints, qualifiers, keys, foreign keys across files
$ $JINPU validate tests/data/validate/people.yaml tests/data/validate/degrees.yaml
? 1
~ people.yaml:16: row 3, field 'name': 'zhao' does not match the pattern \[A-Z\]\[a-z\]\+
~ people.yaml:15: row 2, field 'paid': >40000 is above the maximum 40000 whatever its exact value
~ people.yaml:17: row 4, field 'paid': ~41000 is above the maximum 40000 \(an approximate figure.*\[warning\]$
~ people.yaml:16: row 3, field 'id': key 2 repeats row 2 \(line 15\)
~ people.yaml:15: row 2, field 'degree': 'phd' is not found in degrees \(degree\)
~ ^degrees .*valid

# a foreign key whose dataset was not given: a broken rule, exit 3
$ $JINPU validate tests/data/validate/people.yaml
? 3
~ BROKEN  foreign_key.degree
~ which was not given

# a cross-dataset rule from a rules file
$ $JINPU validate tests/data/validate/people.yaml tests/data/validate/degrees.yaml --rules tests/data/validate/rules_cross.lua
? 1
~ people.yaml:16: row 3, field 'paid': 25000 is more than a fifth of 100000
~ why: a year's payment is a fifth of the degree's subsidy

# rules for a CSV read loosely: types, an expression; 'n/a' is a missing value
$ $JINPU validate tests/data/validate/loose.csv --rules tests/data/validate/rules_ok.lua
? 1
~ loose.csv:3: row 2, field 'output_t': missing value \(required\)
~ loose.csv:4: row 3, field 'year': 'twenty' is not a valid integer
~ loose.csv:4: row 3, field 'share': `share <= 100` is false \(share = 120\)

# a threshold: failures within `mostly` are warnings, the data passes
$ $JINPU validate tests/data/validate/loose.csv --rules tests/data/validate/rules_mostly.lua
~ WARNING share_pct: share <= 100 \(1 of 3 rows fails, within mostly 0.6\)
~ valid \(1 warning\)

# malformed rules are rule errors, named, exit 3
$ $JINPU validate tests/data/validate/loose.csv --rules tests/data/validate/rules_broken.lua
? 3
~ BROKEN  share.minimun
~ did you mean 'minimum'
~ BROKEN  region.pattern
~ bad pattern '\[a-'
~ BROKEN  raises
~ rules_broken.lua:5: attempt to index a nil value
~ BROKEN  no_compile
~ does not compile at column 9

# a rules file that does not load
$ $JINPU validate tests/data/validate/loose.csv --rules tests/data/validate/rules_syntax.lua
? 3
! rules_syntax.lua:2:

# JSON for machines
$ $JINPU validate --format json tests/data/validate/people.yaml tests/data/validate/degrees.yaml
? 1
~ ^\{"ok":false,"status":1,"reports":\[\{"dataset":"people","file":"tests/data/validate/people.yaml","rows":4,"ok":false,
~ \{"row":3,"line":16,"file":"tests/data/validate/people.yaml","field":"name","rule":"name.pattern","severity":"error","message":"'zhao' does not match the pattern \[A-Z\]\[a-z\]\+ \(the whole value must match\)"\}
~ "warnings":\[\{"row":4,"line":17,
~ "input_errors":\[\]\}$

$ $JINPU validate --format=json datasets/cherry.yaml
~ ^\{"ok":true,"status":0,"reports":\[\{"dataset":"cherry",.*"counts":\{"errors":0,"warnings":0,"rule_errors":0,

# --max and --no-pack
$ $JINPU validate --max 1 tests/data/validate/people.yaml tests/data/validate/degrees.yaml
? 1
~ \.\.\. and 1 more
$ $JINPU validate --no-pack datasets/cherry.yaml
!! .
~ valid
$ $JINPU validate --no-pack --format json datasets/cherry.yaml | grep -c 'cherry\.yield_per_mu'
? 1
> 0
$ $JINPU validate --format json datasets/cherry.yaml | grep -c 'cherry\.yield_per_mu'
> 1

# unreadable input: exit 3, the message names the file and line
$ $JINPU validate tests/data/validate/broken.yaml
? 3
! broken.yaml:5:[0-9]+:
$ $JINPU validate no/such/file.yaml
? 3
! no/such/file.yaml
$ $JINPU validate --format json no/such/file.yaml
? 3
~ "input_errors":\[\{"file":"no/such/file.yaml","message":

# usage errors: exit 2
$ $JINPU validate
? 2
! no file given
$ $JINPU validate --frobnicate datasets/cherry.yaml
? 2
! unknown option '--frobnicate'
$ $JINPU validate --format xml datasets/cherry.yaml
? 2
! --format must be text or json
$ $JINPU validate datasets/cherry.yaml --rules
? 2
! --rules needs a file
$ $JINPU validate --help
~ ^usage: jinpu validate

# a bad pattern in a dataset's own schema: a broken rule (exit 3), the other
# rules still give their verdict
$ $JINPU validate tests/data/validate/badpattern.yaml
? 3
~ BROKEN  code.pattern: pattern \[a- on 'code'
~ bad pattern '\[a-'
~ badpattern.yaml:8: row 1, field 'n': 11 is above the maximum 10

# a 100-byte pattern whose repetitions would expand to gigabytes is refused at once, with the reason
$ printf 'jinpu: 1\nname: p\nfields:\n  - { name: code, type: string, constraints: { pattern: "((a{1,255}){1,255}){1,255}" } }\nrows:\n  - { code: aaa }\n' > $T/p.yaml && timeout 10 $JINPU validate $T/p.yaml
? 3
~ BROKEN  code.pattern
~ too large \(its repetitions expand to more than 5000 steps\)

# back-references are refused (wrapping the pattern used to shift them: (b)(a)\2 rejected baa)
$ printf 'jinpu: 1\nname: p\nfields:\n  - { name: code, type: string, constraints: { pattern: "(b)(a)\\\\2" } }\nrows:\n  - { code: baa }\n' > $T/b.yaml && $JINPU validate $T/b.yaml
? 3
~ back-references \(\\2\) are not supported

# a pattern that backtracking engines take exponential time on is matched in linear time
$ awk 'BEGIN { print "jinpu: 1\nname: p\nfields:\n  - { name: code, type: string, constraints: { pattern: \"(a|aa)*b\" } }\nrows:"; s = ""; for (i = 0; i < 50000; i++) s = s "a"; print "  - { code: " s " }" }' > $T/x.yaml && timeout 10 $JINPU validate $T/x.yaml
? 1
~ does not match the pattern

# a figure that is not a number is a data error at its line (exit 1, not 3): every
# such cell is reported under value.type, and none of them again as missing
$ L=$(grep -n 'indicator: planted_area' datasets/cherry.yaml | cut -d: -f1); M=$(grep -n 'indicator: jobs_created' datasets/cherry.yaml | cut -d: -f1); sed -e 's/value: 148000,/value: twenty-five-thousand,/' -e 's/value: 60000,/value: [6, 0],/' datasets/cherry.yaml > $T/cherry.yaml; $JINPU validate $T/cherry.yaml > $T/out; rc=$?; cat $T/out; grep -q "cherry.yaml:$L: row 1, field 'value': 'twenty-five-thousand' is not a number" $T/out && grep -q "cherry.yaml:$M: row 4, field 'value': expected one value, found a list" $T/out || exit 9; ! grep -q 'value.required' $T/out || exit 8; exit $rc
? 1
~ ERROR   value\.type: type number \(2 of 5 rows fail\)
~ FAILED
!! .

# ... and in the JSON report, with the rule and the line of each cell
$ L=$(grep -n 'indicator: planted_area' datasets/cherry.yaml | cut -d: -f1); sed -e 's/value: 148000,/value: twenty-five-thousand,/' datasets/cherry.yaml > $T/cherry.yaml; $JINPU validate --format json $T/cherry.yaml > $T/out; rc=$?; cat $T/out; grep -q "\"line\":$L," $T/out || exit 9; exit $rc
? 1
~ "rule":"value\.type"

# a cell in a block mapping: the row's line, and the cell's
$ printf 'jinpu: 1\nfields:\n  - {name: k, type: string}\n  - {name: n, type: integer}\nrows:\n  - k: a\n    n: zz\n' > $T/b.yaml && $JINPU validate $T/b.yaml
? 1
~ b\.yaml:6: row 1, field 'n': 'zz' is not an integer, at line 7

# outside validation a bad cell still stops the load: a silent null would be a wrong answer
$ sed -e 's/value: 148000,/value: twenty-five-thousand,/' datasets/cherry.yaml > $T/cherry.yaml; $JINPU -e 'jp.load(arg[1])' $T/cherry.yaml
? 3
! cherry\.yaml:63:[0-9]+: row 1, field 'value': 'twenty-five-thousand' is not a number
