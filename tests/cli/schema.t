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

# a cell the schema's type cannot read stops the check, named by file, line and column
$ $JINPU validate --schema tests/data/schema/counties.yaml tests/data/schema/counties_bad.csv
? 3
! counties_bad\.csv:2:13: row 1, field 'output_t': 'x12' is not a number

# export keeps the types, units, qualifiers and key; the archive loads them back
$ $JINPU export -o $T/c.tar.gz --schema tests/data/schema/counties.yaml tests/data/schema/counties.csv && $JINPU info $T/c.tar.gz
~ primary key: county, year
~ ^output_t +number +t +1 +1
~ ^Lushun +2021 +~7696

# a cell the schema's type cannot read: nothing is written, the cell is named
$ $JINPU export -o $T/bad.tar.gz --schema tests/data/schema/counties.yaml tests/data/schema/counties_bad.csv; s=$?; test ! -e $T/bad.tar.gz && exit $s
? 3
! counties_bad\.csv:2:13: row 1, field 'output_t': 'x12'

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
