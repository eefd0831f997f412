-- plugins/chart/tests/test_chart.lua - ds:chart: SVG that names what it
-- draws, marks qualified figures and says so in the legend, renders
-- Chinese labels with CJK fonts first, writes files atomically, and
-- refuses what it cannot draw with a message saying why.
local T = require("jinpu.test")
local jp = require("jinpu")

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

local farms = jp.dataset{
  name = "farms", title = "Farms <&> \"crops\"",
  fields = { { name = "crop", type = "string" }, { name = "region", type = "string" },
             { name = "area", type = "number", unit = "mu" } },
  rows = {
    { crop = "樱桃", region = "north", area = "14.8万" },
    { crop = "apple", region = "north", area = ">1200" },
    { crop = "pear", region = "north", area = "约300" },
    { crop = "樱桃", region = "south", area = "<=900" },
    { crop = "apple", region = "south", area = 500 },
  },
}

T.case("a bar chart is SVG with the dataset's title, escaped", function()
  local svg = farms:filter("region == 'north'"):chart{ x = "crop", y = "area" }
  T.ok(svg:match("^<svg xmlns=\"http://www.w3.org/2000/svg\""), "an svg element")
  T.ok(svg:find("<title>Farms &lt;&amp;&gt; &quot;crops&quot;</title>", 1, true), "the title, escaped")
  T.ok(svg:find("</svg>\n$"), "closed")
end)

T.case("Chinese labels render: the text is there and CJK fonts come first", function()
  local svg = farms:chart{ kind = "hbar", x = "crop", y = "area", group = "region" }
  T.ok(svg:find(">樱桃</text>", 1, true), "the label is written as UTF-8 text")
  T.ok(svg:find("font-family=\"'Noto Sans CJK SC'", 1, true), "a CJK font first in the font list")
  T.ok(svg:find("WenQuanYi Micro Hei", 1, true) and svg:find("Microsoft YaHei", 1, true), "fallbacks for Linux and Windows")
end)

T.case("qualified figures are marked, and the legend says how", function()
  local svg = farms:filter("region == 'north'"):chart{ x = "crop", y = "area", id = "q" }
  T.ok(svg:find('fill="url(#q-v1)"', 1, true), "'more than' fades at its open end")
  T.ok(svg:find('<path d="M', 1, true), "with an arrow past the end")
  T.ok(svg:find('fill="url(#q-h1)"', 1, true), "'about' is hatched")
  T.ok(svg:find("more than / at least: the bar is a lower bound", 1, true), "the legend explains lower bounds")
  T.ok(svg:find("about: an approximate figure (hatched)", 1, true), "and approximate figures")
  T.ok(not svg:find("upper bound", 1, true), "and only the marks it uses")
  T.ok(svg:find(">&gt;1200</text>", 1, true) and svg:find(">~300</text>", 1, true), "value labels carry the qualifier")
  local up = farms:filter("region == 'south'"):chart{ x = "crop", y = "area" }
  T.ok(up:find('stroke-dasharray="4 3"', 1, true) and up:find("an upper bound", 1, true), "upper bounds are pale and dashed")
  local exact = jp.dataset{ columns = { k = { "a", "b" }, v = { 1, 2 } } }:chart{ x = "k", y = "v" }
  T.ok(not exact:find("bound", 1, true) and not exact:find("approximate", 1, true), "exact figures need no legend")
end)

T.case("groups are series with colours and a legend; facets are panels", function()
  local svg = farms:chart{ x = "crop", y = "area", group = "region" }
  T.ok(svg:find('fill="#0072B2"', 1, true) and svg:find('fill="#E69F00"', 1, true), "two colours")
  T.ok(svg:find(">north</text>", 1, true) and svg:find(">south</text>", 1, true), "series in the legend")
  local f = farms:chart{ kind = "hbar", x = "crop", y = "area", facet = "region" }
  T.ok(f:find(">north  (mu)</text>", 1, true) and f:find(">south  (mu)</text>", 1, true), "a titled panel per facet")
end)

T.case("line charts mark bounds with triangles and approximations with hollow circles", function()
  local svg = farms:filter("region == 'north'"):chart{ kind = "line", x = "crop", y = "area" }
  T.ok(svg:find("<polyline", 1, true), "a line")
  T.ok(svg:find('Z" fill="#0072B2"', 1, true), "a filled triangle for 'more than'")
  T.ok(svg:find('r="4.5" fill="#fff"', 1, true), "a hollow circle for 'about'")
end)

T.case("numbers are printed as people print them", function()
  local svg = farms:filter("region == 'north'"):chart{ x = "crop", y = "area", magnitudes = "zh" }
  T.ok(svg:find(">14.8万</text>", 1, true), "14.8万")
  T.ok(svg:find(">约300</text>", 1, true), "约 for about")
  local si = jp.dataset{ columns = { k = { "gdp" }, v = { 257630000000 } } }:chart{ x = "k", y = "v" }
  T.ok(si:find(">257.6B</text>", 1, true), "257.6B")
end)

T.case("path writes the same SVG, atomically", function()
  local path = os.tmpname() .. ".svg"
  local svg = farms:chart{ x = "crop", y = "area", group = "region", path = path, id = "p" }
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  T.eq(text, svg, "the file holds the returned SVG")
  T.eq(io.open(path .. ".tmp"), nil, "no temporary file is left")
  os.remove(path)
  os.remove(path:sub(1, -5))
  T.eq(farms:chart{ x = "crop", y = "area", group = "region", id = "p" }, svg, "the same chart twice is the same text")
end)

T.case("two charts on one page do not share pattern ids", function()
  local a = farms:chart{ x = "crop", y = "area", group = "region" }
  local b = farms:chart{ x = "crop", y = "area", group = "region" }
  local ida, idb = a:match('<pattern id="([^"]+)%-h1"'), b:match('<pattern id="([^"]+)%-h1"')
  T.ok(ida and idb and ida ~= idb, "distinct ids: " .. tostring(ida) .. " " .. tostring(idb))
end)

T.case("what cannot be drawn is refused, saying why", function()
  T.raises(function() farms:chart{ x = "crop", y = "area", colour = "red" } end, "unknown option 'colour'")
  T.raises(function() farms:chart{ y = "area" } end, "option 'x'")
  T.raises(function() farms:chart{ x = "crop", y = "crop" } end, "field 'crop' is string, not a number")
  T.raises(function() farms:chart{ x = "crop", y = "nope" } end, "no field 'nope'")
  T.raises(function() farms:chart{ x = "crop", y = "area" } end, "two rows for crop = '樱桃'")
  T.raises(function() farms:chart{ x = "crop", y = "area", kind = "pie" } end, "kind must be")
  T.raises(function() farms:chart() end, "expected a table of options")
end)

T.case("the chart's dataset is not changed and carries no plugin mark", function()
  local before = #farms
  local svg = farms:chart{ x = "crop", y = "area", group = "region" }
  T.eq(type(svg), "string", "the result is text")
  T.eq(#farms, before, "the dataset is unchanged")
end)

T.done()
