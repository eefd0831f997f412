-- The dataset bindings: building datasets in Lua, rows, schema, columns,
-- qualifiers, previews, errors.
local t = require("testlib")
local jp = require("jinpu")

t.case("the module", function()
  t.ok(jinpu == jp and _G.jp == jp, "the module is preloaded as `jinpu` and `jp`")
  t.ok(type(jp.version) == "string", "jp.version")
end)

local ds = jp.dataset{
  name = "farms", title = "Farms", source = "test", period = "2022", notes = { "a note" },
  fields = {
    { name = "crop", type = "string", description = "what grows" },
    { name = "area", type = "number", unit = "亩", constraints = { required = true, minimum = 0 } },
    { name = "output", type = "number", unit = "t" },
    { name = "firms", type = "integer" },
    { name = "since", type = "date" },
    { name = "period", type = "period" },
    { name = "organic", type = "boolean" },
  },
  rows = {
    { crop = "cherry", area = "14.8万", output = "14万余", firms = 3, since = "2020-05-01", period = 2021, organic = true },
    { crop = "apple", area = 1200, output = ">=500", firms = nil, since = nil, period = "2022-01..2022-08", organic = false },
    { crop = "梨", area = 10.5, output = "约20", firms = 0, period = "..2021" },
  },
}
t.case("names and schema", function()
  t.eq(#ds, 3, "#ds")
  t.eq(ds:names(), { "crop", "area", "output", "firms", "since", "period", "organic" }, "names in field order")
  local s = ds:schema()
  t.eq(s.name, "farms", "schema name")
  t.eq(s.notes, { "a note" }, "notes")
  t.eq(s.fields[2].unit, "mu", "unit stored canonical (亩 -> mu)")
  t.eq(s.fields[2].constraints, { required = true, minimum = 0 }, "constraints in the schema")
  t.eq(s.fields[1].description, "what grows", "description")
  t.eq(s.fields[4].type, "integer", "declared type")
end)

t.case("rows", function()
  local r1 = ds:row(1)
  t.eq(r1.area, 148000, "14.8万 read as 148000")
  t.eq(r1.output, 140000, "14万余 read as 140000")
  t.eq(jp.qualifier(r1, "output"), "more_than", "余 is more_than")
  t.eq(jp.qualifier(r1, "area"), "exact", "exact by default")
  t.eq(r1.since, "2020-05-01", "dates come back as ISO text")
  t.eq(r1.period, "2021", "periods come back as canonical text")
  t.eq(r1.organic, true, "booleans")
  t.eq(math.type(r1.firms), "integer", "integers stay integers")
  local r2 = ds:row(2)
  t.eq(r2.firms, nil, "null is nil")
  t.eq(jp.qualifier(r2, "output"), "at_least", ">= is at_least")
  t.eq(ds:row(-1).crop, "梨", "negative index counts from the end")
  t.eq(ds:qualifier(3, "output"), "approx", "ds:qualifier(i, field)")
  t.eq(r1.output + 1, 140001, "qualified values are plain numbers in arithmetic")
end)

t.case("rows()", function()
  local seen = 0
  for r, i in ds:rows() do
    seen = seen + 1
    t.eq(i, seen, "rows() yields the index too")
  end
  t.eq(seen, 3, "rows() visits every row")
end)

t.case("columns", function()
  local area = ds:column("area")
  t.eq(#area, 3, "#col")
  t.eq(area[1], 148000, "col[i]")
  t.eq(area[4], nil, "col[i] past the end is nil")
  t.eq(area.name, "area", "col.name")
  t.eq(area:unit(), "mu", "col:unit()")
  t.eq(ds:column("output"):qualifier(1), "more_than", "col:qualifier(i)")
  t.eq(ds:column("firms"):nulls(), 1, "col:nulls()")
  t.eq(ds:column("output"):qualified(), 3, "col:qualified()")
  t.eq(ds:column("crop"):totable(), { "cherry", "apple", "梨" }, "col:totable()")
end)

t.case("head", function()
  local h = ds:head(2)
  t.eq(#h, 2, "head(2)")
  t.eq(#ds, 3, "head leaves the input alone")
  t.eq(#ds:head(0), 0, "head(0)")
  t.eq(#ds:head(99), 3, "head past the end")
end)

t.case("preview", function()
  local text = tostring(ds)
  t.ok(text:find("farms: 3 rows x 7 fields", 1, true), "preview title")
  t.ok(text:find(">140000", 1, true), "preview shows qualifiers")
  t.ok(text:find("mu", 1, true), "preview shows units")
  t.ok(text:find("2022-01..2022-08", 1, true), "preview shows periods")
end)

-- building from columns, and type inference
t.case("building from columns", function()
  local c = jp.dataset{ columns = { b = { 1, 2.5, 3 }, a = { "x", "y", "z" }, n = { 1, 2, 3 } } }
  t.eq(c:names(), { "a", "b", "n" }, "columns without fields are sorted by name")
  t.eq(c:schema().fields[2].type, "number", "ints and floats widen to number")
  t.eq(c:schema().fields[3].type, "integer", "ints stay integer")
end)

-- fields as a map of name = type (sorted by name)
t.case("fields as a map", function()
  local mf = jp.dataset{ fields = { y = "integer", x = { type = "number", unit = "t" } },
                         rows = { { x = 1.5, y = 2 } } }
  t.eq(mf:names(), { "x", "y" }, "map-form fields are sorted by name")
  t.eq(mf:schema().fields[1].unit, "t", "map-form field tables keep their options")
  t.eq(mf:row(1).y, 2, "map-form rows")
end)

-- equality
t.case("equality", function()
  t.ok(ds:equals(ds:head(3)), "equals: same content")
  local same, why = ds:equals(ds:head(2))
  t.ok(not same and why:find("rows"), "equals says why not")
end)

-- figures and units
t.case("figures and units", function()
  local v, q, u = jp.figure("约11.4亿美元")
  t.eq(v, 1140000000, "jp.figure value")
  t.eq(q, "approx", "jp.figure qualifier")
  t.eq(u, "USD", "jp.figure unit")
  t.near(jp.convert(148000, "mu", "ha"), 148000 / 15, 1e-12, "jp.convert mu -> ha")
  -- powers of ten are exact: the figure reads as printed
  t.eq(jp.convert(148000, "mu", "万亩"), 14.8, "148000 mu is 14.8 万亩")
  t.eq({ jp.figure("万亿级") }, { 1e12, "at_least" }, "万亿级: an order of magnitude, not a level")
  t.eq({ jp.figure("千亿元级") }, { 1e11, "at_least", "CNY" }, "千亿元级")
  t.eq({ jp.figure("2级") }, { 2, "exact", "level" }, "2级 is a grade")
  t.eq(jp.convert(257630000000, "CNY", "亿元"), 2576.3, "2576.3 亿元")
  t.eq(jp.convert(37800, "元/人", "万元/人"), 3.78, "compound units")
  t.eq(jp.convert(3.78, "万元/人", "元/人"), 37800, "and back")
  t.eq(jp.unit("万元"), "10k CNY", "jp.unit canonical")
  t.eq(jp.unit("furlong"), nil, "unknown unit")
end)

-- errors name the row and field
t.case("errors name the row and field", function()
  t.raises(function() jp.dataset{ fields = { { name = "x", type = "integer" } }, rows = { { x = 1 }, { x = "abc" } } } end,
    "row 2, field 'x'", "bad cell names row and field")
  t.raises(function() jp.dataset{ fields = { { name = "x", type = "integer" } }, rows = { { x = 1.5 } } } end,
    "whole number", "1.5 is not an integer")
  t.raises(function() jp.dataset{ fields = { { name = "x", type = "number", unit = "furlong" } } } end,
    "unknown unit 'furlong'", "unknown unit")
  t.raises(function() jp.dataset{ fields = { { name = "x", type = "number", unit = "mu" } }, rows = { { x = "3吨" } } } end,
    "cannot convert", "a figure in another unit")
  t.raises(function() jp.dataset{ fields = { "x" }, rows = { { y = 1 } } } end,
    "unknown field 'y'", "typo in a row key")
  t.raises(function() jp.dataset{ fields = { { name = "x", type = "decimal" } } } end,
    "unknown type 'decimal'", "unknown type")
  t.raises(function() jp.dataset{ feilds = {} } end, "unknown option 'feilds'", "misspelt option")
  t.raises(function() ds:column("areas") end, "no field 'areas'", "unknown column")
  t.raises(function() ds:row(4) end, "out of range", "row out of range")
  t.raises(function() jp.load("no/such/file.yaml") end, "no/such/file.yaml", "missing file named")
  t.raises(function() jp.read_csv("x.csv", { delimter = ";" }) end, "unknown option 'delimter'", "misspelt read option")
end)

-- find helpers from the Lua half
t.case("find helpers", function()
  local r, i = ds:find{ crop = "apple" }
  t.eq(i, 2, "ds:find index")
  t.eq(r.area, 1200, "ds:find row")
  t.eq(ds:find{ crop = "plum" }, nil, "ds:find none")
  t.eq(#ds:find_all{ organic = false }, 1, "ds:find_all")
end)

t.case("keys: jp.dataset's primary_key, and a CSV read with a schema takes its keys", function()
  local d = jp.dataset{ name = "k", fields = { { name = "id", type = "integer" }, { name = "v", type = "string" } },
    rows = { { id = 1, v = "a" }, { id = 2, v = "b" } }, primary_key = "id" }
  t.eq(d:schema().primary_key, { "id" }, "the primary key is kept")
  t.raises(function()
    jp.dataset{ fields = { { name = "id", type = "integer" } }, rows = { { id = 1 } }, primary_key = { "id", "nope" } }
  end, "primary key field 'nope' is not a field")
  local f = os.tmpname()
  d:write_csv(f)
  local c = jp.read_csv(f, { schema = d })
  os.remove(f)
  t.eq(c:schema().primary_key, { "id" }, "a CSV read with the schema takes its key")
  t.eq(#c, 2, "rows")
  t.eq(#jp.dataset{ rows = { {}, {} } }, 2, "rows without fields still count")
end)

t.done()
