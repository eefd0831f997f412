# A full sort of a lazy CSV file in runs written to $TMPDIR and merged: the
# same bytes as the sort in memory, and no temporary file left behind on any
# exit path.  The JINPU_TEST_SORT_* hooks (test build $JINPU_HOOKS) make the
# runs small, pause after the first run, or fill the temporary directory.

# the file: 9 MB (lazy from 8 MB), keys with ties and nulls
$ $JINPU -e 'local f = assert(io.open(arg[1], "w")) f:write("k,v,s\n") for i = 1, 200000 do f:write(string.format("%s,%d,text of row %d padded a little......\n", i % 13 == 0 and "" or tostring(i * 7919 % 97), i % 1000, i)) end f:close()' $T/in.csv && $JINPU -e 'jp.read_csv(arg[1], { lazy = false }):sort("k", "-v"):write_csv(arg[2])' $T/in.csv $T/want.csv && mkdir $T/tmp && TMPDIR=$T/tmp JINPU_TEST_SORT_RUN_BYTES=1000000 $JINPU_HOOKS -e 'jp.read_csv(arg[1]):sort("k", "-v"):write_csv(arg[2])' $T/in.csv $T/got.csv && cmp $T/want.csv $T/got.csv && echo same && ls -A $T/tmp
> same

# the memory option: a budget too small for the rows says so; nothing is written
$ $JINPU -e 'local f = assert(io.open(arg[1], "w")) f:write("k,v\n") for i = 1, 700000 do f:write(i * 7919 % 1000003, ",", i, "\n") end f:close()' $T/in.csv && mkdir $T/tmp && TMPDIR=$T/tmp $JINPU -e 'jp.read_csv(arg[1]):sort("k", { memory = "2M" }):write_csv(arg[2])' $T/in.csv $T/out.csv; echo "exit $?"; ls -A $T/tmp; ls $T
? 0
> exit 3
> in.csv
> tmp
! sort: the rows do not fit the memory budget of 2 MB, which is too small to sort in runs

# a full temporary directory: an error naming it, no file left
$ $JINPU -e 'local f = assert(io.open(arg[1], "w")) f:write("k,v\n") for i = 1, 700000 do f:write(i * 7919 % 1000003, ",", i, "\n") end f:close()' $T/in.csv && mkdir $T/tmp && TMPDIR=$T/tmp JINPU_TEST_SORT_RUN_BYTES=1000000 JINPU_TEST_SORT_ENOSPC=1 $JINPU_HOOKS -e 'jp.read_csv(arg[1]):sort("k"):write_csv(arg[2])' $T/in.csv $T/out.csv; echo "exit $?"; ls -A $T/tmp; ls $T
> exit 3
> in.csv
> tmp
! sort: the temporary directory '.*/tmp' is full

# SIGTERM with a run on disk: exit 143, the run removed, no output
$ $JINPU -e 'local f = assert(io.open(arg[1], "w")) f:write("k,v\n") for i = 1, 700000 do f:write(i * 7919 % 1000003, ",", i, "\n") end f:close()' $T/in.csv && mkdir $T/tmp && { TMPDIR=$T/tmp JINPU_TEST_SORT_RUN_BYTES=1000000 JINPU_TEST_SORT_PAUSE=1 $JINPU_HOOKS -e 'jp.read_csv(arg[1]):sort("k"):write_csv(arg[2])' $T/in.csv $T/out.csv & pid=$!; i=0; while [ $i -lt 3000 ] && ! ls -A $T/tmp | grep -q jinpu-sort; do sleep 0.01; i=$((i + 1)); done; ls -A $T/tmp | grep -c jinpu-sort; kill -TERM $pid; wait $pid; echo "exit $?"; ls -A $T/tmp; ls $T; }
> 1
> exit 143
> in.csv
> tmp
! terminated \(SIGTERM\)
