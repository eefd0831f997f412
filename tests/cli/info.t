# jinpu info: datasets, units, qualifiers, and errors that name file:line.

$ $JINPU info datasets/cherry.yaml
~ ^datasets/cherry\.yaml: dataset 'cherry'
~ rows 5, fields 8
~ value +number +<unit>
~ >140000 +t
~ >=37800
~ primary key: indicator, subject, period

$ $JINPU info --rows 2 datasets/economy.yaml datasets/ip.yaml
~ ^datasets/economy\.yaml: dataset 'economy'
~ ^datasets/ip\.yaml: dataset 'ip'
~ more rows

# broken YAML: the message names the file, line and column
$ printf 'jinpu: 1\nname: x\nfields:\n  - name: a\n    type: integer\nrows:\n  - { a: 1 }\n  - { a: [1, 2 }\n' > $T/broken.yaml && $JINPU info $T/broken.yaml
? 3
! broken\.yaml:8:[0-9]+:

# a value of the wrong type names the row and the field
$ printf 'jinpu: 1\nfields:\n  - name: a\n    type: integer\nrows:\n  - { a: 1 }\n  - { a: abc }\n' > $T/type.yaml && $JINPU info $T/type.yaml
? 3
! type\.yaml:7:[0-9]+: row 2, field 'a'

# an unknown unit
$ printf 'jinpu: 1\nfields:\n  - name: a\n    type: number\n    unit: furlong\n' > $T/unit.yaml && $JINPU info $T/unit.yaml
? 3
! unit\.yaml:5:[0-9]+:.*furlong

# a figure in the wrong unit
$ printf 'jinpu: 1\nfields:\n  - name: a\n    type: number\n    unit: mu\nrows:\n  - { a: 14万吨 }\n' > $T/wrong.yaml && $JINPU info $T/wrong.yaml
? 3
! wrong\.yaml:7:

# figures as printed are read in base units with their qualifiers
$ printf 'jinpu: 1\nname: figs\nfields:\n  - name: a\n    type: number\n    unit: CNY\nrows:\n  - { a: 2576.3亿元 }\n  - { a: 约11.4亿 }\n  - { a: 3.78万元以上 }\n' > $T/figs.yaml && $JINPU info $T/figs.yaml
~ 257630000000
~ ~1140000000
~ >=37800

$ $JINPU info datasets/nope.yaml
? 3
! datasets/nope\.yaml

# an empty file
$ : > $T/empty.yaml && $JINPU info $T/empty.yaml
? 3
! empty\.yaml

# a CSV is profiled: types from every row, and the cell that made a column text
$ printf 'county,value,year\nA,7696,2020\n"B\nb",12,2021\nC,约7696,2022\n' > $T/t.csv && $JINPU info $T/t.csv
~ types inferred from all 3 rows
~ 'value' is text from row 3 \(.*t\.csv:5:3\): '约7696'
~ ^year +integer
~ ^C +约7696 +2022

# the figure as printed on the first row is named too; a column of names is not explained
$ printf 'county,value,code\nA,约7696,1\nB,12,Bee\nC,13,Cee\nD,14,Dee\n' > $T/f.csv && $JINPU info $T/f.csv
~ 'value' is text from row 1 \(.*f\.csv:2:3\): '约7696'
!! 'code' is text
!! 'county' is text

# every field of the schema is listed (up to 100), not the first ten
$ printf 'a,b,c,d,e,f,g,h,i,j,k,l\n1,2,3,4,5,6,7,8,9,10,11,12\n' > $T/w.csv && $JINPU info $T/w.csv
~ ^l +integer

# a malformed record in a CSV: exit 3, file:line
$ printf 'a,b\n1,2\n3\n' > $T/bad.csv && $JINPU info $T/bad.csv
? 3
! bad\.csv:3:[0-9]+: .*expected 2 fields, found 1

# a wide dataset: the preview names some of the fields past the screen and counts the rest
$ { printf 'jinpu: 1\nfields:\n'; i=0; while [ $i -lt 200 ]; do printf '  - {name: field_%d, type: integer}\n' $i; i=$((i + 1)); done; printf 'rows: [{field_0: 1}]\n'; } > $T/wide.yaml && $JINPU info $T/wide.yaml
~ rows 1, fields 200
~ ^\.\.\. [0-9]+ more fields: field_[0-9]+ \(integer\), .*, \.\.\.$

# numbers on screen: 7 significant digits, never the whole part; JINPU_DIGITS changes it
$ printf 'name,v\na,15.729453401494299\nb,123456789.123\n' > $T/d.csv && $JINPU info $T/d.csv
~ ^a +15\.72945$
~ ^b +123456789$
$ printf 'name,v\na,15.729453401494299\n' > $T/d.csv && JINPU_DIGITS=0 $JINPU info $T/d.csv
~ ^a +15\.729453401494299$
$ printf 'jinpu: 1\nfields:\n  - {name: v, type: number}\nrows:\n  - {v: 15.729453401494299}\n' > $T/d.yaml && JINPU_DIGITS=3 $JINPU info $T/d.yaml
~ ^ +15\.7$

# a misspelt type in a dataset file names the type it meant
$ printf 'jinpu: 1\nfields:\n  - name: a\n    type: numbr\n' > $T/ty.yaml && $JINPU info $T/ty.yaml
? 3
! ty\.yaml:4:[0-9]+: .*unknown type 'numbr' \(did you mean 'number'\? expected

# FILE#NAME picks one dataset of a file holding several, for info, validate and export alike
$ $JINPU export -o $T/m.sqlite datasets/cherry.yaml datasets/economy.yaml && $JINPU info "$T/m.sqlite#cherry"
~ m\.sqlite#cherry: dataset 'cherry'
~ rows 5, fields 8
$ $JINPU export -o $T/m.sqlite datasets/cherry.yaml datasets/economy.yaml && $JINPU info $T/m.sqlite
? 3
! holds 2 datasets \(cherry, economy\).*\(on the command line: .*m\.sqlite#cherry\)
$ $JINPU export -o $T/m.sqlite datasets/cherry.yaml datasets/economy.yaml && $JINPU validate "$T/m.sqlite#cherry"
~ ^cherry( \(.*\))?: 5 rows, [0-9]+ rules: valid
$ $JINPU export -o $T/m.sqlite datasets/cherry.yaml datasets/economy.yaml && $JINPU export -o $T/c.tar.gz "$T/m.sqlite#economy" && $JINPU info $T/c.tar.gz
~ datasets: 1
~ dataset 'economy'
$ $JINPU export -o $T/a.tar.gz datasets/cherry.yaml datasets/economy.yaml && $JINPU validate "$T/a.tar.gz#cherry"
~ ^cherry( \(.*\))?: 5 rows, [0-9]+ rules: valid
$ $JINPU export -o $T/a.tar.gz datasets/cherry.yaml && $JINPU info "$T/a.tar.gz#nope"
? 3
! no dataset 'nope' in the archive \(it holds: cherry\)
# a database written by the sqlite plugin validates like any other file
$ $JINPU export -o $T/c.sqlite datasets/cherry.yaml && $JINPU validate $T/c.sqlite
~ ^cherry( \(.*\))?: 5 rows, [0-9]+ rules: valid
