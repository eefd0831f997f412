-- A report table in 万 and 亿, as a Chinese report prints figures; the
-- numbers themselves stay exact in what is written to files.
--   jinpu run lua/examples/report_table.lua (from the repository's top directory)
local jp = require("jinpu")

local orchards = jp.read_csv("lua/examples/data/orchards.csv", {   -- invented figures
  schema = { county_code = "integer", year = "integer", crop = "string",
             area_mu = { type = "number", unit = "mu" }, output_t = { type = "number", unit = "t" } },
})
local counties = jp.read_csv("lua/examples/data/counties.csv")

local totals = orchards:filter("year == 2022")
                       :join(counties, { county_code = "code" })
                       :group_by("county"):agg{ { "area_mu", jp.sum("area_mu") },
                                                { "output_t", jp.sum("output_t") } }
                       :sort("-output_t")

-- jp.format_figure writes a figure as the article would: 万 or 亿 chosen by
-- size (or asked for with `as`), the unit in Chinese, the qualifier in words.
local rows = {}
for r in totals:rows() do
  rows[#rows + 1] = { ["县区"] = r.county,
                      ["面积"] = jp.format_figure(r.area_mu, "mu", nil, { as = "万亩", digits = 3 }),
                      ["产量"] = jp.format_figure(r.output_t, "t", nil, { as = "万吨", digits = 3 }) }
end
local all, q = totals:column("output_t"):sum()
rows[#rows + 1] = { ["县区"] = "合计", ["面积"] = jp.format_figure(totals:column("area_mu"):sum(), "mu", nil, { digits = 3 }),
                    ["产量"] = jp.format_figure(all, "t", q, { digits = 3 }) }
print(jp.dataset{ name = "report", rows = rows,
                  fields = { { name = "县区", type = "string" }, { name = "面积", type = "string" },
                             { name = "产量", type = "string" } } })

-- The figure reads back: jp.figure of the text is the value, qualifier, unit.
print(jp.figure(jp.format_figure(148000, "mu")))
print(jp.format_figure(1.14e9, "USD", "approx"), jp.format_figure(140000, "t", "more_than"))

-- Files get every digit; only people get 万 and 亿.
local dir = os.getenv("TMPDIR") or "/tmp"
totals:write_csv(dir .. "/orchard_totals.csv")
