# The verbs from scripts: a pipeline's output file, and the errors a person
# sees for bad expressions, unknown fields and type mistakes (exit 3).

$ printf 'jp.read_csv("tests/data/verbs/farms.csv"):filter("output_t > 45"):mutate{ yield = "output_t / area_mu" }:group_by("district"):agg{ n = jp.count(), s = jp.sum("output_t"), m = jp.mean("yield") }:sort("-s"):write_csv(arg[1])\n' > $T/p.lua && $JINPU run $T/p.lua $T/out.csv && cat $T/out.csv
> district,m,n,s
> Lushun,0.5,2,110

$ printf 'print(jp.read_csv("tests/data/verbs/farms.csv"):filter(function(r) return r.crop == "cherry" end):select("district", "year"))\n' > $T/f.lua && $JINPU run $T/f.lua
~ Lushun +2021
~ Jinzhou +2021
~ 3 rows

# an unknown field in an expression: the token, its column, a suggestion
$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):filter("ouput_t > 3")'
? 3
! filter: unknown field 'ouput_t' at column 1 in "ouput_t > 3" \(did you mean 'output_t'\?\)

# a type error names the operator's column
$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):mutate{ x = "crop + 1" }'
? 3
! mutate: cannot add string 'crop' and integer 1 \(operator '\+' at column 6\)

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):group_by("crop"):agg{ s = jp.sum("district") }'
? 3
! agg: sum of field 'district' for 's': it is string, not a number

$ $JINPU -e 'local d = jp.read_csv("tests/data/verbs/farms.csv"); d:join(d:select("year"):mutate{ year = "tostring(year)" }, "year")'
? 3
! join: key 'year' is integer in the left dataset but string in the right

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):convert("area_mu", "kg")'
? 3
! convert: field 'area_mu' has no unit to convert from

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):sort("-nope")'
? 3
! sort: no field 'nope' in dataset 'farms' \(did you mean 'note'\? fields: district, year, crop, area_mu, output_t, note\)

# an error inside a row function names the row, and the field that is nil
$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):filter(function(r) return r.output_t > 1 end)'
? 3
! filter: row 4, field 'output_t': .*attempt to compare number with nil

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):filter("output_t = 3")'
? 3
! filter: unexpected '=' at column 10 \(use == to compare\)
!! Segmentation|AddressSanitizer|runtime error

# group-wise expressions: a lag and a share within each district, in the sorted order
$ printf 'jp.read_csv("tests/data/verbs/farms.csv"):sort("district", "year"):group_by("district"):mutate{ prev = "lag(output_t)", share = "round(output_t / sum(output_t), 3)" }:select("district", "year", "output_t", "prev", "share"):write_csv(arg[1])\n' > $T/w.lua && $JINPU run $T/w.lua $T/w.csv && cat $T/w.csv
> district,year,output_t,prev,share
> Jinzhou,2021,40,,1.0
> Jinzhou,2021,,40,
> Lushun,2021,50,,0.4
> Lushun,2021,15,50,0.12
> Lushun,2022,60,15,0.48

# a misspelt window function is named with a suggestion
$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):group_by("district"):filter("cumsun(output_t) > 3")'
? 3
! filter: unknown function 'cumsun' at column 1 \(did you mean 'cumsum'\?\)

# membership and string functions, vectorised; errors name the function and the field
$ $JINPU -e 'local d = jp.read_csv("tests/data/verbs/farms.csv"):filter("one_of(crop, '"'"'apple'"'"', '"'"'pear'"'"') or contains(note, '"'"'comma'"'"')") print(#d .. " " .. table.concat({d:column("crop")[1], d:column("crop")[2], d:column("crop")[3]}, " "))'
> 3 cherry apple pear

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):filter("starts_with(year, '"'"'20'"'"')")'
? 3
! filter: starts_with\(\) needs a string, not integer 'year' \(column 13\)

$ $JINPU -e 'jp.read_csv("tests/data/verbs/farms.csv"):filter("matches(district, '"'"'[A-Z'"'"')")'
? 3
! filter: matches\(\): bad pattern '\[A-Z': unmatched \[
!! Segmentation|AddressSanitizer|runtime error
