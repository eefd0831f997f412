# Hostile or odd input: each gets an answer or a clear error quickly, never a hang or a crash.

# a CSV 100,000 columns wide loads in well under the time limit
$ awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "%sc%d", (i > 1 ? "," : ""), i; print ""; for (i = 1; i <= 100000; i++) printf "%s%d", (i > 1 ? "," : ""), i; print "" }' > $T/wide.csv && timeout 30 $JINPU -e 'local d = jp.read_csv(arg[1]); print(#d, #d:names(), d:column("c99999")[1])' $T/wide.csv
> 1	100000	99999

# ... and a duplicate name among them is found, naming both columns
$ awk 'BEGIN { for (i = 1; i <= 50000; i++) printf "c%d,", i; print "c17" }' > $T/dup.csv && timeout 30 $JINPU -e 'jp.read_csv(arg[1])' $T/dup.csv
? 3
! column 50001 is named 'c17' like column 17

# a YAML dataset with 20,000 fields
$ awk 'BEGIN { print "jinpu: 1\nfields:"; for (i = 1; i <= 20000; i++) printf "  - { name: f%d, type: integer }\n", i; print "rows:\n  - [" ; for (i = 1; i <= 20000; i++) printf "%s%d", (i > 1 ? ", " : ""), i; print "]" }' > $T/wide.yaml && timeout 30 $JINPU -e 'local d = jp.load(arg[1]); print(#d:names(), d:row(1).f20000)' $T/wide.yaml
> 20000	20000

# deeply nested YAML is refused, not recursed into
$ awk 'BEGIN { printf "jinpu: 1\nnotes: "; for (i = 0; i < 5000; i++) printf "["; for (i = 0; i < 5000; i++) printf "]"; print "" }' > $T/deep.yaml && timeout 30 $JINPU info $T/deep.yaml
? 3
! deep\.yaml:2:

# a billion-laughs style document (aliases) is refused
$ printf 'jinpu: 1\nname: &a x\ntitle: *a\nfields: []\n' > $T/alias.yaml && $JINPU info $T/alias.yaml
? 3
! alias\.yaml:2:

# an unterminated quote in a CSV names the line
$ printf 'a,b\n1,"open\n2,3\n' > $T/q.csv && $JINPU -e 'jp.read_csv(arg[1])' $T/q.csv
? 3
! q\.csv:2

# binary garbage is not a dataset
$ head -c 4096 /dev/urandom > $T/noise.csv && $JINPU -e 'jp.read_csv(arg[1])' $T/noise.csv
? 3
! noise\.csv

# an empty CSV file
$ : > $T/empty.csv && $JINPU -e 'local d = jp.read_csv(arg[1]); print(#d, #d:names())' $T/empty.csv
? 3
! empty\.csv

# a script that loops forever is stopped by the memory cap or a timeout, not by luck
$ JINPU_MAX_MEMORY=32M timeout 20 $JINPU -e 'local s = "x" while true do s = s .. s end'
? 4
! not enough memory

# 100,000 nested parentheses in a filter: refused at the 201st, not a stack overflow
$ $JINPU -e 'local d = jp.load("datasets/cherry.yaml"); d:filter(string.rep("(", 100000) .. "value" .. string.rep(")", 100000) .. " > 1")'
? 3
! filter: expression nested too deeply at column 201 \(more than 200 levels

# a 60,000-term sum in a validation rule compiles and runs
$ printf 'return { { name = "big", expr = string.rep("value + ", 59999) .. "value >= 0" } }\n' > $T/big.lua && timeout 30 $JINPU validate datasets/cherry.yaml --rules $T/big.lua
~ valid

# a row view kept past its callback, its dataset collected: a clear error, never freed memory
$ $JINPU -e 'local s; do local d = jp.load("datasets/cherry.yaml"); d:filter(function(r) s = r; return true end) end; collectgarbage(); collectgarbage(); print(s.value)'
? 3
! a row view is only valid inside the filter function that received it; keep a copy with jp.copy_row\(r\)
