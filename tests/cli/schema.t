# --schema FILE.yaml: info, validate and export read CSV files with the
# fields (types, units, constraints) and keys of a dataset-format document

# without a schema, one figure as printed makes a column text, and info says which cell
$ $JINPU info tests/data/schema/counties.csv
~ 'output_t' is text from row 2 \(tests/data/schema/counties\.csv:3:13\): '约7696'
~ ^output_t +string

# with it: numbers in tonnes, 约 kept as a qualifier, — a null, 1.2万 read as 12000
$ $JINPU info --schema tests/data/schema/counties.yaml tests/data/schema/counties.csv
~ 4 fields typed by the schema tests/data/schema/counties\.yaml, the others inferred from all 3 rows
~ primary key: county, year
~ ^output_t +number +t +1 +1 +min 0 +Output as printed
~ ^area_mu +number +mu
~ ^note +string
~ ^Lushun +2021 +~7696 +12000
~ ^Jinzhou +2021 +1200 +3000
!! text from row

$ $JINPU validate --schema tests/data/schema/counties.yaml tests/data/schema/counties.csv
~ valid

# every broken constraint and key, named by file, line and field
$ $JINPU validate --schema tests/data/schema/counties.yaml tests/data/schema/counties_rules.csv
? 1
~ counties_rules\.csv:4: row 3, field 'output_t': -4 is below the minimum 0
~ counties_rules\.csv:4: row 3, field 'year': 1999 is below the minimum 2000
~ primary_key
~ counties_rules\.csv:3: row 2

# a cell the schema's type cannot read is a validation error like the others (exit 1)
$ $JINPU validate --schema tests/data/schema/counties.yaml tests/data/schema/counties_bad.csv
? 1
~ output_t\.type: type number \(1 of 3 rows fails\)
~ counties_bad\.csv:2: row 1, field 'output_t': 'x12' is not a number
~ counties_bad\.csv:4: row 3, field 'year': 1999 is below the minimum 2000
!! .

# every such cell is reported, each with file:line, whatever fields and lines it spans
$ $JINPU validate --schema tests/data/schema/counties.yaml tests/data/schema/counties_cells.csv
? 1
~ FAILED \(4 errors\)
~ output_t\.type: type number \(2 of 6 rows fail\)
~ counties_cells\.csv:2: row 1, field 'output_t': 'twenty-five-thousand' is not a number
~ counties_cells\.csv:8: row 6, field 'output_t': '3 apples' is not a number
~ counties_cells\.csv:5: row 3, field 'year': '20x1' is not an integer
~ counties_cells\.csv:6: row 4, field 'area_mu': 'many' is not a number
!! .

# the same from a .csv.gz, and for machines
$ gzip -c tests/data/schema/counties_cells.csv > $T/cells.csv.gz && $JINPU validate --format json --schema tests/data/schema/counties.yaml $T/cells.csv.gz
? 1
~ "errors":4,
~ \{"row":6,"line":8,"file":"[^"]*cells\.csv\.gz","field":"output_t","rule":"output_t\.type","severity":"error","message":"'3 apples' is not a number: unknown unit"\}
~ "input_errors":\[\]

# a file that cannot be read as a dataset at all is still exit 3
$ printf 'county,year,output_t,area_mu,note\nA,2021,x,1,"open\n' > $T/broken.csv && $JINPU validate --schema tests/data/schema/counties.yaml $T/broken.csv
? 3
! broken\.csv:2:.*unterminated

# export keeps the types, units, qualifiers and key; the archive loads them back
$ $JINPU export -o $T/c.tar.gz --schema tests/data/schema/counties.yaml tests/data/schema/counties.csv && $JINPU info $T/c.tar.gz
~ primary key: county, year
~ ^output_t +number +t +1 +1
~ ^Lushun +2021 +~7696

# a cell the schema's type cannot read: nothing is written, the cell is named
$ $JINPU export -o $T/bad.tar.gz --schema tests/data/schema/counties.yaml tests/data/schema/counties_bad.csv; s=$?; test ! -e $T/bad.tar.gz && exit $s
? 3
! counties_bad\.csv:2:13: row 1, field 'output_t': 'x12'

# export and info never put a null in place of a bad cell: they stop at the first
$ $JINPU export -o $T/cells.zip --schema tests/data/schema/counties.yaml tests/data/schema/counties_cells.csv; s=$?; test ! -e $T/cells.zip && exit $s
? 3
! counties_cells\.csv:2:13: row 1, field 'output_t': 'twenty-five-thousand' is not a number

$ $JINPU info --schema tests/data/schema/counties.yaml tests/data/schema/counties_bad.csv
? 3
! counties_bad\.csv:2:13: row 1, field 'output_t'

# a schema naming a field the file does not have
$ $JINPU validate --schema tests/data/schema/missing_field.yaml tests/data/schema/counties.csv
? 3
! counties\.csv: field 'output': schema names field 'output', which .*counties\.csv does not have

# the schema file itself: not YAML, broken, missing
$ $JINPU info --schema tests/data/schema/counties.csv tests/data/schema/counties.csv
? 3
! counties\.csv: --schema takes a YAML document in the dataset format

$ printf 'jinpu: 1\nfields:\n  - {name: a, type: numbr}\n' > $T/s.yaml && $JINPU export -o $T/x.tar.gz --schema $T/s.yaml tests/data/schema/counties.csv
? 3
! s\.yaml:3
!! stack traceback

$ $JINPU validate --schema $T/nope.yaml tests/data/schema/counties.csv
? 3
! nope\.yaml

# a schema with no CSV to apply to is a usage error, not silently ignored
$ $JINPU info --schema tests/data/schema/counties.yaml datasets/cherry.yaml
? 2
! --schema applies to CSV files, and none was given
