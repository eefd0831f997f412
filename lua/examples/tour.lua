-- A five-minute tour of jinpu on the bundled datasets.
--   jinpu run lua/examples/tour.lua        (from the repository's top directory)
local jp = require("jinpu")   -- also the preloaded globals `jinpu` and `jp`

-- 1. Load a dataset: typed columns, units, qualifiers, provenance.
local cherry = jp.load("datasets/cherry.yaml")
print(#cherry, table.concat(cherry:names(), ", "))
print(cherry:select("indicator", "period", "value", "unit"))

-- 2. Rows are tables keyed by field name (null is nil); a qualified value is
--    a plain number, and its qualifier is one call away.
for r in cherry:rows() do
  print(string.format("%-24s %14.0f %-10s %s", r.indicator, r.value, r.unit, jp.qualifier(r, "value")))
end

-- 3. Expressions (compiled once, evaluated in C over whole columns) and Lua
--    functions both work.
local eco = jp.load("datasets/economy.yaml")
print(eco:filter("unit == 'percent' and indicator ~= 'leading_industries_output_share'")
         :select("indicator", "period", "value"):sort("-value"):head(5))
local money = eco:filter(function(r) return r.unit == "CNY" and r.value >= 1e11 end)
                 :select("indicator", "period", "value")
for r in money:rows() do                                      -- 万/亿 for people
  print(r.indicator, jp.format_figure(r.value, "CNY", jp.qualifier(r, "value")))
end

-- 4. Group and aggregate. Sums are qualifier-aware (a sum with a "more than"
--    part is "more than") and add up only what does not overlap: the "433+1"
--    industry system is 4 + 3 + 3 + 1 industries, but ip.yaml's firm
--    categories overlap (a listed firm can also be high-tech), so their counts
--    are never summed: the largest is a lower bound of the firms counted.
print(eco:group_by("unit"):agg{ { "figures", jp.count() }, { "largest", jp.max("value") } }
         :sort("-figures"):head(4))
local parts, q = eco:filter("indicator == 'modern_industry_system_parts'"):column("value"):sum()
print("433+1 industry system:", parts, q)
local firms = jp.load("datasets/ip.yaml"):filter("indicator == 'firms'"):sort("-value")
print(firms:select("subject", "value"))
print("firms in some category: at least", firms:row(1).value, firms:row(1).subject)

-- 5. Reshape: the subsidy by degree, with its yearly payment.
local wf = jp.load("datasets/workforce.yaml")
print(wf:filter("indicator == 'subsidy_per_graduate'"):select("subject", "value")
        :rename{ subject = "degree", value = "total_cny" }:mutate{ per_year_cny = "total_cny / 5" })

-- 6. Units convert: a single value, or a whole column (ds:convert("value", "ha")).
print(jp.convert(148000, "mu", "ha"), "ha", jp.convert(148000, "mu", "万亩"), "万亩")

-- 7. Validate: schema constraints, the domain rule pack, rules of your own.
local report = eco:validate{ value = { minimum = 0 }, "value < 1e13" }
print("economy valid:", report.ok, #report.errors)   -- print(report) for people, report:json() for machines

-- 8. Build a dataset in Lua; figures may be written as printed.
local farms = jp.dataset{
  name = "farms",
  fields = { { name = "crop", type = "string" },
             { name = "area", type = "number", unit = "mu" },
             { name = "output", type = "number", unit = "t" } },
  rows = { { crop = "cherry", area = "14.8万", output = "14万余" },
           { crop = "apple", area = 1200, output = ">=500" } },
}
print(farms)

-- 9. Write, export to a self-checking archive, load it back exactly.
local dir = os.getenv("TMPDIR") or "/tmp"
farms:write_yaml(dir .. "/farms.yaml")
farms:write_csv(dir .. "/farms.csv", { qualifiers = true })
jp.export(dir .. "/tour.tar.gz", { cherry, farms })
local a = jp.open_archive(dir .. "/tour.tar.gz")
print(table.concat(a:list(), ", "), (a:verify()))
print("round trip equal:", a:load("farms"):equals(farms))

-- 10. For a spreadsheet or a database: the shipped xlsx and sqlite plugins.
farms:write(dir .. "/farms.xlsx", { units = "area=万亩" })  -- area (万亩) 14.8; >140000 shown as such
jp.export(dir .. "/tour.sqlite", { cherry, farms })           -- STRICT tables, _fields, _qualifiers
print("sqlite round trip:", jp.load(dir .. "/tour.sqlite", { member = "farms" }):equals(farms))

-- More: lua/examples/ (growth, shares, top N per group, a county-code join,
-- a 万/亿 report table, validation with quarantine).
