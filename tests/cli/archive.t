# jinpu export / jinpu verify: standard tools read the archive, checksums
# hold, tampering and hostile archives are caught, exports are
# reproducible and atomic.  Most cases store the data as YAML so they test
# the container; archive_csv.t covers the default CSV data.

# the layout, as tar lists it
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml datasets/ip.yaml && gzip -t $T/r.tar.gz && tar -tzf $T/r.tar.gz
> r/
> r/data/
> r/data/cherry.schema.yaml
> r/data/cherry.yaml
> r/data/ip.schema.yaml
> r/data/ip.yaml
> r/manifest.yaml
> r/sha256sums.txt

# fixed owner, modes and time
$ $JINPU export -o $T/r.tgz --format yaml datasets/cherry.yaml && tar -tvzf $T/r.tgz
~ ^drwxr-xr-x root/root +0 1980-01-01 00:00 r/$
~ ^-rw-r--r-- root/root +[0-9]+ 1980-01-01 00:00 r/manifest.yaml$

# SOURCE_DATE_EPOCH sets the time
$ SOURCE_DATE_EPOCH=1660000000 $JINPU export -o $T/r.tgz --format yaml datasets/cherry.yaml && TZ=UTC tar -tvzf $T/r.tgz
~ 2022-08-08 23:06 r/manifest.yaml$

# sha256sum -c accepts the checksum file of an extracted copy
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml datasets/ip.yaml datasets/workforce.yaml datasets/economy.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && cd $T/x/r && sha256sum -c sha256sums.txt
~ ^data/economy.yaml: OK$
~ ^manifest.yaml: OK$
!! FAILED

# unzip -t accepts the zip
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml datasets/economy.yaml && unzip -t $T/r.zip
~ No errors detected in compressed data
~ testing: r/data/economy.yaml +OK

# jinpu verify: intact
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml && $JINPU verify $T/r.zip
~ r.zip: OK \(4 files, 1 datasets\)$

# two exports are byte-identical, whatever the thread count
$ $JINPU export -o $T/a/r.tar.gz --format yaml -j 1 datasets/ip.yaml 2>/dev/null; mkdir -p $T/a $T/b && $JINPU export -o $T/a/r.tar.gz --format yaml -j 1 datasets/ip.yaml && $JINPU export -o $T/b/r.tar.gz --format yaml -j 2 datasets/ip.yaml && cmp $T/a/r.tar.gz $T/b/r.tar.gz && echo same
> same
$ mkdir -p $T/a $T/b && $JINPU export -o $T/a/r.zip --format yaml datasets/ip.yaml datasets/cherry.yaml && $JINPU export -o $T/b/r.zip --format yaml datasets/ip.yaml datasets/cherry.yaml && cmp $T/a/r.zip $T/b/r.zip && echo same
> same

# tamper with one byte of a file, repack with tar: verify names the file, exit 1
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml datasets/ip.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && sed -i '0,/cherry/s/cherry/Cherry/' $T/x/r/data/cherry.yaml && tar -czf $T/t.tar.gz -C $T/x r && $JINPU verify $T/t.tar.gz
? 1
~ t.tar.gz: data/cherry.yaml: SHA-256 mismatch: manifest.yaml says
~ t.tar.gz: data/cherry.yaml: SHA-256 mismatch: sha256sums.txt says
! FAILED \(2 problems\)

# the same through zip
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml && mkdir $T/x && cd $T/x && unzip -q $T/r.zip && sed -i '0,/cherry/s/cherry/Cherry/' r/data/cherry.yaml && zip -qr $T/t.zip r && $JINPU verify $T/t.zip
? 1
~ data/cherry.yaml: SHA-256 mismatch

# a file nobody listed, and a listed file taken away
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && echo hi > $T/x/r/extra.txt && rm $T/x/r/data/cherry.schema.yaml && tar -czf $T/t.tar.gz -C $T/x r && $JINPU verify $T/t.tar.gz
? 1
~ extra.txt: not listed in manifest.yaml
~ extra.txt: not listed in sha256sums.txt
~ data/cherry.schema.yaml: listed in manifest.yaml but missing
~ data/cherry.schema.yaml: listed in sha256sums.txt but missing

# a byte flipped inside the compressed stream of a zip entry: CRC-32, naming the entry
$ $JINPU export -o $T/r.zip --format yaml --level 1 datasets/economy.yaml && size=$(stat -c %s $T/r.zip) && printf '\377' | dd of=$T/r.zip bs=1 seek=2000 conv=notrunc 2>/dev/null && $JINPU verify $T/r.zip
? 1
~ r.zip: .*(data/economy.yaml|economy)

# truncated: exit 1, says so
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/economy.yaml && head -c 2000 $T/r.tar.gz > $T/cut.tar.gz && $JINPU verify $T/cut.tar.gz
? 1
~ cut.tar.gz: truncated
$ $JINPU export -o $T/r.zip --format yaml datasets/economy.yaml && head -c 3000 $T/r.zip > $T/cut.zip && $JINPU verify $T/cut.zip
? 1
~ cut.zip: .*(truncated|no end-of-central-directory)

# unreadable input: exit 3; usage errors: exit 2
$ $JINPU verify $T/none.tar.gz
? 3
! cannot open .*none.tar.gz
$ $JINPU verify datasets/cherry.yaml
? 3
! not an archive
$ $JINPU verify
? 2
! no archive given
$ $JINPU export datasets/cherry.yaml
? 2
! no output archive
$ $JINPU export -o $T/r.rar datasets/cherry.yaml
? 2
! must end in .tar.gz
$ $JINPU export -o $T/r.zip --level 11 datasets/cherry.yaml
? 2
! --level needs a whole number from 1 to 9
$ $JINPU export -o $T/r.zip $T/missing.yaml
? 3
! missing.yaml
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml datasets/cherry.yaml
? 3
! datasets 1 and 2 are both named 'cherry'

# hostile archives made with the standard tools: refused, naming the entry
$ mkdir $T/d && echo x > $T/d/a.csv && tar -czPf $T/abs.tar.gz $T/d/a.csv 2>/dev/null; $JINPU verify $T/abs.tar.gz
? 1
~ abs.tar.gz: entry '/.*a.csv': absolute path
$ mkdir $T/d && echo x > $T/d/a.csv && cd $T/d && tar -czPf $T/dots.tar.gz ../d/a.csv && $JINPU verify $T/dots.tar.gz
? 1
~ dots.tar.gz: entry '../d/a.csv': '..' in the path
$ mkdir $T/d && ln -s /etc/passwd $T/d/link && tar -czf $T/l.tar.gz -C $T d && $JINPU verify $T/l.tar.gz
? 1
~ entry 'd/link': symbolic link refused
$ mkdir $T/d && echo x > $T/d/a.csv && ln $T/d/a.csv $T/d/b.csv && tar -czf $T/h.tar.gz -C $T d && $JINPU verify $T/h.tar.gz
? 1
~ entry 'd/b.csv': hard link refused
$ mkdir $T/d && mkfifo $T/d/pipe && tar -czf $T/f.tar.gz -C $T d && $JINPU verify $T/f.tar.gz
? 1
~ entry 'd/pipe': FIFO refused
$ mkdir $T/d && echo x > $T/d/a.csv && tar -cf $T/dup.tar -C $T/d a.csv && echo y > $T/d/a.csv && tar -rf $T/dup.tar -C $T/d a.csv && $JINPU verify $T/dup.tar
? 1
~ entry 'a.csv' appears twice
$ mkdir $T/d && ln -s /etc/passwd $T/d/link && cd $T/d && zip -qy $T/l.zip link && $JINPU verify $T/l.zip
? 1
~ entry 'link': symbolic link refused
$ mkdir $T/d && head -c 50000000 /dev/zero > $T/d/z.csv && tar -czf $T/bomb.tar.gz -C $T/d z.csv && $JINPU verify --max-ratio 100 $T/bomb.tar.gz
? 1
~ bomb.tar.gz: compression ratio over 100 .*z.csv
$ mkdir $T/d && head -c 5000000 /dev/urandom > $T/d/z.bin && tar -czf $T/big.tar.gz -C $T/d z.bin && $JINPU verify --max-size 1M $T/big.tar.gz
? 1
~ big.tar.gz: more than 1048576 bytes uncompressed
# a foreign archive without a manifest opens, but does not verify
$ mkdir $T/d && echo x > $T/d/a.txt && tar -czf $T/plain.tar.gz -C $T d && $JINPU verify $T/plain.tar.gz
? 1
~ manifest.yaml: missing: not a jinpu archive

# an interrupted export (error midway) keeps the old archive and leaves no temporary file
# (the JINPU_TEST_* hooks exist only in the test build $JINPU_HOOKS)
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && cp $T/r.tar.gz $T/old && JINPU_TEST_EXPORT_FAIL_AFTER=3000 $JINPU_HOOKS export -o $T/r.tar.gz --format yaml datasets/ip.yaml datasets/economy.yaml; echo "exit $?"; cmp $T/r.tar.gz $T/old && ls -A $T
> exit 3
> old
> r.tar.gz
! stopped after 3000 bytes

# a killed export (SIGKILL midway, nothing cleaned up) keeps the old archive intact
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && cp $T/r.tar.gz $T/old && JINPU_TEST_EXPORT_KILL_AFTER=1048576 $JINPU_HOOKS -e 'local jp = require("jinpu"); local r = {}; for i = 1, 40000 do r[i] = { x = i, s = "row " .. i .. " of a big table" } end; jp.export(os.getenv("T") .. "/r.tar.gz", { jp.dataset{ name = "big", fields = { { name = "x", type = "integer" }, { name = "s", type = "string" } }, rows = r } }, { format = "yaml" })'; echo "exit $?"; cmp $T/r.tar.gz $T/old && $JINPU verify -q $T/r.tar.gz && echo intact
> exit 137
> intact

# the binary that ships has no test hooks: the variables do nothing, their names are not in it
$ JINPU_TEST_EXPORT_KILL_AFTER=1 JINPU_TEST_EXPORT_FAIL_AFTER=1 $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && $JINPU verify -q $T/r.tar.gz && echo exported
> exported
$ grep -c JINPU_TEST_ $JINPU
? 1
> 0
$ grep -c jinpu_test $JINPU
? 1
> 0

# info shows what an archive holds
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml datasets/ip.yaml && $JINPU info $T/r.zip
~ r.zip: zip archive written by jinpu
~ cherry: [0-9]+ rows, [0-9]+ fields, yaml
~ r.zip#ip: dataset 'ip'

# archives are inputs too: one dataset with ARCHIVE#NAME, or all of them
$ $JINPU export -o $T/r.zip --format yaml datasets/cherry.yaml datasets/ip.yaml && $JINPU export -o $T/s.tar.gz --format yaml --top out "$T/r.zip#ip" && tar -tzf $T/s.tar.gz && $JINPU export -o $T/u.zip --format yaml $T/r.zip && $JINPU verify -q $T/u.zip && echo ok
~ ^out/data/ip.yaml$
!! cherry
~ ^ok$

# loading holds the same line as verify: data edited together with its
# manifest entry still fails sha256sums.txt, so an export from it is refused
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && sed -i '0,/cherry/s/cherry/Cherry/' $T/x/r/data/cherry.yaml && old=$(grep -A2 'data/cherry.yaml' $T/x/r/manifest.yaml | sed -n 's/.*sha256: "\(.*\)"/\1/p') && new=$(sha256sum $T/x/r/data/cherry.yaml | cut -d' ' -f1) && sed -i "s/$old/$new/" $T/x/r/manifest.yaml && tar -czf $T/t.tar.gz -C $T/x r && $JINPU export -o $T/new.tar.gz "$T/t.tar.gz#cherry"; echo "exit $?"; ls $T
> exit 3
> r.tar.gz
> t.tar.gz
> x
! refusing to load 'cherry': the archive does not verify \(data/cherry.yaml: SHA-256 mismatch: sha256sums.txt says
# with both checksum files taken away there is nothing to check against: refused unless asked
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && sed -i '0,/cherry/s/cherry/Cherry/' $T/x/r/data/cherry.yaml && rm $T/x/r/manifest.yaml $T/x/r/sha256sums.txt && tar -czf $T/t.tar.gz -C $T/x r && $JINPU export -o $T/new.tar.gz "$T/t.tar.gz#cherry"
? 3
! refusing to load 'cherry': the archive has no manifest.yaml, so there is nothing to check it against .*unverified = true
$ mkdir -p $T/d && echo a,b > $T/d/plain.csv && echo 1,2 >> $T/d/plain.csv && tar -czf $T/p.tar.gz -C $T d && $JINPU -e 'local a = jp.open_archive(os.getenv("T") .. "/p.tar.gz", { unverified = true }); print(a:list()[1], #a:load("plain"))'
> plain	1
# a second manifest.yaml: which one is meant?
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && mkdir $T/x && tar -xzf $T/r.tar.gz -C $T/x && cp $T/x/r/manifest.yaml $T/x/ && tar -czf $T/t.tar.gz -C $T/x r manifest.yaml && $JINPU verify $T/t.tar.gz
? 1
~ manifest.yaml appears twice, as 'r/manifest.yaml' and 'manifest.yaml'

# replacing a file keeps its mode (an archive of 0600 stays 0600), and so does write_csv
$ $JINPU export -o $T/r.tar.gz --format yaml datasets/cherry.yaml && chmod 600 $T/r.tar.gz && $JINPU export -o $T/r.tar.gz --format yaml datasets/ip.yaml && stat -c %a $T/r.tar.gz && $JINPU -e 'jp.load("datasets/ip.yaml"):write_csv(os.getenv("T") .. "/x.csv")' && chmod 640 $T/x.csv && $JINPU -e 'jp.load("datasets/ip.yaml"):write_csv(os.getenv("T") .. "/x.csv")' && stat -c %a $T/x.csv
> 600
> 640
