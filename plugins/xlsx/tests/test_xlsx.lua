-- plugins/xlsx/tests/test_xlsx.lua - workbooks written by the xlsx plugin,
-- read back with openpyxl (tests/read_xlsx.py): one sheet per dataset,
-- numbers as numbers, units in the header, qualifiers visible, the header
-- frozen, widths that fit Chinese text; refusals that name what is wrong
-- and leave no file behind.
local T = require("jinpu.test")
local jp = require("jinpu")

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local _, how, code = os.execute(cmd)
  return how == "exit" and code or 128 + code
end

local function slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- a python3 with openpyxl (tools/deps.sh installs python3-openpyxl)
local PY
for _, py in ipairs({ "python3", "/usr/bin/python3" }) do
  if run(py .. " -c 'import openpyxl' >/dev/null 2>&1") == 0 then
    PY = py
    break
  end
end
if not PY then
  print("# no python3 with openpyxl: install python3-openpyxl (tools/deps.sh)")
  T.ok(false, "openpyxl is there to read the workbooks back")
  T.done()
end

local dir = os.tmpname()
os.remove(dir)
assert(run("mkdir -p " .. sh(dir)) == 0)

-- the workbook as openpyxl reads it: sheets in order, each with its cells
-- by coordinate ({ type, value, format }) and column widths
local function read_book(path)
  local p = io.popen(PY .. " tests/read_xlsx.py " .. sh(path) .. " 2>&1")
  local text = p:read("a")
  p:close()
  local book, sheet = { sheets = {}, by = {} }, nil
  for line in text:gmatch("[^\n]+") do
    local f = {}
    for x in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = x end
    if f[1] == "title" then
      book.title = f[2]
    elseif f[1] == "sheet" then
      sheet = { name = f[2], freeze = f[3], filter = f[4], rows = tonumber(f[5]), cols = tonumber(f[6]),
        cells = {}, widths = {} }
      book.sheets[#book.sheets + 1] = sheet
      book.by[f[2]] = sheet
    elseif f[1] == "width" then
      sheet.widths[f[2]] = tonumber(f[3])
    elseif f[1] == "cell" then
      sheet.cells[f[2]] = { type = f[3], value = f[4], format = f[5] }
    else
      book.error = (book.error or "") .. line .. "\n"
    end
  end
  return book
end

local function cell(s, ref) return s.cells[ref] or {} end
-- openpyxl gives a whole number stored as a number as an int
local function isnum(c) return c.type == "int" or c.type == "float" end

local farms = jp.dataset{
  name = "farms", title = "Farms of Jinpu",
  fields = {
    { name = "crop", type = "string", title = "作物" },
    { name = "area", type = "number", unit = "mu" },
    { name = "n", type = "integer" },
    { name = "ok", type = "boolean" },
    { name = "day", type = "date" },
    { name = "period", type = "period" },
  },
  rows = {
    { crop = "大樱桃（美早）品种示范园", area = "14.8万", n = 3, ok = true, day = "2022-01-05", period = "2022-01..2022-08" },
    { crop = "apple", area = ">1200", n = -7, ok = false, day = "1850-03-01", period = "..2021" },
    { crop = "pear", area = "约300" },
  },
}

T.case("ds:write: one sheet, numbers as numbers, the header frozen and filterable", function()
  local out = dir .. "/farms.xlsx"
  farms:write(out)
  local b = read_book(out)
  T.eq(b.error, nil, "openpyxl reads it")
  T.eq(#b.sheets, 1, "one sheet")
  local s = b.sheets[1]
  T.eq(s.name, "farms", "named after the dataset")
  T.eq(b.title, "Farms of Jinpu", "the dataset's title is the workbook's")
  T.eq(s.freeze, "A2", "the header row is frozen")
  T.eq(s.filter, "A1:G4", "and has filter buttons")
  T.eq(s.rows, 4, "a header and three rows")
  T.ok(isnum(cell(s, "B2")), "a number is a number")
  T.eq(cell(s, "B2").value, "148000", "in the field's unit")
  T.eq(cell(s, "D2").type, "int", "an integer is a number")
  T.eq(cell(s, "D3").value, "-7", "negative too")
  T.eq(cell(s, "E2").type, "bool", "a boolean is a boolean")
  T.eq(cell(s, "F2").type, "datetime", "a date is a date")
  T.eq(cell(s, "F2").format, "yyyy-mm-dd", "shown as one")
  T.eq(cell(s, "F3").value, "1850-03-01", "before 1900 (Excel's calendar) a date is text")
  T.eq(cell(s, "G2").value, "2022-01..2022-08", "a period is its text")
  T.eq(cell(s, "G3").value, "..2021", "open periods too")
  T.eq(cell(s, "D4").type, nil, "a null is an empty cell")
end)

T.case("the unit is in the header; display units convert the numbers", function()
  local out = dir .. "/units.xlsx"
  farms:write(out, { units = "area=万亩" })
  local s = read_book(out).sheets[1]
  T.eq(cell(s, "B1").value, "area (万亩)", "the display unit in the header")
  T.eq(cell(s, "B2").value, "14.8", "148000 mu is 14.8 万亩, exactly")
  T.eq(cell(s, "B3").value, "0.12", "qualified figures convert too")
  local plain = read_book(dir .. "/farms.xlsx").sheets[1]
  T.eq(cell(plain, "B1").value, "area (mu)", "without, the field's unit")
  T.eq(cell(plain, "A1").value, "crop", "a field without a unit: its name")
  farms:write(out, { headers = "title" })
  T.eq(cell(read_book(out).sheets[1], "A1").value, "作物", "headers = title: the field titles")
end)

T.case("qualifiers are visible: in the number format and in a qualifier column", function()
  local s = read_book(dir .. "/farms.xlsx").sheets[1]
  T.eq(cell(s, "C1").value, "area qualifier", "a qualifier column follows a qualified field")
  T.eq(cell(s, "C3").value, "more_than", "naming the qualifier")
  T.eq(cell(s, "C4").value, "approx", "approx")
  T.eq(cell(s, "C2").type, nil, "exact figures leave it empty")
  T.ok(isnum(cell(s, "B3")), "a qualified figure is still a number")
  T.eq(cell(s, "B3").format, '">"General', "shown with its qualifier: >1200")
  T.eq(cell(s, "B4").format, '"~"General', "~300")
  T.eq(cell(s, "B2").format, "General", "an exact figure as it is")
  T.eq(cell(s, "E1").value, "ok", "a field without qualified figures gets no column")
end)

T.case("column widths fit Chinese text: a character counts two", function()
  local s = read_book(dir .. "/farms.xlsx").sheets[1]
  -- 12 characters of Chinese text are 24 columns wide
  T.ok(s.widths.A >= 24 and s.widths.A <= 28, "the Chinese column is wide enough: " .. tostring(s.widths.A))
  T.ok(s.widths.E and s.widths.E < 12, "a boolean column stays narrow: " .. tostring(s.widths.E))
  T.ok(s.widths.B >= 8, "numbers fit: " .. tostring(s.widths.B))
end)

T.case("jinpu export -o report.xlsx: the four datasets, one sheet each", function()
  local out = dir .. "/report.xlsx"
  local exe = jp._plugins.exe()
  local files = "../../datasets/cherry.yaml ../../datasets/economy.yaml ../../datasets/ip.yaml ../../datasets/workforce.yaml"
  local rc = run(sh(exe) .. " export -o " .. sh(out) .. " " .. files .. " >" .. sh(dir .. "/log") .. " 2>&1")
  T.eq(rc, 0, "exit 0: " .. (slurp(dir .. "/log") or ""))
  local b = read_book(out)
  local names = {}
  for i, s in ipairs(b.sheets) do names[i] = s.name end
  T.eq(names, { "cherry", "economy", "ip", "workforce" }, "one sheet per dataset, in order")
  for _, name in ipairs(names) do
    local ds = jp.load("../../datasets/" .. name .. ".yaml")
    local s = b.by[name]
    T.eq(s.rows, #ds + 1, name .. ": every row")
    T.eq(s.freeze, "A2", name .. ": frozen header")
  end
  local c = b.by.cherry
  T.eq(cell(c, "D1").value, "value", "cherry: the value's unit is per row, in its own column")
  T.eq(cell(c, "E1").value, "value qualifier", "cherry: the qualifier column")
  T.eq(cell(c, "D3").value, "140000", "cherry: 14万余吨 is the number 140000")
  T.eq(cell(c, "D3").format, '">"General', "shown as more than")
  T.eq(cell(c, "E3").value, "more_than", "and named so")
  T.eq(cell(c, "G2").value, "栽植面积达14.8万亩", "Chinese text as it is")
  T.ok(c.widths.G >= 2 * 16, "the label column fits its Chinese text")
end)

T.case("the sheet option, and names Excel would refuse", function()
  local out = dir .. "/named.xlsx"
  farms:write(out, { sheet = "a/b:c[d]*?e'" })
  T.eq(read_book(out).sheets[1].name, "a_b_c_d___e_", "characters Excel refuses are replaced")
  farms:write(out, { sheet = string.rep("长", 40) })
  T.eq(read_book(out).sheets[1].name, string.rep("长", 31), "cut at 31 characters")
  jp.export(out, { farms, farms })
  local b = read_book(out)
  T.eq({ b.sheets[1].name, b.sheets[2].name }, { "farms", "farms~2" }, "a name taken twice gets a suffix")
end)

T.case("numbers Excel cannot hold exactly are written as text", function()
  local p = dir .. "/big.csv"
  local f = assert(io.open(p, "wb"))
  f:write("id,x\n9007199254740993,1\n12,2.5\n")
  f:close()
  local out = dir .. "/big.xlsx"
  jp.read_csv(p):write(out)
  local s = read_book(out).sheets[1]
  T.eq(cell(s, "A2").type, "str", "an integer past 2^53 is text")
  T.eq(cell(s, "A2").value, "9007199254740993", "with every digit")
  T.eq(cell(s, "A3").type, "int", "smaller ones are numbers")
end)

T.case("refusals name the problem and leave nothing behind", function()
  local out = dir .. "/keep.xlsx"
  farms:write(out)
  local before = slurp(out)
  T.raises(function() farms:write(out, { colour = "red" }) end, "unknown option 'colour'", "an unknown option")
  T.raises(function() farms:write(out, { units = "area" }) end, "field=unit", "a malformed units option")
  T.raises(function() farms:write(out, { units = "crop=万亩" }) end, "'crop' is not a number", "a display unit for text")
  T.raises(function() farms:write(out, { units = "area=kg" }) end, "mu", "units that do not convert")
  T.raises(function() farms:write(out, { units = "areas=万亩" }) end, "names no field", "a misspelt field")
  T.raises(function() farms:write(out, { headers = "x" }) end, "headers", "a bad headers option")
  local long = jp.dataset{ name = "long", fields = { { name = "t", type = "string" } },
    rows = { { t = "a" }, { t = string.rep("x", 40000) } } }
  T.raises(function() long:write(out) end, "row 2.*'t'.*32767", "a cell too long for Excel names row and field")
  T.eq(slurp(out), before, "the old file is untouched")
  local ls = io.popen("ls -A " .. sh(dir))
  local left = ls:read("a")
  ls:close()
  T.ok(not left:find("%.tmp%-"), "no temporary file is left: " .. left)
  T.raises(function() farms:write(dir .. "/no/such/dir/x.xlsx") end, "no/such/dir", "a directory that is not there")
end)

run("rm -rf " .. sh(dir))
T.done()
