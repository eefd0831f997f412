-- Fields whose unit is given per row (unit_field) through select, drop and
-- rename: the reference follows renames, and a projection that leaves the
-- unit field out keeps the unit when every row shares it.
local t = require("testlib")
local jp = require("jinpu")

local obs = jp.dataset{
  name = "obs",
  fields = { { name = "what", type = "string" },
             { name = "value", type = "number", unit_field = "unit" },
             { name = "unit", type = "string" } },
  rows = { { what = "area", value = "14.8万", unit = "mu" },
           { what = "area2", value = 20, unit = "亩" },
           { what = "output", value = ">140000", unit = "t" } },
}
t.case("a figure in a per-row unit field", function()
  t.eq(obs:row(1).value, 148000, "a figure in a per-row unit field")
  t.eq(obs:row(2).unit, "亩", "the unit cell keeps its text")
end)

local areas = obs:filter("what ~= 'output'"):select("what", "value")
t.case("one shared unit becomes the field unit", function()
  local f = areas:schema().fields[2]
  t.eq(f.unit, "mu", "one shared unit (mu and 亩) becomes the field's unit")
  t.eq(f.unit_field, nil, "and the reference is gone")
end)

t.case("mixed units", function()
  local mixed = obs:select("what", "value"):schema().fields[2]
  t.eq(mixed.unit_field, nil, "mixed units: no dangling reference")
  t.eq(mixed.unit, nil, "mixed units: no unit")
end)

t.case("rename and drop", function()
  local renamed = obs:rename{ unit = "u" }
  t.eq(renamed:schema().fields[2].unit_field, "u", "rename follows the unit field")
  t.eq(obs:drop("what"):schema().fields[1].unit_field, "unit", "drop keeps a kept unit field")
end)

-- what a projection produces can be written and read back
t.case("written and read back", function()
  local dir = os.getenv("TMPDIR") or "/tmp"
  local path = string.format("%s/unit_fields_%d.yaml", dir, os.time())
  areas:write_yaml(path)
  local back = jp.load(path)
  t.ok(back:equals(areas), "written and read back equal")
  t.eq(back:schema().fields[2].unit, "mu", "the unit survives the file")
  os.remove(path)
end)

-- the bundled observation tables: a figure table without its unit column
t.case("the bundled observation tables", function()
  local wf = jp.load("datasets/workforce.yaml")
  local subsidy = wf:filter("indicator == 'subsidy_per_graduate'"):select("subject", "value")
  t.eq(subsidy:schema().fields[2].unit, "CNY/person", "subsidy per graduate keeps CNY/person")
end)
-- mutate: a replaced field keeps its per-row unit when its values stay in it
t.case("mutate keeps the per-row unit of a replaced field", function()
  local r = obs:mutate{ value = "round(value, 1)" }
  t.eq(r:schema().fields[2].unit_field, "unit", "round(value, 1) keeps the link")
  local ha = r:filter("what ~= 'output'"):convert("value", "ha")
  t.eq(string.format("%.4f", ha:row(1).value), "9866.6667", "and convert works row by row")
  t.eq(ha:row(2).unit, "ha", "the unit column says the new unit")
  local m = obs:mutate{ v2 = "value * 2", share = "value / value", neg = "-abs(value)" }
  local s = m:schema()
  t.eq(s.fields[4].name, "neg")
  t.eq(s.fields[4].unit_field, "unit", "-abs(value) is in value's unit")
  t.eq(s.fields[5].unit_field, nil, "a ratio of value to itself has no unit")
  t.eq(s.fields[6].unit_field, "unit", "value * 2 is in value's unit")
  local f = obs:mutate{ value = function(row) return row.value * 2 end }
  t.eq(f:schema().fields[2].unit_field, "unit", "a function replacing a figure keeps its unit")
  local b = obs:mutate{ value = "value > 100" }
  t.eq(b:schema().fields[2].unit_field, nil, "a condition has no unit")
  t.eq(obs:mutate{ { "v2", "value + 1" }, { "v3", "v2 * 3" } }:schema().fields[5].unit_field,
       "unit", "sequential mutations carry the link")
end)

t.case("mutate keeps the per-row unit on a lazy CSV", function()
  local dir = os.getenv("TMPDIR") or "/tmp"
  local path = string.format("%s/unit_fields_%d.csv", dir, os.time())
  obs:write_csv(path)
  local lz = jp.read_csv(path, { lazy = true, schema = { value = { type = "number", unit_field = "unit" } } })
  local m = lz:mutate{ value = "round(value, 1)" }
  t.eq(m:schema().fields[2].unit_field, "unit", "the plan keeps the link")
  local ha = m:filter("what ~= 'output'"):convert("value", "ha")
  t.eq(string.format("%.1f", ha:row(2).value), "1.3", "20 亩 is 1.3 ha")
  os.remove(path)
end)
t.done()
