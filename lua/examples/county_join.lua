-- Joining on county codes (行政区划代码): names for codes, and the codes
-- that have no name.
--   jinpu run lua/examples/county_join.lua (from the repository's top directory)
local jp = require("jinpu")

local orchards = jp.read_csv("lua/examples/data/orchards.csv")   -- invented figures
local counties = jp.read_csv("lua/examples/data/counties.csv")   -- code, county, county_en

-- Keys named differently on each side: { left = "right" }.  A left join keeps
-- every orchard row; a code not in the list gets nil names.
local named = orchards:filter("year == 2022")
                      :join(counties, { county_code = "code" }, "left")
                      :select("county_code", "county", "crop", "output_t")
print(named)

-- An anti join lists what has no match: check this before trusting a join.
local unknown = orchards:join(counties, { county_code = "code" }, "anti")
print("codes not in the county list:", #unknown, unknown:row(1).county_code)

-- A semi join keeps the counties that have orchard rows, without their columns.
print(counties:join(orchards, { code = "county_code" }, "semi"):select("code", "county"))
