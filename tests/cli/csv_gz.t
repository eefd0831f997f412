# .csv.gz files are inflated as they are read (jp_gunzip: bounded memory),
# with the archive reader's rules: every gzip member is read, anything else
# after the last one is refused, and so is a decompression bomb.

# concatenated gzip members are one file
$ printf 'a,b\n1,2\n' | gzip > $T/t.csv.gz && printf '3,4\n' | gzip >> $T/t.csv.gz && $JINPU -e 'local d = jp.load(os.getenv("T") .. "/t.csv.gz"); print(#d, d:column("a")[2])'
> 2	3

# bytes after the last member are refused
$ printf 'a,b\n1,2\n' | gzip > $T/t.csv.gz && printf 'JUNK' >> $T/t.csv.gz && $JINPU info $T/t.csv.gz
? 3
! t.csv.gz: bytes after the end of the gzip data \(refused
$ printf 'a,b\n1,2\n' | gzip > $T/t.csv.gz && head -c 1024 /dev/zero >> $T/t.csv.gz && $JINPU -e 'jp.read_csv(os.getenv("T") .. "/t.csv.gz")'
? 3
! t.csv.gz: bytes after the end of the gzip data

# truncated
$ (echo a,b; seq 1 5000 | sed 's/$/,x/') | gzip > $T/t.csv.gz && head -c 2000 $T/t.csv.gz > $T/cut.csv.gz && $JINPU info $T/cut.csv.gz
? 3
! cut.csv.gz: truncated: the gzip data ends early

# a bomb (50 MB of "1,2" in 48 KB) is refused once it passes 1 MiB, not read whole
$ (echo a,b; yes 1,2 | head -c 50000000) | gzip -9 > $T/bomb.csv.gz && $JINPU info $T/bomb.csv.gz
? 3
! bomb.csv.gz: compression ratio over 1000 \(refused: a decompression bomb\?\)

# the same rules inside an archive: a .csv.gz member with junk does not load
$ mkdir $T/d && printf 'a,b\n1,2\n' | gzip > $T/d/x.csv.gz && printf 'JUNK' >> $T/d/x.csv.gz && tar -cf $T/p.tar -C $T d && $JINPU -e 'jp.open_archive(os.getenv("T") .. "/p.tar", { unverified = true }):load("x")'
? 3
! p.tar#x.csv.gz: bytes after the end of the gzip data
