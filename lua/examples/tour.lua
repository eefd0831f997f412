-- A five-minute tour of jinpu on the bundled datasets.
--   jinpu run lua/examples/tour.lua        (from the repository's top directory)
local jp = require("jinpu")

-- 1. Load a dataset: typed columns, units, qualifiers, provenance.
local cherry = jp.load("datasets/cherry.yaml")
print(#cherry, table.concat(cherry:names(), ", "))
print(cherry:select("indicator", "period", "value", "unit"))

-- 2. Rows are tables keyed by field name; a qualified value is a plain number,
--    its qualifier is one call away.
for r in cherry:rows() do
  print(string.format("%-24s %14.0f %-10s %s", r.indicator, r.value, r.unit, jp.qualifier(r, "value")))
end

-- 3. Expressions (compiled once, evaluated in C) and Lua functions both work.
local eco = jp.load("datasets/economy.yaml")
local growth = eco:filter("unit == 'percent' and indicator ~= 'leading_industries_output_share'")
                  :select("indicator", "period", "value")
                  :sort("-value")
print(growth:head(5))
local money = eco:filter(function(r) return r.unit == "CNY" and r.value >= 1e11 end)
                 :mutate{ yi_cny = "value / 1e8" }           -- 亿元, for people
print(money:select("indicator", "period", "yi_cny"))

-- 4. Group and aggregate (qualifier-aware: a sum with a "more than" part is "more than").
local ip = jp.load("datasets/ip.yaml")
local firms = ip:filter("indicator == 'firms'")
local total, q = firms:column("value"):sum()
print("firms in all categories:", total, q)
print(eco:group_by("unit"):agg{ { "figures", jp.count() }, { "largest", jp.max("value") } }
         :sort("-figures"):head(4))

-- 5. Reshape and join: the subsidy table by degree, wide, next to its payout years.
local wf = jp.load("datasets/workforce.yaml")
local subsidy = wf:filter("indicator == 'subsidy_per_graduate'")
                  :select("subject", "value")
                  :rename{ subject = "degree", value = "total_cny" }
                  :mutate{ per_year_cny = "total_cny / 5" }
print(subsidy)

-- 6. Units convert: mu to hectares, in a column or a single value.
local area = cherry:filter("indicator == 'planted_area'")
print(jp.convert(area:row(1).value, "mu", "ha"), "ha")

-- 7. Validate: schema constraints, the domain rule pack, and rules of your own.
local report = eco:validate{ value = { minimum = 0 }, "value < 1e13" }
print("economy valid:", report.ok, #report.errors)

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

-- 9. Write, export to a self-checking archive, and load it back exactly.
local dir = os.getenv("TMPDIR") or "/tmp"
farms:write_yaml(dir .. "/farms.yaml")
farms:write_csv(dir .. "/farms.csv")
jp.export(dir .. "/tour.tar.gz", { cherry, farms })
local a = jp.open_archive(dir .. "/tour.tar.gz")
print(table.concat(a:list(), ", "), (a:verify()))
print("round trip equal:", a:load("farms"):equals(farms))

-- 10. For a spreadsheet or a database: the shipped xlsx and sqlite plugins.
farms:write(dir .. "/farms.xlsx", { units = "area=万亩" })  -- area (万亩) 14.8; >140000 shown as such
jp.export(dir .. "/tour.sqlite", { cherry, farms })           -- STRICT tables, _fields, _qualifiers
print("sqlite round trip:", jp.load(dir .. "/tour.sqlite", { member = "farms" }):equals(farms))
