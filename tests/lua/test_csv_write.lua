-- ds:write_csv and qualified figures: never dropped unasked.  By default a
-- <field>_qualifier column carries them beside plain numbers; "inline" (or
-- true) writes the symbol in the cell; false drops them as asked.
local t = require("testlib")
local jp = require("jinpu")

local tmp = os.getenv("TMPDIR") or "/tmp"
local dir = string.format("%s/jp_test_csv_write_%d", tmp, math.random(1, 1e9))
os.execute("mkdir -p '" .. dir .. "'")
local function path(name) return dir .. "/" .. name end

local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local farms = jp.dataset{
  name = "farms",
  fields = { { name = "crop", type = "string" },
             { name = "area", type = "number", unit = "mu" },
             { name = "output", type = "number", unit = "t" } },
  rows = { { crop = "cherry", area = "14.8万", output = "约7696" },
           { crop = "apple", area = 1200, output = ">=500" },
           { crop = "pear", area = 10, output = 3 } },
}

t.case("by default a qualified field gets a <field>_qualifier column; numbers stay numbers", function()
  farms:write_csv(path("d.csv"))
  t.eq(slurp(path("d.csv")), "crop,area,output,output_qualifier\n"
    .. "cherry,148000.0,7696.0,approx\napple,1200.0,500.0,at_least\npear,10.0,3.0,\n")
  local back = jp.read_csv(path("d.csv"))
  t.eq(back:schema().fields[3].type, "number", "output reads back as numbers")
  t.eq(back:column("output")[1], 7696.0)
  t.eq(back:column("output_qualifier")[2], "at_least")
  t.eq(back:column("output_qualifier")[3], nil, "exact: empty")
  farms:write_csv(path("e.csv"), { qualifiers = "column" })
  t.eq(slurp(path("e.csv")), slurp(path("d.csv")), "\"column\" is the default")
end)

t.case("the side column takes a free name; .csv.gz and ds:write alike", function()
  local d = jp.dataset{
    fields = { { name = "v", type = "number" }, { name = "v_qualifier", type = "string" } },
    rows = { { v = "~2", v_qualifier = "mine" } },
  }
  d:write_csv(path("n.csv"))
  t.eq(slurp(path("n.csv")), "v,v_qualifier,v_qualifier_\n2.0,mine,approx\n")
  farms:write(path("g.csv.gz"))
  t.eq(jp.read_csv(path("g.csv.gz")):column("output_qualifier")[1], "approx")
end)

t.case("qualifiers = \"inline\" or true: the symbol in the cell, read back with a schema", function()
  farms:write_csv(path("i.csv"), { qualifiers = "inline" })
  t.eq(slurp(path("i.csv")), "crop,area,output\ncherry,148000.0,~7696.0\napple,1200.0,>=500.0\npear,10.0,3.0\n")
  farms:write_csv(path("j.csv"), { qualifiers = true })
  t.eq(slurp(path("j.csv")), slurp(path("i.csv")), "true is inline")
  local back = jp.read_csv(path("i.csv"), { schema = { output = { type = "number", unit = "t" } } })
  t.eq(back:qualifier(1, "output"), "approx")
end)

t.case("qualifiers = false drops them, because it was asked", function()
  farms:write_csv(path("f.csv"), { qualifiers = false })
  t.eq(slurp(path("f.csv")), "crop,area,output\ncherry,148000.0,7696.0\napple,1200.0,500.0\npear,10.0,3.0\n")
end)

t.case("a dataset with no qualified figure is written the same in every mode", function()
  local d = jp.dataset{ rows = { { a = 1.5, b = "x" } } }
  d:write_csv(path("p1.csv"))
  d:write_csv(path("p2.csv"), { qualifiers = "inline" })
  d:write_csv(path("p3.csv"), { qualifiers = false })
  t.eq(slurp(path("p1.csv")), "a,b\n1.5,x\n")
  t.eq(slurp(path("p2.csv")), slurp(path("p1.csv")))
  t.eq(slurp(path("p3.csv")), slurp(path("p1.csv")))
end)

t.case("a wrong qualifiers option is an error, and nothing is written", function()
  t.raises(function() farms:write_csv(path("w.csv"), { qualifiers = "side" }) end,
    "option 'qualifiers' must be \"column\", \"inline\", true or false")
  t.ok(io.open(path("w.csv")) == nil, "nothing written")
end)

os.execute("rm -rf '" .. dir .. "'")
t.done()
