# Archives with the default CSV data: the bundled datasets go out and come
# back equal in every cell and schema field; the CSV inside is plain RFC 4180
# UTF-8 that other tools read.

$ $JINPU export -o $T/r.tar.gz datasets/cherry.yaml datasets/ip.yaml datasets/workforce.yaml datasets/economy.yaml && gzip -t $T/r.tar.gz && $JINPU verify $T/r.tar.gz
~ r.tar.gz: OK \(10 files, 4 datasets\)

$ $JINPU export -o $T/r.tar.gz datasets/cherry.yaml && tar -tzf $T/r.tar.gz
> r/
> r/data/
> r/data/cherry.csv
> r/data/cherry.schema.yaml
> r/manifest.yaml
> r/sha256sums.txt

# the CSV: header, base units, a side column for qualifiers
$ $JINPU export -o $T/r.tar.gz datasets/cherry.yaml && tar -xzOf $T/r.tar.gz r/data/cherry.csv | head -n 3
~ ^indicator,subject,period,value,unit,label,section,note,value_qualifier$
~ ^planted_area,,2022,148000.0,mu,
~ ^annual_output,,2022,140000.0,t,.*,more_than$

# round trips through .tar.gz and .zip give every dataset back equal
$ $JINPU -e 'local jp = require("jinpu"); local T = os.getenv("T"); local names = { "cherry", "ip", "workforce", "economy" }; local ds = {}; for i, n in ipairs(names) do ds[i] = jp.load("datasets/" .. n .. ".yaml") end; for _, ext in ipairs({ ".tar.gz", ".zip" }) do jp.export(T .. "/all" .. ext, ds); local a <close> = jp.open_archive(T .. "/all" .. ext); for i, n in ipairs(names) do local same, why = ds[i]:equals(a:load(n)); print(n .. ext, same and "equal" or why) end end'
> cherry.tar.gz	equal
> ip.tar.gz	equal
> workforce.tar.gz	equal
> economy.tar.gz	equal
> cherry.zip	equal
> ip.zip	equal
> workforce.zip	equal
> economy.zip	equal

# sha256sum -c and unzip -t on the CSV archive
$ $JINPU export -o $T/r.zip datasets/economy.yaml datasets/ip.yaml && unzip -tq $T/r.zip && mkdir $T/x && cd $T/x && unzip -q $T/r.zip && cd r && sha256sum -c sha256sums.txt
~ No errors detected
~ ^data/economy.csv: OK$
!! FAILED

# jp.load reads a dataset out of an archive through the registry
$ $JINPU export -o $T/r.zip datasets/cherry.yaml datasets/ip.yaml && $JINPU -e 'local jp = require("jinpu"); local d = jp.load(os.getenv("T") .. "/r.zip", { member = "ip" }); print(#d, d:equals(jp.load("datasets/ip.yaml")))'
~ ^[0-9]+	true$
$ $JINPU export -o $T/r.zip datasets/cherry.yaml datasets/ip.yaml && $JINPU -e 'local jp = require("jinpu"); jp.load(os.getenv("T") .. "/r.zip")'
? 3
! holds 2 datasets \(cherry, ip\): name the one to load

# the same inputs give the same bytes, whatever the threads and however often
$ mkdir $T/a $T/b && $JINPU export -o $T/a/r.tar.gz -j 1 datasets/economy.yaml datasets/ip.yaml && $JINPU export -o $T/b/r.tar.gz -j 2 datasets/economy.yaml datasets/ip.yaml && cmp $T/a/r.tar.gz $T/b/r.tar.gz && echo same
> same

# a CSV file streams into the archive (its data entry spooled in TMPDIR):
# the same bytes as the file loaded whole, and it verifies
$ mkdir $T/s $T/w && printf 'id,v,note\n1,2.5,"a, b"\n2,约3,\n3,,x\n' >$T/in.csv && $JINPU export -o $T/s/r.tar.gz $T/in.csv && $JINPU -e 'local jp = require("jinpu"); local T = os.getenv("T"); local d = jp.read_csv(T .. "/in.csv", { lazy = false }); jp.export(T .. "/w/r.tar.gz", { d:named("in") })' && cmp $T/s/r.tar.gz $T/w/r.tar.gz && $JINPU verify $T/s/r.tar.gz
~ r.tar.gz: OK

# a TMPDIR that cannot hold the spool is named; nothing is left at the target
$ printf 'a,b\n1,2\n' >$T/in.csv && TMPDIR=$T/nowhere $JINPU export -o $T/r.tar.gz $T/in.csv; echo "exit $?"; test -e $T/r.tar.gz || echo none
? 0
! cannot make a temporary file in .*/nowhere \(TMPDIR\)
> exit 3
> none
