-- The domain packs and schemas as a plugin: packs found by name, a figure in
-- the wrong magnitude caught, a user's own table typed by a named schema and
-- checked by its domain's pack.  Self-contained: builds its tables here.
local T = require("jinpu.test")
local jp = require("jinpu")
local V = require("jinpu.validate")

local names = V.pack_names()
for _, n in ipairs({ "cherry", "economy", "ip", "workforce" }) do
  local found = false
  for _, m in ipairs(names) do found = found or m == n end
  T.ok(found, "pack " .. n .. " is listed")
end

local function cherry(area)
  return jp.dataset{
    name = "cherry",
    fields = { { name = "indicator", type = "string" }, { name = "subject", type = "string" },
               { name = "period", type = "period" }, { name = "value", type = "number", unit_field = "unit" },
               { name = "unit", type = "string" } },
    rows = {
      { indicator = "planted_area", period = "2022", value = area, unit = "mu" },
      { indicator = "annual_output", period = "2022", value = "14万余", unit = "t" },
      { indicator = "output_value", period = "2022", value = "40亿余", unit = "CNY" },
      { indicator = "jobs_created", period = "2022", value = "6万", unit = "person" },
      { indicator = "rural_income_per_capita", period = "2022", value = "3.78万以上", unit = "CNY/person" },
    },
  }
end

local good = cherry("14.8万"):validate()
T.ok(good.ok, "the article's cherry figures pass the cherry pack")
T.ok(good.counts.rules >= 5, "the pack's rules ran: " .. good.counts.rules)

-- 万 dropped: 14.8 mu of cherries cannot yield 140000 t
local bad = cherry("14.8"):validate()
T.ok(not bad.ok, "an area read without its 万 fails")
local rules = {}
for _, e in ipairs(bad.errors) do rules[e.rule] = true end
T.ok(rules["cherry.yield_per_mu"], "through the yield-per-mu rule")

T.ok(cherry("14.8"):validate(nil, { pack = false }).ok, "pack = false turns the pack off")

-- a user's own table, typed by the named schema, checked by the pack
local path = os.tmpname()
local f = assert(io.open(path, "w"))
f:write("indicator,period,value,unit\nplanted_area,2023,15万,mu\nannual_output,2023,>150000,t\n",
        "jobs_created,2023,1000000,person\n")
f:close()
local mine = jp.read_csv(path, { schema = "cherry" })
os.remove(path)
T.eq(mine:name(), "cherry", "the schema names the dataset after its domain")
T.eq(mine:schema().fields[2].type, "period", "periods are typed")
T.eq(mine:column("value")[1], 150000, "figures are read as printed")
T.eq(mine:qualifier(2, "value"), "more_than", "with their qualifiers")
local r = mine:validate()
local jobs = false
for _, e in ipairs(r.errors) do jobs = jobs or e.rule == "cherry.jobs_per_mu" end
T.ok(not r.ok and jobs, "the cherry pack checks the user's table (a million jobs on 15万 mu)")

local header = os.tmpname()
f = assert(io.open(header, "w"))
f:write("indicator,subject,period,value,unit,label,section,note\n")
f:close()
for _, n in ipairs({ "economy", "ip", "workforce" }) do
  local ds = jp.read_csv(header, { schema = n })
  T.ok(ds:name() == n and #ds:names() == 8 and #ds == 0, "schema " .. n .. " types all eight fields")
end
os.remove(header)

T.done()
