-- test_figures.lua - jp.format_figure writes figures as the article prints
-- them, and jp.figure reads every one back to the same value, qualifier and
-- unit (a property over many values); numbers in print(ds) are cut to
-- sensible digits but never in what is written.
local t = require("testlib")
local jp = require("jinpu")

local F = jp.format_figure

t.case("as the article prints them", function()
  t.eq(F(148000, "mu"), "14.8万亩")
  t.eq(F(140000, "t", "more_than"), "14万余吨", "余 after a round number")
  t.eq(F(145000, "t", "more_than"), "超过14.5万吨", "超过 before any other")
  t.eq(F(140000, "t", "more_than", { more_than = "超过" }), "超过14万吨", "超过 when asked")
  t.eq(F(1.14e9, "USD", "approx"), "约11.4亿美元")
  t.eq(F(37800, "CNY", "at_least"), "3.78万元以上")
  t.eq(F(257630000000, "CNY"), "2576.3亿元")
  t.eq(F(4e9, "CNY", "more_than"), "40亿余元")
  t.eq(F(60000, "person"), "6万人")
  t.eq(F(9, "percent"), "9%", "ratios take no 万")
  t.eq(F(650, "percent", "approx"), "约650%")
  t.eq(F(5, "t", "less_than"), "不足5吨")
  t.eq(F(5, "t", "at_most"), "5吨以下")
  t.eq(F(2299, "km2"), "2299平方公里")
  t.eq(F(1e12, "CNY"), "1万亿元")
  -- the value's own unit may be scaled or compound
  t.eq(F(14.8, "万亩"), "14.8万亩")
  t.eq(F(3.78, "万元/人", "at_least"), "3.78万元/人以上")
  -- the unit asked for
  t.eq(F(148000, "mu", nil, { as = "亩" }), "148000亩")
  t.eq(F(257630000000, "CNY", nil, { as = "万元" }), "25763000万元")
  t.eq(F(1500, "mu", nil, { as = "ha" }), "100公顷")
  t.eq(F(148000, "mu", nil, { magnitude = "" }), "148000亩")
  t.eq(F(148000, "mu", nil, { magnitude = "亿" }), "0.00148亿亩")
  t.eq(F(15.729453401494299, "t", nil, { digits = 3 }), "15.7吨")
  t.eq(F(1234), "1234")
  t.eq(F(12345), "1.2345万", "no unit: still 万 by size")
  t.raises(function() F(1, "tons") end, "unknown unit 'tons' %(did you mean 't'%?%)")
  t.raises(function() F(1, "t", "about") end, "qualifier 'about'")
  t.raises(function() F(1, "t", nil, { digit = 3 }) end, "unknown option 'digit' %(did you mean 'digits'")
  t.raises(function() F(0 / 0, "t") end, "not a figure")
end)

-- jp.figure(jp.format_figure(v, u, q)) == v (in u's primary unit), q, u
t.case("format_figure and figure are inverses", function()
  local units = { false, "mu", "t", "CNY", "USD", "person", "firm", "percent", "km2", "ha", "kg",
                  "万元", "亿美元", "万亩", "CNY/person", "元/亩", "project", "times" }
  local quals = { "exact", "approx", "at_least", "more_than", "at_most", "less_than" }
  math.randomseed(20221007)
  local bad, n = {}, 0
  local function check(v, u, q, opts)
    local s = F(v, u or nil, q, opts)
    local got, gq, gu = jp.figure(s)
    local want = u and jp.convert(v, u, jp.unit(u):gsub("^10k ", ""):gsub("^100M ", "")) or v
    local wu = u and jp.unit(u):gsub("^10k ", ""):gsub("^100M ", "") or nil
    n = n + 1
    if got ~= want or gq ~= q or gu ~= wu then
      if #bad < 5 then
        bad[#bad + 1] = string.format("%.17g %s %s -> %q -> %s %s %s (want %.17g %s)", v,
          tostring(u), q, s, tostring(got), tostring(gq), tostring(gu), want, tostring(wu))
      end
    end
  end
  for _ = 1, 4000 do
    local kind = math.random(5)
    local v
    if kind == 1 then v = math.random(0, 10 ^ math.random(1, 13))          -- whole numbers
    elseif kind == 2 then v = math.random(0, 10 ^ 7) / 10 ^ math.random(0, 4) -- printed decimals
    elseif kind == 3 then v = math.random() * 10 ^ math.random(-6, 14)    -- any double
    elseif kind == 4 then v = -math.random() * 10 ^ math.random(0, 10)    -- negative
    else v = ({ 0, 1, 9999, 10000, 99999999, 1e8, 1e12, 0.5, 37800, 148000 })[math.random(10)]
    end
    check(v, units[math.random(#units)], quals[math.random(#quals)])
  end
  -- every figure of the bundled datasets, in its own unit
  for _, name in ipairs({ "cherry", "ip", "workforce", "economy" }) do
    for r in jp.load("datasets/" .. name .. ".yaml"):rows() do
      if type(r.value) == "number" then
        local q = jp.qualifier(r, "value")
        local ok = pcall(check, r.value, r.unit, q)
        if not ok then bad[#bad + 1] = name .. ": " .. tostring(r.value) .. " " .. tostring(r.unit) end
      end
    end
  end
  t.eq(bad, {}, n .. " figures read back the same")
end)

t.case("numbers for people, digits for files", function()
  local d = jp.dataset{ name = "d", fields = { x = "number", i = "integer" },
                        rows = { { x = 15.729453401494299, i = 123456789 }, { x = 123456.789, i = 1 },
                                 { x = 0.000123456789, i = 2 }, { x = 1 / 3, i = 3 },
                                 { x = 987654321.125, i = 4 } } }
  local text = tostring(d)
  t.ok(text:find("15.72945", 1, true) and not text:find("15.729453401494299", 1, true), text)
  t.ok(text:find("123456.8", 1, true), "seven significant digits: " .. text)
  t.ok(text:find("987654321", 1, true) and not text:find("987654321.1", 1, true),
    "the whole part is never cut: " .. text)
  t.ok(text:find("0.0001234568", 1, true), "small numbers keep 7 significant digits: " .. text)
  t.ok(text:find("123456789", 1, true), "integers are never cut")
  -- configurable: per call, and for every print
  t.ok(d:preview(10, { digits = 3 }):find("15.7", 1, true), "preview digits")
  t.ok(d:preview(10, { digits = 0 }):find("15.729453401494299", 1, true), "digits = 0: every digit")
  local old = jp.display{ digits = 4 }
  t.eq(old.digits, 7, "the default is 7")
  t.ok(tostring(d):find("15.73", 1, true), "jp.display changes print(ds)")
  jp.display(old)
  t.ok(tostring(d):find("15.72945", 1, true), "and back")
  t.raises(function() jp.display{ digit = 3 } end, "did you mean 'digits'")
  -- files get every digit
  local path = os.tmpname()
  d:write_csv(path)
  local f = assert(io.open(path)); local csv = f:read("a"); f:close(); os.remove(path)
  t.ok(csv:find("15.729453401494299", 1, true), "write_csv keeps every digit")
  d:write_yaml(path .. ".yaml")
  f = assert(io.open(path .. ".yaml")); local yaml = f:read("a"); f:close(); os.remove(path .. ".yaml")
  t.ok(yaml:find("15.729453401494299", 1, true), "write_yaml keeps every digit")
  jp.export(path .. ".tar.gz", { d })
  local back = jp.open_archive(path .. ".tar.gz"):load("d")
  os.remove(path .. ".tar.gz")
  t.eq(back:column("x"):totable()[1], 15.729453401494299, "an archive keeps every digit")
end)

t.done()
