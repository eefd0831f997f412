-- Shares: of the total, and of a group's total.
--   jinpu run lua/examples/share.lua       (from the repository's top directory)
local jp = require("jinpu")

local orchards = jp.read_csv("lua/examples/data/orchards.csv")   -- invented figures
local y2022 = orchards:filter("year == 2022 and county_code ~= 210299")

-- An aggregate inside mutate is over the whole dataset: a share of the total.
print(y2022:mutate{ share_pct = "round(output_t / sum(output_t) * 100, 1)" }
           :select("county_code", "crop", "output_t", "share_pct"))

-- Inside group_by(...):mutate it is over the row's group: each crop's share
-- of its county's output, broadcast to every row of the county.
print(y2022:group_by("county_code")
           :mutate{ share_of_county_pct = "round(output_t / sum(output_t) * 100, 1)" }
           :select("county_code", "crop", "output_t", "share_of_county_pct"))

-- The same share with a join, as SQL would write it: totals per county,
-- joined back onto the rows.
local totals = y2022:group_by("county_code"):agg{ county_t = jp.sum("output_t") }
local joined = y2022:join(totals, "county_code"):mutate{ share = "output_t / county_t" }
print(string.format("cherry's share of Lushunkou's 2022 output: %.1f%%",
  joined:find{ county_code = 210212, crop = "cherry" }.share * 100))
