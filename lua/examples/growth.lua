-- 同比 and 环比: growth over the same quarter a year before, and over the
-- quarter before, for each county.
--   jinpu run lua/examples/growth.lua      (from the repository's top directory)
local jp = require("jinpu")

-- Quarterly sales by county (lua/examples/data/: invented figures).
local sales = jp.read_csv("lua/examples/data/sales.csv")

-- Window functions work in the dataset's current order, within each group:
-- sort first, then group.  lag(x) is the row before in the group, lag(x, 4)
-- four rows before (the same quarter a year earlier, as every quarter is
-- there); the first rows of each county have no predecessor, so nil.
local growth = sales:sort("county_code", "year", "quarter")
                    :group_by("county_code")
                    :mutate{ qoq_pct = "round((sales_cny / lag(sales_cny) - 1) * 100, 1)",     -- 环比
                             yoy_pct = "round((sales_cny / lag(sales_cny, 4) - 1) * 100, 1)" }  -- 同比
print(growth:filter("year == 2022"))

-- The year's totals and their growth: aggregate, then the same window.
local yearly = sales:group_by("county_code", "year"):agg{ { "sales_cny", jp.sum("sales_cny") } }
                    :sort("county_code", "year")
                    :group_by("county_code")
                    :mutate{ yoy_pct = "round((sales_cny / lag(sales_cny) - 1) * 100, 1)" }
print(yearly)
