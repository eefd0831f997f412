# The cookbook in lua/examples/ runs as written, and says what it should.

# 同比 and 环比 by county
$ $JINPU run lua/examples/growth.lua
~ ^ +210212 +2022 +1 +266950000 +24\.8 +8\.2$
~ ^ +210213 +2022 +4 +369090000 +-49\.2 +10\.5$
~ ^ +210212 +2021 +1655470000 +nil$
~ ^ +210213 +2022 +2930010000 +10$

# shares of the total and of each county
$ $JINPU run lua/examples/share.lua
~ ^ +210281 +apple +130174 +33\.5$
~ ^ +210212 +cherry +69057 +86\.8$
~ ^cherry's share of Lushunkou's 2022 output: 86\.8%$

# top two of each year and crop; the top three overall
$ $JINPU run lua/examples/top_n.lua
~ ^ +2022 +cherry +210212 +69057$
~ ^ +2020 +apple +210214 +35203$
~ ^orchards: 12 rows x 4 fields$
~ ^ +210281 +2020 +apple +113720$

# a county-code join, with the code that has no county
$ $JINPU run lua/examples/county_join.lua
~ ^ +210213 +金州区 +cherry +76351$
~ ^ +210299 +nil +cherry +900$
~ ^codes not in the county list:	1	210299$
~ ^counties: 4 rows x 2 fields$

# a 万/亿 report table; the file keeps every digit
$ TMPDIR=$T $JINPU run lua/examples/report_table.lua && cat $T/orchard_totals.csv
~ ^瓦房店市 +11\.1万亩 +14\.2万吨$
~ ^合计 +31\.6万亩 +38\.9万吨$
~ ^148000	exact	mu$
~ ^约11\.4亿美元	14万余吨$
~ ^瓦房店市,111300(\.0)?,142218(\.0)?$

# validation with quarantine: five rows held back, each with its rules and line
$ TMPDIR=$T $JINPU run lua/examples/quarantine.lua && cat $T/intake_quarantine.csv
~ lua/examples/data/intake\.csv:4: row 3, field 'output_t': '2l580' is not a valid number
~ lua/examples/data/intake\.csv:9: row 8, field 'county_code': 210299 is not found in counties
~ ^ +7 +210213 +appel +crop\.enum$
~ ^4 rows pass, 5 quarantined$
~ ^210212,2022,apple,-8480,10538,5,6,area_mu\.minimum$
