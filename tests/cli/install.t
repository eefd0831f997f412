# The layout `make install` leaves (the binary outside the source tree):
# shipped plugins are found in PREFIX/share/jinpu/plugins and
# PREFIX/lib/jinpu/plugins, relative to PREFIX/bin/jinpu, and work there.
# (Installs the release build, ./jinpu, into $T.)

$ make -s -o jinpu install DESTDIR=$T PREFIX=/opt/jp >/dev/null && $T/opt/jp/bin/jinpu plugins
@ test -x jinpu
~ ^chart +[0-9.]+ +not loaded yet +.*/opt/jp/share/jinpu/plugins/chart \(shipped\)$
~ ^jinpu_stats +[0-9.]+ +not loaded yet +.*/opt/jp/share/jinpu/plugins/jinpu_stats \(shipped\)$

# the installed rule packs and schemas type and check a table of one's own
$ make -s -o jinpu install DESTDIR=$T PREFIX=/opt/jp >/dev/null && printf 'indicator,period,value,unit\nplanted_area,2022,14.8万,mu\nannual_output,2022,14万余,t\n' >$T/mine.csv && cd $T && $T/opt/jp/bin/jinpu -e 'local d = jp.read_csv("mine.csv", { schema = "cherry" }); print(d:name(), d:schema().fields[3].type, d:validate().ok)'
@ test -x jinpu
> cherry	number	true

# PREFIX/lib/jinpu/plugins is searched too, after share/
$ make -s -o jinpu install DESTDIR=$T PREFIX=/opt/jp >/dev/null && mkdir -p $T/opt/jp/lib/jinpu/plugins/libside && printf 'name: libside\nversion: 0.1.0\ndescription: x\njinpu: 1\nprovides:\n  verbs: [libside_v]\n' >$T/opt/jp/lib/jinpu/plugins/libside/plugin.yaml && : >$T/opt/jp/lib/jinpu/plugins/libside/init.lua && $T/opt/jp/bin/jinpu plugins
@ test -x jinpu
~ ^libside +0\.1\.0 +not loaded yet +.*/opt/jp/lib/jinpu/plugins/libside \(shipped\)$

# --no-plugins keeps them: they are part of the installed jinpu
$ make -s -o jinpu install DESTDIR=$T PREFIX=/opt/jp >/dev/null && $T/opt/jp/bin/jinpu --no-plugins plugins
@ test -x jinpu
~ ^jinpu_stats .*\(shipped\)$
