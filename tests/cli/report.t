# The bundled report (make demo): derived indicators, validation, export.

$ $JINPU run lua/jinpu/report.lua datasets $T/out
~ ^Sweet cherry industry
~ output value per tonne +about 28,571\.4 CNY/t
~ output value per mu +more than 27,027\.0 CNY/mu
~ patents per high-tech firm +3\.52 item/firm
~ check: funds paid lie between the two bounds \.\.\. yes
~ 4 of 4 datasets valid
~ verify: intact
~ round trip: 6 of 6 datasets load back equal
~ ^report: all checks passed

# the archive it leaves behind passes jinpu verify and standard tools
$ $JINPU run lua/jinpu/report.lua datasets $T/out >/dev/null && $JINPU verify $T/out/jinpu-report.tar.gz && gzip -t $T/out/jinpu-report.tar.gz && tar -tzf $T/out/jinpu-report.tar.gz
~ jinpu-report/data/derived\.csv
~ jinpu-report/manifest\.yaml

# the page: self-contained (no script, nothing fetched), a chart per dataset
# drawn by the chart plugin, Chinese labels, qualified figures marked, and the
# validation summary
$ $JINPU run lua/jinpu/report.lua datasets $T/out >/dev/null && grep -c '<svg xmlns' $T/out/report.html && ! grep -Eq '<script|<link|src=|url\((http|//)' $T/out/report.html
> 4

$ $JINPU run lua/jinpu/report.lua datasets $T/out >/dev/null && grep -o -e '>发明专利企业</text>' -e 'the bar is a lower bound' -e 'an approximate figure' -e '4 of 4 datasets valid' -e 'class="ok">valid' $T/out/report.html | sort -u
> 4 of 4 datasets valid
> >发明专利企业</text>
> an approximate figure
> class="ok">valid
> the bar is a lower bound

# the report is also reachable from the embedded library
$ R=$PWD; cd $T && $JINPU -e 'require("jinpu.report").run{ dir = "'$R'/datasets", export = false }'
~ 4 of 4 datasets valid

# a dataset directory without the files fails with the missing file named
$ $JINPU run lua/jinpu/report.lua $T/nowhere $T/out
? 3
! nowhere/cherry\.yaml
