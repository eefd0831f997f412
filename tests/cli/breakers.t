# The verbs that hold what they must (distinct, pivot, window and aggregate
# functions, the build side of a join) say so when it does not fit under
# JINPU_MAX_MEMORY: the verb, what it holds, the limit and what to do, never
# a reader's row blamed for it.  Exit 4 as for any out of memory, and the
# output of a write is never left half-written.  The files are lazy (8 MB or
# more) and need far more than the limits below to be held.

# distinct
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):distinct("k", "x", "s"):write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! distinct: out of memory holding the 3 fields it compares.* within JINPU_MAX_MEMORY=16M; raise the limit, or select fewer fields first
! the limit JINPU_MAX_MEMORY=16M was reached
!! row [0-9]+: out of memory

# pivot
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):pivot{ names_from = "g", values_from = "y", id_cols = { "k" } }:write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! pivot: out of memory holding the 5 fields it reads.* within JINPU_MAX_MEMORY=16M; raise the limit, or select the id, names and values fields first
!! row [0-9]+: out of memory

# window functions within groups (a cumulative sum used to blame a CSV row)
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):group_by("g"):mutate{ c = "cumsum(x)" }:write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! mutate: out of memory holding the 5 fields of the grouped rows its window and aggregate functions read.* within JINPU_MAX_MEMORY=16M; raise the limit, or select fewer fields first
!! row [0-9]+: out of memory

# an aggregate within groups, in a filter
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):group_by("g"):filter("x > mean(x)"):write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! filter: out of memory holding the 5 fields of the grouped rows its window and aggregate functions read.* within JINPU_MAX_MEMORY=16M

# a window over the whole file, in a pipeline that would otherwise stream
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):mutate{ prev = "lag(x)" }:write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! mutate: out of memory holding the 5 fields its window and aggregate functions read.* within JINPU_MAX_MEMORY=16M; raise the limit, or select fewer fields first
!! row [0-9]+: out of memory

# the build side of a join: the right dataset, loaded when the join is called
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && awk 'BEGIN { print "k,name"; for (i = 1; i <= 600000; i++) printf "%d,name%d\n", i, i }' > $T/r.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):join(jp.read_csv(arg[2]), "k"):write_csv(arg[3])' $T/d.csv $T/r.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
> r.csv
! join: out of memory holding the build side, the right dataset's 2 fields.* within JINPU_MAX_MEMORY=16M; raise the limit, or give join the smaller dataset on the right, with fewer fields
!! row [0-9]+: out of memory

# a full join holds both sides
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && awk 'BEGIN { print "k,name"; for (i = 1; i <= 600000; i++) printf "%d,name%d\n", i, i }' > $T/r.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):join(jp.read_csv(arg[2]), "k", "full"):write_csv(arg[3])' $T/d.csv $T/r.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
> r.csv
! join: out of memory holding both sides of a right or full join, the left dataset's 5 fields first.* within JINPU_MAX_MEMORY=16M; raise the limit, or join inner or left, which streams the left rows

# the message is a value: a script catches it, and a streaming pass over the
# same file still fits
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=40M $JINPU -e 'local ok, e = pcall(function() return jp.read_csv(arg[1]):distinct("k", "s") end) print(ok, (e:match("distinct: out of memory holding the 2 fields it compares"))) print(jp.read_csv(arg[1]):column("k"):sum())' $T/d.csv
> false	distinct: out of memory holding the 2 fields it compares
> 45000150000	exact

# a sort loaded for the fields asked for holds its keys and those fields
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'print(jp.read_csv(arg[1]):sort("x"):column("s")[1])' $T/d.csv
? 4
! sort: out of memory holding its keys and the fields asked for.* within JINPU_MAX_MEMORY=16M; raise the limit, or ask for fewer fields
! the limit JINPU_MAX_MEMORY=16M was reached
!! row [0-9]+: out of memory

# a full sort under a budget too small to sort in runs: nothing written
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=16M $JINPU -e 'jp.read_csv(arg[1]):sort("x"):write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> exit 4
> d.csv
! sort: out of memory holding every row in memory: 16 MB is too small a budget to sort in runs.* within JINPU_MAX_MEMORY=16M; raise the limit to 320M or more
!! row [0-9]+: out of memory

# a group per row: the groups do not fit where the batches alone would
$ awk 'BEGIN { print "k,g,x,y,s"; for (i = 1; i <= 300000; i++) printf "%d,g%d,%d,%.2f,s%d\n", i, i % 7, i % 1000, i / 3, i }' > $T/d.csv && JINPU_MAX_MEMORY=40M $JINPU -e 'print(jp.read_csv(arg[1]):column("k"):sum()) jp.read_csv(arg[1]):group_by("s"):agg{ n = jp.count() }:write_csv(arg[2])' $T/d.csv $T/out.csv; echo "exit $?"; ls $T
> 45000150000	exact
> exit 4
> d.csv
! group_by: out of memory holding its groups \(1 key, 1 aggregate\) and the batches it reads.* within JINPU_MAX_MEMORY=40M; raise the limit, or group by fewer or coarser keys
!! row [0-9]+: out of memory
