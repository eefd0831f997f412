-- The verbs from Lua: expressions and functions, the row view, aggregates
-- and their column order, joins, reshaping, units, column vector operations,
-- errors naming verb, field and token; inputs never change.
local t = require("testlib")
local jp = require("jinpu")

local function mk(fields, rows)
  local fs = {}
  for i, f in ipairs(fields) do
    local name, ty, unit = f:match("^([^:]+):([^:]+):?(.*)$")
    fs[i] = { name = name, type = ty, unit = unit ~= "" and unit or nil }
  end
  return jp.dataset{ fields = fs, rows = rows }
end

-- "a,b;1,x;2," with qualifier symbols (~ > >= < <=) before figures
local sym = { exact = "", approx = "~", at_least = ">=", more_than = ">", at_most = "<=", less_than = "<" }
local function dump(ds)
  local names = ds:names()
  local out = { table.concat(names, ",") }
  local cols = {}
  for i, n in ipairs(names) do cols[i] = ds:column(n) end
  for r = 1, #ds do
    local cells = {}
    for i, n in ipairs(names) do
      local v = cols[i][r]
      if v == nil then cells[i] = ""
      else
        if math.type(v) == "float" then v = string.format("%.14g", v) end
        cells[i] = sym[ds:qualifier(r, n)] .. tostring(v)
      end
    end
    out[#out + 1] = table.concat(cells, ",")
  end
  return table.concat(out, ";")
end

local farms = mk({ "district:string", "year:integer", "crop:string", "area:number:mu", "output:number:t" }, {
  { "Lushun", 2021, "cherry", 100, 50 },
  { "Lushun", 2022, "cherry", 120, ">60" },
  { "Jinzhou", 2021, "apple", 80, 40 },
  { "Jinzhou", 2021, "cherry", 50, nil },
  { "Lushun", 2021, "pear", 30, "~15" },
})
local before = dump(farms)

-- filter --------------------------------------------------------------------
t.case("filter", function()
  t.eq(dump(farms:filter("crop == 'cherry' and output > 55")), "district,year,crop,area,output;Lushun,2022,cherry,120,>60")
  t.eq(#farms:filter("output == nil"), 1, "nil test")
  t.eq(#farms:filter("not (output > 45)"), 3, "comparisons with nil are false; not of false is true")
  t.eq(#farms:filter(function(r) return r.crop == "cherry" end), 3, "function predicate")
  t.eq(#farms:filter(function(r) return r.output and r.output > 45 end), 2, "nil in the row view")
  t.eq(#farms:filter("year == 1999"), 0, "nothing matches")
  t.raises(function() farms:filter("ouput > 3") end,
    "filter: unknown field 'ouput' at column 1 in \"ouput > 3\" %(did you mean 'output'%?%)", "unknown field")
  t.raises(function() farms:filter("crop > 3") end, "filter: cannot compare string 'crop' with integer 3 at column 6",
    "type error with the token's column")
  t.raises(function() farms:filter("area +") end, "unexpected end of expression at column 7")
  t.raises(function() farms:filter(function(r) return r.nope > 1 end) end, "filter: row 1: .*no field 'nope'",
    "the row view refuses unknown fields")
  t.raises(function() farms:filter(function(r) error("boom") end) end, "filter: row 1: .*boom", "errors name the row")
end)

-- mutate --------------------------------------------------------------------
t.case("mutate", function()
  local m = farms:mutate{ yield = "output / area", area = "area / 15" }
  t.eq(m:names(), { "district", "year", "crop", "area", "output", "yield" }, "replaced in place, new appended")
  t.near(m:column("yield")[1], 0.5, 1e-12)
  t.eq(m:qualifier(2, "yield"), "more_than", "more_than / exact stays more_than")
  t.eq(m:schema().fields[6].unit, "t/mu", "derived unit")
  t.near(m:column("yield")[1], 50 / 100, 1e-12, "expressions see the input's area, not the new one")
  local seq = farms:mutate{ { "a2", "area * 2" }, { "a4", "a2 * 2" } }
  t.eq(seq:column("a4")[1], 400.0, "array form is sequential")
  t.raises(function() farms:mutate{ a2 = "area * 2", a4 = "a2 * 2" } end, "mutate: unknown field 'a2'",
    "map form sees the input only")
  local f = farms:mutate{ big = function(r) return r.area > 90 end, label = function(r) return r.crop .. "@" .. r.district end,
    n = function(r) return r.year - 2000 end, half = function(r) if r.output then return r.output / 2 end end }
  t.eq(f:column("big"):totable(), { true, true, false, false, false }, "boolean results")
  t.eq(f:column("label")[3], "apple@Jinzhou", "string results")
  t.eq(f:column("n").type, "integer", "integer results stay integers")
  t.eq(f:column("half").type, "number")
  t.eq(f:column("half")[4], nil, "nil results are null")
  local mixed = farms:mutate{ v = function(r) if r.year == 2021 then return 1 else return 2.5 end end }
  t.eq(mixed:column("v").type, "number", "integers then a float widen to number")
  t.raises(function() farms:mutate{ v = function(r) if r.year == 2021 then return 1 else return "x" end end } end,
    "mutate: 'v', row 2: returned a string after integer values")
  t.raises(function() farms:mutate{ v = function(r) return {} end } end, "returned a table")
  local col = farms:column("year")
  t.eq(farms:mutate{ y2 = col }:column("y2")[5], 2021, "a ready column")
  t.raises(function() farms:mutate{ z = 42 } end, "mutate: 'z' must be an expression")
end)

-- the row view ----------------------------------------------------------------
t.case("the row view", function()
  local kept
  farms:filter(function(r) kept = jp.copy_row(r); return true end)
  t.eq(kept, { district = "Lushun", year = 2021, crop = "pear", area = 30.0, output = 15.0 }, "jp.copy_row copies the row")
  local seen = {}
  farms:filter(function(r) if r.year == 2022 then for k, v in pairs(r) do seen[k] = v end end return false end)
  t.eq(seen.crop, "cherry", "pairs() walks every field")
  t.eq(seen.output, 60.0)
end)

t.case("a row view kept past its callback raises", function()
  local kept, read
  farms:filter(function(r) if r.year == 2021 then kept = r end return true end)
  -- the fields read in the loop are not left over from the last row
  t.raises(function() return kept.year end, "only valid inside the filter function", "a field read in the loop")
  t.raises(function() return kept.crop end, "only valid inside the filter function", "a field never read")
  t.raises(function() for _ in pairs(kept) do end end, "only valid inside", "pairs")
  t.raises(function() return jp.copy_row(kept) end, "only valid inside", "jp.copy_row")
  farms:mutate{ x = function(r) read = r; return r.area end }
  t.raises(function() return read.area end, "only valid inside the mutate function", "mutate")
  -- a loop that fails closes its view too
  pcall(farms.filter, farms, function(r) kept = r; error("stop") end)
  t.raises(function() return kept.area end, "only valid inside", "after an error")
end)

-- select, drop, rename, sort --------------------------------------------------------
t.case("select drop rename sort", function()
  t.eq(farms:select("crop", "year"):names(), { "crop", "year" })
  t.eq(farms:select{ "crop" }:names(), { "crop" }, "a list works too")
  t.eq(farms:drop("area", "output"):names(), { "district", "year", "crop" })
  t.eq(farms:rename{ area = "mu", crop = "kind" }:names(), { "district", "year", "kind", "mu", "output" })
  t.raises(function() farms:select("nope") end, "select: no field 'nope'")
  t.eq(dump(farms:sort("-output"):select("output")), "output;>60;50;40;~15;", "descending, nulls last")
  t.eq(dump(farms:sort("district", "-year", "crop"):select("district", "year", "crop")),
    "district,year,crop;Jinzhou,2021,apple;Jinzhou,2021,cherry;Lushun,2022,cherry;Lushun,2021,cherry;Lushun,2021,pear")
  t.raises(function() farms:sort("-nope") end, "sort: no field 'nope'")
end)

t.case("top-N: a head of a sort", function()
  -- 3000 rows with many ties: the head of the sort is the prefix of the full order
  local rows = {}
  for i = 1, 3000 do rows[i] = { g = ({ "a", "b", "c" })[i % 3 + 1], v = (i * 7919) % 101, i = i } end
  local d = jp.dataset{ fields = { g = "string", v = "integer", i = "integer" }, rows = rows }
  local full = d:sort("g", "-v")
  local ids = full:column("i"):totable()
  for _, n in ipairs({ 1, 10, 999, 3000, 5000 }) do
    local top = d:sort("g", "-v"):head(n):column("i"):totable()
    local want = {}
    for k = 1, math.min(n, #ids) do want[k] = ids[k] end
    t.eq(top, want, "head(" .. n .. ") is the prefix of the full order")
  end
  local s = d:sort("-v", "i")
  t.eq(#s, 3000, "a sort knows its rows before it sorts")
  t.eq(s:head(3):column("v"):totable(), { 100, 100, 100 }, "a head taken later from a kept sort")
  t.eq(s:slice(2, 3):column("i"):totable(), { s:column("i")[2], s:column("i")[3] }, "a slice of a sort")
  t.eq(#d:sort("v"):head(0), 0, "head(0)")
end)

-- group_by + agg ----------------------------------------------------------------
t.case("group_by and agg", function()
  local g = farms:group_by("district"):agg{ n = jp.count(), total = jp.sum("output"), avg = jp.mean("area"),
    hi = jp.max("output"), nout = jp.count("output"), crops = jp.count_distinct("crop"), first = jp.first("crop"),
    med = jp.median("area"), q = jp.quantile("area", 0.25), lo = jp.min("crop"), last = jp.last("year") }
  t.eq(g:names(), { "district", "avg", "crops", "first", "hi", "last", "lo", "med", "n", "nout", "q", "total" },
    "keys first, then the aggregates sorted by name")
  t.eq(dump(g:select("district", "n", "total", "hi", "nout", "crops")),
    "district,n,total,hi,nout,crops;Lushun,3,~125,>60,3,2;Jinzhou,2,40,40,1,2", "groups in order of first appearance")
  local arr = farms:group_by("district", "year"):agg{ { "total", jp.sum("output") }, { "n", jp.count() } }
  t.eq(arr:names(), { "district", "year", "total", "n" }, "array form keeps the given order")
  t.eq(dump(farms:agg{ n = jp.count(), s = jp.sum("area") }), "n,s;5,380", "ds:agg over the whole dataset")
  t.eq(dump(farms:filter("year > 3000"):agg{ n = jp.count(), s = jp.sum("area") }), "n,s;0,", "empty: count 0, sum nil")
  t.raises(function() farms:group_by("crop"):agg{ s = jp.sum("district") } end,
    "agg: sum of field 'district' for 's': it is string, not a number")
  t.raises(function() farms:group_by("nope") end, "group_by: no field 'nope'")
  t.raises(function() farms:group_by("crop"):agg{ s = "sum(x)" } end, "agg: 's' must be an aggregate")
  t.raises(function() farms:group_by("crop"):agg{ { "a", jp.count() }, b = jp.count() } end, "not both")
  t.eq(tostring(jp.quantile("x", 0.5)), "jp.quantile(\"x\", 0.5)")
  t.eq(tostring(jp.count()), "jp.count()")
end)

-- joins ------------------------------------------------------------------------
local price = mk({ "crop:string", "price:number:CNY/t" }, { { "cherry", 20000 }, { "apple", 5000 }, { "plum", 1 } })
t.case("joins", function()
  local j = farms:join(price, "crop", "left")
  t.eq(j:names(), { "district", "year", "crop", "area", "output", "price" })
  t.eq(j:column("price"):totable(), { 20000.0, 20000.0, 5000.0, 20000.0, nil }, "left join keeps unmatched rows")
  t.eq(#farms:join(price, "crop"), 4, "inner is the default")
  t.eq(#farms:join(price, "crop", "anti"), 1, "anti join")
  t.eq(#farms:join(price, { { "crop", "crop" } }, "semi"), 4, "semi join with a key pair")
  local years = mk({ "year:string" }, { { "2021" } })
  t.raises(function() farms:join(years, "year") end, "join: key 'year' is integer in the left dataset but string in the right")
  t.raises(function() farms:join(price, "crop", "outer") end, "join: how must be")
  t.raises(function() farms:join(price, "crop", "rigth") end, 'did you mean "right"')
  t.raises(function() farms:join(price, "crop", "left", { sufix = "_p" }) end,
    "join: unknown option 'sufix' %(did you mean 'suffix'%?")
  -- right and full joins: the right's rows all kept, its keys where the left has none
  t.eq(dump(farms:join(price, "crop", "right"):select("crop", "district", "price")),
    "crop,district,price;cherry,Lushun,20000;cherry,Lushun,20000;cherry,Jinzhou,20000;apple,Jinzhou,5000;plum,,1",
    "right join: right order, nulls for the left's fields")
  t.eq(#farms:join(price, "crop", "full"), 6, "full join: the left join's 5 rows and plum")
  -- keys named differently: a map, a list of maps, pairs, mixed
  local codes = mk({ "code:string", "kind:string" }, { { "cherry", "stone fruit" }, { "apple", "pome" } })
  local by_map = farms:join(codes, { crop = "code" }, "left")
  t.eq(by_map:column("kind"):totable(), { "stone fruit", "stone fruit", "pome", "stone fruit", nil }, "{ crop = \"code\" }")
  t.eq(by_map:names(), { "district", "year", "crop", "area", "output", "kind" }, "the right key is not repeated")
  t.eq(farms:join(codes, { { crop = "code" } }):column("kind"):totable(),
    farms:join(codes, { { "crop", "code" } }):column("kind"):totable(), "a list of maps is a list of pairs")
  local regions = mk({ "dist:string", "yr:integer", "gdp:number" }, { { "Lushun", 2021, 9 }, { "Jinzhou", 2021, 7 } })
  t.eq(farms:join(regions, { district = "dist", year = "yr" }):column("gdp"):totable(), { 9.0, 7.0, 7.0, 9.0 },
    "a map of two keys")
  local regions2 = regions:rename{ yr = "year" }
  t.eq(farms:join(regions2, { "year", district = "dist" }):column("gdp"):totable(), { 9.0, 7.0, 7.0, 9.0 },
    "a name and a map together")
  t.raises(function() farms:join(codes, { crop = "cod" }) end,
    "join %(right dataset%): no field 'cod' .*did you mean 'code'")
  t.raises(function() farms:join(codes, { crp = "code" }) end, "join: no field 'crp' .*did you mean 'crop'")
  t.raises(function() farms:join(codes, { year = "code" }) end,
    "join: key 'year' is integer in the left dataset but key 'code' is string in the right")
  local two = mk({ "district:string", "year:integer", "gdp:number" }, { { "Lushun", 2021, 9 }, { "Jinzhou", 2021, 7 } })
  t.eq(farms:join(two, { "district", "year" }):column("gdp"):totable(), { 9.0, 7.0, 7.0, 9.0 }, "two keys")
end)

-- rows, distinct, concat ---------------------------------------------------------
t.case("rows distinct concat", function()
  t.eq(dump(farms:tail(2):select("crop")), "crop;cherry;pear")
  t.eq(dump(farms:slice(2, 3):select("crop")), "crop;cherry;apple")
  t.eq(dump(farms:slice(-2):select("crop")), "crop;cherry;pear", "negative from the end")
  t.eq(#farms:slice(4, 2), 0)
  t.eq(dump(farms:distinct("district")), "district;Lushun;Jinzhou")
  t.eq(#farms:distinct("district", "crop"), 4)
  t.eq(farms:distinct{ "district", keep_all = true }:names(), farms:names(), "keep_all keeps every field")
  local both = farms:concat(farms:filter("year == 2022"))
  t.eq(#both, 6)
  t.eq(#jp.concat{ farms, farms, farms }, 15)
  t.raises(function() farms:concat(price) end, "concat: ")
end)

-- pivot, unpivot ---------------------------------------------------------------
t.case("pivot unpivot", function()
  local wide = farms:pivot{ id_cols = { "district" }, names_from = "year", values_from = "area", values_fn = "sum" }
  t.eq(dump(wide), "district,2021,2022;Lushun,130,120;Jinzhou,130,")
  t.raises(function() farms:pivot{ id_cols = "district", names_from = "year", values_from = "area" } end,
    "pivot: rows 3 and 4 both give a value for '2021'")
  t.raises(function() farms:pivot{ names_from = "year", value = "area" } end, "pivot: unknown option 'value'")
  t.raises(function() farms:pivot{ names_form = "year", values_from = "area" } end,
    "pivot: unknown option 'names_form' %(did you mean 'names_from'%?", "options: did you mean")
  -- new fields in sorted order of the names: years by value, numeric text by value, NA last
  local yrs = mk({ "k:string", "y:integer", "v:number" },
    { { "a", 2022, 1 }, { "a", 2010, 2 }, { "b", 2009, 3 }, { "b", nil, 4 }, { "c", 999, 5 } })
  t.eq(yrs:pivot{ id_cols = "k", names_from = "y", values_from = "v" }:names(),
    { "k", "999", "2009", "2010", "2022", "NA" }, "sorted numerically, not as text")
  t.eq(yrs:pivot{ id_cols = "k", names_from = "y", values_from = "v", names_order = "appearance" }:names(),
    { "k", "2022", "2010", "2009", "NA", "999" }, "first appearance when asked")
  local txt = mk({ "k:string", "y:string", "v:number" },
    { { "a", "10", 1 }, { "a", "9", 2 }, { "b", "x", 3 }, { "b", "B", 4 }, { "c", "1.5", 5 } })
  t.eq(txt:pivot{ id_cols = "k", names_from = "y", values_from = "v" }:names(),
    { "k", "1.5", "9", "10", "B", "x" }, "numbers in text by value, before other text")
  t.eq(dump(yrs:pivot{ id_cols = "k", names_from = "y", values_from = "v" }),
    "k,999,2009,2010,2022,NA;a,,,2,1,;b,,3,,,4;c,5,,,,", "values follow their columns")
  t.raises(function() yrs:pivot{ names_from = "y", values_from = "v", names_order = "first" } end,
    "names_order must be \"sorted\" or \"appearance\"")
  local long = wide:unpivot{ cols = { "2021", "2022" }, names_to = "year", values_to = "area", drop_nulls = true }
  t.eq(dump(long), "district,year,area;Lushun,2021,130;Lushun,2022,120;Jinzhou,2021,130")
end)

-- units -------------------------------------------------------------------------
t.case("units", function()
  local ha = farms:convert("area", "ha")
  t.near(ha:column("area")[1], 100 / 15, 1e-12)
  t.eq(ha:schema().fields[4].unit, "ha")
  t.raises(function() farms:convert("area", "kg") end, "convert: cannot convert mu")
  do -- powers of ten scale exactly, in the column and in what is written
    local cherry = jp.load("datasets/cherry.yaml")
    local wan = cherry:filter("indicator == 'planted_area'"):convert("value", "万亩")
    t.eq(wan:column("value")[1], 14.8, "148000 mu -> 14.8 万亩")
    local yi = jp.dataset{ fields = { { name = "v", type = "integer", unit = "CNY" } },
                           rows = { { v = 257630000000 }, { v = 37800 } } }:convert("v", "亿元")
    t.eq(yi:column("v")[1], 2576.3, "integer CNY -> 亿元")
    local path = os.tmpname()
    wan:select("value"):write_csv(path)
    local f = assert(io.open(path)); local text = f:read("a"); f:close(); os.remove(path)
    t.ok(text:find("\n14%.8\n") ~= nil, "written as 14.8: " .. text)
  end
  t.raises(function() farms:convert("crop", "kg") end, "convert: field 'crop' is string, not a number")
end)

-- column vector operations -------------------------------------------------------
t.case("column vector operations", function()
  local out = farms:column("output")
  local s, q = out:sum()
  t.eq(s, 165.0, "sum skips nil")
  t.eq(q, "approx", "exact + more_than + approx is approx")
  t.eq(out:count(), 4)
  t.eq(out:null_count(), 1)
  t.near(out:mean(), 41.25, 1e-12)
  t.eq(out:min(), 15.0)
  t.eq(select(2, out:max()), "more_than", "max keeps its qualifier")
  t.eq(farms:column("crop"):min(), "apple", "strings by byte order")
  t.eq(farms:column("year"):sum(), 10106, "integer sum is an integer")
  t.raises(function() farms:column("crop"):sum() end, "sum: field 'crop' is string, not a number")
end)

-- "did you mean" for every misspelt field name --------------------------------------
t.case("did you mean", function()
  local dym = "%(did you mean 'output'%?"
  t.raises(function() farms:select("ouptut") end, "select: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:drop("ouptut") end, "drop: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:sort("-otuput") end, "sort: no field 'otuput' .*" .. dym)
  t.raises(function() farms:group_by("ouptut") end, "group_by: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:rename{ ouptut = "o" } end, "rename: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:agg{ s = jp.sum("ouptut") } end, "agg: sum: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:join(farms, "ouptut") end, "join: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:convert("ouptut", "kg") end, "convert: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:distinct("ouptut") end, "no field 'ouptut' .*" .. dym)
  t.raises(function() farms:filter("ouptut > 1") end, "filter: unknown field 'ouptut'.*" .. dym)
  t.raises(function() farms:filter(function(r) return r.ouptut end) end, "no field 'ouptut' .*" .. dym)
  t.raises(function() farms:select("zzzzzz") end, "no field 'zzzzzz' in the dataset %(fields: district")
  -- units
  t.raises(function() farms:convert("output", "tons") end, "unknown unit 'tons' %(did you mean 't'%?%)")
  t.raises(function() jp.convert(1, "hectars", "mu") end, "unknown unit 'hectars' %(did you mean 'ha'%?%)")
  local u, why = jp.unit("tons")
  t.eq(u, nil, "jp.unit of an unknown unit")
  t.eq(why, "unknown unit 'tons' (did you mean 't'?)", "jp.unit says why, with the closest unit")
  t.eq(jp.unit("吨"), "t", "jp.unit of a known unit")
  -- types, find, validate options
  t.raises(function() jp.dataset{ name = "x", fields = { { name = "a", type = "numbr" } } } end,
    "field 'a': unknown type 'numbr' %(did you mean 'number'%?")
  t.raises(function() jp.dataset{ name = "x", fields = { a = "strng" } } end,
    "field 'a': unknown type 'strng' %(did you mean 'string'%?")
  t.raises(function() farms:find{ ouptut = 1 } end, "find: no field 'ouptut' in the dataset " .. dym)
  t.raises(function() farms:find_all{ ouptut = 1 } end, "find_all: no field 'ouptut' .*" .. dym)
  t.raises(function() farms:validate({}, { approx_tolerence = 0.1 }) end,
    "validate: unknown option 'approx_tolerence' %(did you mean 'approx_tolerance'%?")
  t.eq(jp.suggest("vlaue", { "value", "unit" }), "value", "jp.suggest")
  t.eq(jp.suggest("zzz", { "value", "unit" }), nil, "jp.suggest: nothing close")
  -- a nil in a row function names the field
  t.raises(function() farms:filter(function(r) return r.output > 1 end) end,
    "filter: row 4, field 'output': .*attempt to compare")
  t.raises(function() farms:mutate{ y = function(r) return r.output * 2 end } end,
    "mutate: 'y', row 4, field 'output': .*arithmetic on a nil value")
end)

-- one-row and empty datasets ------------------------------------------------------
t.case("one-row and empty datasets", function()
  local one = farms:head(1)
  t.eq(#one:filter("area > 0"), 1)
  t.eq(dump(one:group_by("crop"):agg{ n = jp.count() }), "crop,n;cherry,1")
  t.eq(#one:sort("-area"), 1)
  local none = farms:filter("false")
  t.eq(#none, 0)
  t.eq(#none:sort("area"), 0)
  t.eq(#none:group_by("crop"):agg{ n = jp.count() }, 0)
  t.eq(#none:mutate{ x = "area * 2", y = function(r) return 1 end }, 0)
  t.eq(#none:join(price, "crop", "left"), 0)
  t.eq(#none:distinct(), 0)
  t.eq(select(1, none:column("area"):sum()), nil)
end)

-- group-wise expressions: aggregates and windows within each group --------------
t.case("group_by():mutate and :filter", function()
  local g = farms:group_by("district")
  local m = g:mutate{ share = "output / sum(output)", n = "count()" }
  t.eq(table.concat(m:names(), ","), "district,year,crop,area,output,n,share", "new fields by name")
  t.eq(m:column("n")[1], 3, "Lushun has three rows")
  t.eq(m:column("n")[3], 2, "Jinzhou two")
  t.near(m:column("share")[1], 50 / 125, 1e-12, "a share of the district's total")
  t.eq(m:column("share")[3], 1.0, "nil outputs are not in the sum")
  t.eq(m:qualifier(1, "share"), "approx", "qualifiers come through the sum")
  -- year on year: sort, then lag within the group
  local y = farms:filter("crop == 'cherry'"):sort("district", "year"):group_by("district")
                 :mutate{ prev = "lag(output)", yoy = "output / lag(output) - 1" }
  t.eq(dump(y:select("district", "year", "prev")),
    "district,year,prev;Jinzhou,2021,;Lushun,2021,;Lushun,2022,50", "the first of each group has no lag")
  t.near(y:column("yoy")[3], 0.2, 1e-12, "growth")
  -- the array form: each entry sees the ones before it
  local a = g:mutate{ { "c", "cumsum(area)" }, { "d", "c - lag(c, 1, 0)" } }
  t.eq(dump(a:select("area", "c", "d")), "area,c,d;100,100,100;120,220,120;80,80,80;50,130,50;30,250,30")
  -- filter with aggregates keeps whole groups or the rows that stand out
  t.eq(#g:filter("sum(area) > 200"), 3, "the groups whose total passes")
  t.eq(dump(g:filter("area == max(area)"):select("district", "area")), "district,area;Lushun,120;Jinzhou,80")
  t.eq(dump(farms:group_by("crop"):filter("row_number() == 1"):select("crop", "district")),
    "crop,district;cherry,Lushun;apple,Jinzhou;pear,Lushun", "the first row of each group")
  t.eq(#g:filter(function(r) return r.year == 2021 end), 4, "a function is row by row")
  -- without group_by the dataset is one group
  t.eq(dump(farms:mutate{ r = "rank(-area)" }:select("r")), "r;2;1;3;4;5")
  t.eq(#farms:filter("area > mean(area)"), 3, "above the mean of 76")
  t.raises(function() g:mutate{ x = "lag(output, area)" } end, "mutate: lag%(%) needs a whole number of rows")
  t.raises(function() g:filter("cumsun(area) > 1") end, "did you mean 'cumsum'")
  t.raises(function() farms:group_by("distrct") end, "did you mean 'district'")
end)

-- membership, strings (in characters) and period parts ----------------------------
t.case("one_of, string functions, year of a period", function()
  t.eq(dump(farms:filter("one_of(crop, 'apple', 'pear')"):select("crop")), "crop;apple;pear")
  t.eq(#farms:filter("not one_of(crop, 'apple', 'pear')"), 3)
  t.eq(#farms:filter("one_of(area, 50, 80.0)"), 2, "numbers compare as numbers")
  t.eq(#farms:filter("one_of(output, 40)"), 1, "a nil output is in no list")
  t.eq(dump(farms:filter("starts_with(district, 'Lu') and ends_with(crop, 'ry')"):select("year")), "year;2021;2022")
  t.eq(#farms:filter("contains(district, 'zho')"), 2)
  t.eq(#farms:filter("matches(crop, 'ch.*|pear')"), 4, "the whole value matches")
  local names = mk({ "name:string", "p:period" }, {
    { "  大连市 ", "2021" }, { "Ölberg\u{3000}", "2022-01..2022-08" }, { nil, "2022-03" } })
  local m = names:mutate{ n = "len(trim(name))", first = "sub(trim(name), 1, 2)", up = "upper(name)",
                          y = "year(p)", mo = "month(p)", label = "if_else(contains(coalesce(name, ''), '市'), 'city', 'other')" }
  t.eq(m:column("n")[1], 3, "characters, not bytes")
  t.eq(m:column("first")[1], "大连")
  t.eq(m:column("first")[2], "Öl")
  t.eq(m:column("n")[3], nil)
  t.eq(m:column("y")[2], 2022)
  t.eq(m:column("mo")[2], nil, "a period over several months has no one month")
  t.eq(m:column("mo")[3], 3)
  t.eq(m:column("label")[1], "city")
  t.eq(m:column("label")[3], "other")
  t.raises(function() farms:filter("one_of(crop, district)") end, "one_of%(%) needs literal values")
  t.raises(function() farms:filter("contains(year, '2')") end, "contains%(%) needs a string, not integer 'year'")
  t.raises(function() farms:filter("matches(crop, '(')") end, "bad pattern")
  t.raises(function() farms:filter("ends_width(crop, 'y')") end, "did you mean 'ends_with'")
  -- a grouped filter with a string function in the window's argument
  t.eq(#farms:group_by("district"):filter("sum(if_else(one_of(crop, 'cherry'), 1, 0)) >= 2"), 3)
end)

t.case("windows on a lazy CSV", function()
  local dir = os.getenv("TMPDIR") or "/tmp"
  local path = string.format("%s/windows_%d.csv", dir, os.time())
  farms:write_csv(path)
  local lz = jp.read_csv(path, { lazy = true })
  t.eq(dump(lz:mutate{ rn = "row_number()" }:select("rn")), "rn;1;2;3;4;5", "over every row of the input")
  t.eq(#lz:filter("area == max(area)"), 1)
  t.eq(dump(lz:group_by("district"):mutate{ n = "count()" }:select("n")), "n;3;3;2;2;3")
  os.remove(path)
end)

t.case("the input never changed", function()
  t.eq(dump(farms), before, "the input never changed")
end)
t.done()
