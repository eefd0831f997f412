-- Top N per group: the largest rows of each group, in order.
--   jinpu run lua/examples/top_n.lua       (from the repository's top directory)
local jp = require("jinpu")

local orchards = jp.read_csv("lua/examples/data/orchards.csv")   -- invented figures

-- rank(-x) ranks the largest first within the group; filter keeps the rows
-- whose rank passes.  Ties share a rank (rank), or use row_number() for
-- exactly N rows.
local top2 = orchards:group_by("year", "crop")
                     :filter("rank(-output_t) <= 2")
                     :sort("year", "crop", "-output_t")
print(top2:select("year", "crop", "county_code", "output_t"):preview(12))

-- The top N of the whole dataset is a sort and a head: jinpu sees the pair
-- and keeps only N rows while it scans (no full sort).
print(orchards:sort("-output_t"):head(3):select("county_code", "year", "crop", "output_t"))
