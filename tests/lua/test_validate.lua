-- Validation from Lua: constraints, qualifiers, row rules (expressions and
-- functions), cross-dataset rules, thresholds, quarantine, both report
-- forms, broken rules, rule packs on the bundled datasets.
local t = require("testlib")
local jp = require("jinpu")
local V = require("jinpu.validate")

-- ---- a tiny JSON reader, to prove report:json() is valid JSON -------------------------

local function json_decode(s)
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == "" then error("unterminated string") end
      if c == '"' then pos = pos + 1; break end
      if c:byte() < 32 then error("control character in string at " .. pos) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        local map = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if map[e] then out[#out + 1] = map[e]; pos = pos + 2
        elseif e == "u" then
          local hex = s:sub(pos + 2, pos + 5)
          if not hex:match("^%x%x%x%x$") then error("bad \\u escape") end
          out[#out + 1] = utf8.char(tonumber(hex, 16)); pos = pos + 6
        else error("bad escape \\" .. e) end
      else
        out[#out + 1] = c; pos = pos + 1
      end
    end
    return table.concat(out)
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return obj end
      while true do
        ws()
        if s:sub(pos, pos) ~= '"' then error("key expected at " .. pos) end
        local k = str(); ws()
        if s:sub(pos, pos) ~= ":" then error("':' expected at " .. pos) end
        pos = pos + 1
        obj[k] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "}" then return obj end
        if d ~= "," then error("',' expected at " .. pos) end
      end
    elseif c == "[" then
      local arr = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return arr end
      while true do
        arr[#arr + 1] = value(); ws()
        local d = s:sub(pos, pos); pos = pos + 1
        if d == "]" then return arr end
        if d ~= "," then error("',' expected at " .. pos) end
      end
    elseif c == '"' then return str()
    elseif s:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif s:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif s:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" then error("value expected at " .. pos) end
      pos = pos + #num
      return tonumber(num)
    end
  end
  local v = value(); ws()
  if pos <= #s then error("trailing text at " .. pos) end
  return v
end

local function rows_of(report, rule, key)
  local out = {}
  for _, e in ipairs(report[key or "issues"]) do
    if e.rule == rule then out[#out + 1] = e.row end
  end
  return out
end

local function rule_of(report, name)
  for _, r in ipairs(report.rules) do
    if r.name == name then return r end
  end
end

-- ---- constraints from Lua -------------------------------------------------------------------

local farms = jp.dataset{
  name = "farms",
  fields = {
    { name = "code", type = "string" }, { name = "crop", type = "string" },
    { name = "area", type = "number", unit = "mu" }, { name = "firms", type = "integer" },
    { name = "since", type = "date" },
  },
  rows = {
    { code = "A-001", crop = "cherry", area = 100, firms = 3, since = "2020-01-01" },
    { code = "A-002", crop = "apple", area = -5, firms = 0, since = "2019-05-01" },
    { code = "A-001", crop = "樱桃", area = 2000, firms = nil, since = "2023-01-01" },
    { code = "B01", crop = nil, area = 50, firms = 12, since = nil },
    { code = "A-001", crop = "pear", area = ">1500", firms = 2, since = "2021-07-01" },
  },
}

local r = farms:validate{
  code = { unique = true, pattern = "[A-Z]-[0-9]{3}", maxLength = 5 },
  crop = { required = true, enum = { "cherry", "apple", "pear", "樱桃" }, minLength = 2, maxLength = 5 },
  area = { minimum = 0, maximum = "1500" },
  firms = { minimum = 0, maximum = 10, required = true },
  since = { minimum = "2019-06-01", maximum = "2022-12-31" },
}
t.ok(not r.ok, "the report fails")
t.eq(rows_of(r, "code.unique"), { 3, 5 }, "unique: every row after the first with the value")
t.eq(r.issues[1].first_row, nil, "first_row only on repeats")
t.case("constraints from Lua", function()
  local u = r.errors[1]
  for _, e in ipairs(r.errors) do if e.rule == "code.unique" then u = e; break end end
  t.eq(u.first_row, 1, "a repeat cites the first row")
  t.eq(u.message, "'A-001' repeats row 1 (unique)", "unique message")
  t.eq(rows_of(r, "code.pattern"), { 4 }, "pattern is anchored: B01 fails")
  t.eq(rows_of(r, "code.maxLength"), {}, "maxLength 5 holds")
  t.eq(rows_of(r, "crop.required"), { 4 }, "required")
  t.eq(rows_of(r, "crop.enum"), {}, "enum holds (UTF-8 values too)")
  t.eq(rows_of(r, "crop.minLength"), {}, "樱桃 is 2 characters: not fewer than 2")
  t.eq(rows_of(r, "crop.maxLength"), { 1 }, "cherry has 6 characters")
  t.eq(rows_of(r, "area.minimum"), { 2 }, "minimum")
  t.eq(rows_of(r, "area.maximum"), { 3, 5 }, "maximum: 2000, and >1500 whatever its exact value")
  t.eq(rows_of(r, "firms.maximum"), { 4 }, "integer maximum")
  t.eq(rows_of(r, "firms.required"), { 3 }, "integer required")
  t.eq(rows_of(r, "since.minimum"), { 2 }, "date minimum given as text")
  t.eq(rows_of(r, "since.maximum"), { 3 }, "date maximum")
  t.eq(r.counts.by_rule["area.maximum"], 2, "counts per rule")
  t.eq(r.counts.by_field.area, 3, "counts per field")
  t.eq(r.counts.errors, #r.errors, "counts.errors")
  t.eq(#r, #r.issues, "#report is the number of issues")
  local e1 = r.errors[1]
  t.ok(e1.row and e1.rule and e1.message and e1.severity == "error", "an error has row, rule, message, severity")
  t.eq(e1.file, nil, "no file for a dataset built in Lua")
end)

-- 樱桃 has 2 characters: minLength 2 holds, so the row that fails is 3 only
-- when minLength is 3
t.case("lengths count characters", function()
  local r2 = farms:validate({ crop = { minLength = 3 } }, { schema = false })
  t.eq(rows_of(r2, "crop.minLength"), { 3 }, "lengths count characters: 樱桃 is 2")
end)

-- ---- types and units -------------------------------------------------------------------------

t.case("types and units", function()
  local loose = jp.dataset{
    name = "loose",
    fields = { { name = "amount", type = "string" }, { name = "day", type = "string" },
      { name = "value", type = "number", unit_field = "unit" }, { name = "unit", type = "string" } },
    rows = {
      { amount = "12", day = "2021-02-28", value = 1, unit = "mu" },
      { amount = "14.8万", day = "2021-02-29", value = 2, unit = "furlong" },
      { amount = "n/a", day = "x", value = 3, unit = nil },
      { amount = "3.5", day = "2024-02-29", value = 4, unit = "CNY/t" },
    },
  }
  local lr = loose:validate{ amount = { type = "integer" }, day = { type = "date" } }
  t.eq(rows_of(lr, "amount.type"), { 3, 4 }, "type integer over text: n/a and 3.5 fail, 14.8万 reads as 148000")
  t.eq(rows_of(lr, "day.type"), { 2, 3 }, "type date: 2021-02-29 and x fail")
  t.eq(rows_of(lr, "unit.known_unit"), { 2, 3 }, "per-row units must be known, and present where there is a value")
  t.eq(lr.issues[#lr.issues].message ~= nil, true, "messages")
end)

-- ---- qualifiers --------------------------------------------------------------------------------

t.case("qualifiers", function()
  local q = jp.dataset{
    name = "q", fields = { { name = "firms", type = "number" } },
    rows = { { firms = ">400" }, { firms = ">=400" }, { firms = "~410" }, { firms = "~450" },
      { firms = "<=500" }, { firms = "<400" }, { firms = ">399" } },
  }
  local qr = q:validate{ firms = { maximum = 400 } }
  t.eq(rows_of(qr, "firms.maximum", "errors"), { 1, 4 }, "more_than 400 breaks maximum 400; ~450 is beyond 5%")
  t.eq(rows_of(qr, "firms.maximum", "warnings"), { 3, 5 }, "~410 and <=500 may or may not: warnings")
  t.ok(qr.errors[1].message:find("whatever its exact value", 1, true), "the message says why it is certain")
  local qmin = q:validate{ firms = { minimum = 400 } }
  t.eq(rows_of(qmin, "firms.minimum", "errors"), { 6 }, "less_than 400 breaks minimum 400")
  t.eq(rows_of(qmin, "firms.minimum", "warnings"), { 7 }, ">399 as printed is below 400: a warning")
  local loose_tol = q:validate({ firms = { maximum = 400 } }, { approx_tolerance = 0.2 })
  t.eq(rows_of(loose_tol, "firms.maximum", "warnings"), { 3, 4, 5 }, "a wider tolerance makes ~450 doubtful")
end)

-- ---- row rules: expressions and functions ------------------------------------------------------

local shares = jp.dataset{
  name = "shares", fields = { { name = "indicator", type = "string" }, { name = "value", type = "number" },
    { name = "unit", type = "string" } },
  rows = {
    { indicator = "a_share", value = 50, unit = "percent" }, { indicator = "b_share", value = 120, unit = "percent" },
    { indicator = "gdp", value = 5000, unit = "CNY" }, { indicator = "c_share", value = nil, unit = "percent" },
    { indicator = "d_share", value = 101, unit = "percent" },
  },
}
t.case("row rules: expressions and functions", function()
  local sr = shares:validate{
    { name = "share_le_100", expr = "value <= 100", where = "unit == 'percent'" },
    "value >= 0",
    { name = "fn", check = function(row) if row.unit ~= "percent" then return nil end
        if row.value == nil then return true end
        return row.value <= 100, string.format("share %g over 100", row.value) end },
    { name = "fn_where", where = "unit == 'CNY'", check = function(row) return row.value < 1000 end },
  }
  t.eq(rows_of(sr, "share_le_100"), { 2, 5 }, "expression rule with where; null does not apply")
  t.eq(rule_of(sr, "share_le_100").checked, 3, "rows checked: where true and value not null")
  t.eq(rows_of(sr, "value >= 0"), {}, "an expression string is a rule named by its text")
  t.eq(rows_of(sr, "fn"), { 2, 5 }, "function rule")
  t.eq(rule_of(sr, "fn").checked, 4, "nil from a function: does not apply")
  for _, e in ipairs(sr.errors) do
    if e.rule == "fn" then t.eq(e.message, "share 120 over 100", "the function's message"); break end
  end
  t.eq(rows_of(sr, "fn_where"), { 3 }, "a function rule with where")
  t.eq(rule_of(sr, "fn_where").checked, 1, "only the rows of the where")
  for _, e in ipairs(sr.errors) do
    if e.rule == "share_le_100" then t.eq(e.field, "value", "an expression over one field points at it"); break end
  end
end)

-- thresholds
local mr = shares:validate{
  { name = "loose", expr = "value <= 100", where = "unit == 'percent'", mostly = 0.3 },
  { name = "tight", expr = "value <= 100", where = "unit == 'percent'", mostly = 0.5 },
  { name = "warn", expr = "value <= 100", severity = "warning" },
}
t.case("thresholds", function()
  t.eq(rule_of(mr, "loose").status, "tolerated", "2 of 3 fail, mostly 0.3: tolerated")
  t.eq(rows_of(mr, "loose", "warnings"), { 2, 5 }, "tolerated failures are warnings")
  t.eq(rule_of(mr, "tight").status, "failed", "2 of 3 fail, mostly 0.5: failed")
  t.eq(rows_of(mr, "warn", "warnings"), { 2, 3, 5 }, "severity warning")
  t.ok(not mr.ok, "tight fails the report")
  local alias = shares:validate{
    { rule = "value <= 100", where = "unit == 'percent'", mostly = 0.95 },
    { name = "fn_alias", rule = function(row) return row.value ~= 120 end },
  }
  t.eq(rows_of(alias, "value <= 100"), { 2, 5 }, "{ rule = expression, mostly = ... }")
  t.eq(rows_of(alias, "fn_alias"), { 2 }, "{ rule = function }")
  local ok_only = shares:validate{ { name = "loose", expr = "value <= 100", where = "unit == 'percent'", mostly = 0.3 } }
  t.ok(ok_only.ok and #ok_only.warnings == 2 and #ok_only.errors == 0, "warnings alone keep the report ok")
end)

-- ---- broken rules: reported as such, named, never raised -----------------------------------------

local br = shares:validate{
  value = { minimun = 0, pattern = "[a" },
  indicator = { pattern = "[a" },
  nosuch = { required = true },
  { name = "syntax", expr = "value <=" },
  { name = "raises", check = function(row) return row.value.x end },
  { name = "bad_sev", expr = "value > 0", severity = "fatal" },
  { name = "bad_mostly", expr = "value > 0", mostly = 2 },
  { name = "typo", expr = "value > 0", sevrity = "warning" },
  { name = "shape" },
  { name = "ds_raises", dataset = function() error("boom") end },
  { name = "ds_bad", dataset = function() return 42 end },
  { name = "ds_row", dataset = function() return { { row = 99, message = "x" } } end },
  42,
}
t.case("broken rules are reported and never raised", function()
  local names = {}
  for _, e in ipairs(br.rule_errors) do names[e.rule] = e.message end
  t.ok(names["value.minimun"] and names["value.minimun"]:find("did you mean 'minimum'", 1, true), "unknown constraint, with a suggestion")
  t.ok(names["indicator.pattern"] and names["indicator.pattern"]:find("bad pattern '[a'", 1, true), "bad regex")
  t.ok(names["nosuch.constraints"] and names["nosuch.constraints"]:find("no field 'nosuch'", 1, true), "unknown field")
  t.ok(names.syntax and names.syntax:find("does not compile", 1, true), "expression that does not compile")
  t.ok(names.raises and names.raises:find("raised an error at row", 1, true), "a Lua rule that raises, with the row")
  t.ok(names.bad_sev and names.bad_sev:find("severity", 1, true), "bad severity")
  t.ok(names.bad_mostly and names.bad_mostly:find("mostly", 1, true), "bad mostly")
  t.ok(names.typo and names.typo:find("unknown key 'sevrity'", 1, true), "unknown key in a rule: the rule does not run")
  t.ok(names.shape and names.shape:find("a rule needs one of", 1, true), "a rule of no known shape")
  t.ok(names.ds_raises and names.ds_raises:find("boom", 1, true), "a dataset rule that raises")
  t.ok(names.ds_bad and names.ds_bad:find("returned a number", 1, true), "a dataset rule returning nonsense")
  t.ok(names.ds_row and names.ds_row:find("row 99", 1, true), "a failure naming a row that does not exist")
  t.ok(names["rule 10"], "a rule that is not a table")
  t.ok(not br.ok, "broken rules make the report not ok")
  t.eq(br.counts.rule_errors, #br.rule_errors, "counts.rule_errors")
  t.eq(#br.errors, 0, "and they are not data errors")
  t.ok(tostring(br):find("BROKEN  syntax", 1, true), "the text shows broken rules")
end)

-- ---- keys and foreign keys ----------------------------------------------------------------------

local subsidy = jp.dataset{
  name = "subsidy", fields = { { name = "degree", type = "string" }, { name = "amount", type = "integer", unit = "CNY" } },
  rows = { { degree = "doctor", amount = 200000 }, { degree = "master", amount = 100000 },
    { degree = "bachelor", amount = 50000 } },
}
t.case("keys and foreign keys", function()
  local people = jp.dataset{
    name = "people", fields = { { name = "id", type = "integer" }, { name = "degree", type = "string" } },
    rows = { { id = 1, degree = "doctor" }, { id = 2, degree = "phd" }, { id = 2, degree = "master" },
      { id = 3, degree = nil } },
  }
  local kr = people:validate({
    { primary_key = { "id" } },
    { name = "fk", foreign_key = { fields = "degree", reference = { dataset = "subsidy", fields = "degree" } } },
    { name = "fk_missing", foreign_key = { fields = "degree", reference = { dataset = "nowhere" } } },
    { name = "fk_self", foreign_key = { fields = "id", reference = { fields = "id" } } },
  }, { datasets = { subsidy } })
  t.eq(rows_of(kr, "primary_key"), { 3 }, "primary key repeat")
  t.eq(rows_of(kr, "fk"), { 2 }, "foreign key into another dataset; null degree skipped")
  t.ok(kr.errors[#kr.errors].message:find("not found in subsidy", 1, true), "foreign key message")
  t.ok(kr.rule_errors[1] and kr.rule_errors[1].rule == "fk_missing", "a missing referenced dataset is a broken rule")
  t.eq(rows_of(kr, "fk_self"), {}, "reference without dataset = the dataset itself")
end)

-- ---- a cross-dataset rule: the graduate subsidy ------------------------------------------------

t.case("a cross-dataset rule", function()
  local grads = jp.dataset{
    name = "graduates", fields = { { name = "what", type = "string" }, { name = "value", type = "number" } },
    rows = { { what = "graduates", value = 363 }, { what = "years", value = 5 }, { what = "paid", value = 6840000 } },
  }
  local function subsidy_rule(paid_row)
    return {
      name = "funds_between", needs = { "subsidy" },
      reason = "a year's payments lie between all-bachelor and all-doctor",
      dataset = function(ds, ctx)
        local fig = {}
        for row in ds:rows() do fig[row.what] = row.value end
        local amount = {}
        for row in ctx.datasets.subsidy:rows() do amount[row.degree] = row.amount end
        local low = fig.graduates * amount.bachelor / fig.years
        local high = fig.graduates * amount.doctor / fig.years
        if fig.paid < low or fig.paid > high then
          return { { row = paid_row, field = "value",
            message = string.format("paid %.0f is outside %.0f..%.0f", fig.paid, low, high) } }
        end
        return true
      end,
    }
  end
  local cr = grads:validate({ subsidy_rule(3) }, { datasets = { subsidy = subsidy } })
  t.ok(cr.ok, "363 x 50000/5 = 3.63M <= 6.84M <= 363 x 200000/5 = 14.52M")
  local cr_missing = grads:validate({ subsidy_rule(3) })
  t.eq(rule_of(cr_missing, "funds_between").status, "skipped", "a cross-dataset rule without its dataset is skipped")
  local bad_grads = jp.dataset{
    name = "graduates", fields = { { name = "what", type = "string" }, { name = "value", type = "number" } },
    rows = { { what = "graduates", value = 363 }, { what = "years", value = 5 }, { what = "paid", value = 16840000 } },
  }
  local cr_bad = bad_grads:validate({ subsidy_rule(3) }, { datasets = { subsidy } })
  t.eq(rows_of(cr_bad, "funds_between"), { 3 }, "16.84M paid is more than all doctors could get")
  t.eq(cr_bad.errors[1].message, "paid 16840000 is outside 3630000..14520000", "cross-dataset message")
end)

-- ---- the report: text, JSON, quarantine ------------------------------------------------------------

t.case("the report: text JSON quarantine", function()
  local txt = tostring(r)
  t.ok(txt:find("^farms: 5 rows, %d+ rules: FAILED %(%d+ errors%)"), "text heading")
  t.ok(txt:find("ERROR   area.maximum: maximum 1500 on 'area' (2 of 5 rows fail)", 1, true), "rule heading with counts")
  t.ok(txt:find("row 5, field 'area': >1500 is above the maximum 1500 whatever its exact value (more_than)", 1, true),
    "issue line")
  t.ok(not txt:find("\n$"), "tostring has no final newline")
  t.ok(r:text(1):find("... and 1 more", 1, true), "text with a limit per rule")

  local ok_json, doc = pcall(json_decode, r:json())
  t.ok(ok_json, "report:json() is valid JSON" .. (ok_json and "" or (": " .. tostring(doc))))
  if ok_json then
    t.eq(doc.dataset, "farms", "json dataset")
    t.eq(doc.ok, false, "json ok")
    t.eq(doc.rows, 5, "json rows")
    t.eq(#doc.errors, #r.errors, "json errors")
    t.eq(doc.errors[1].message, r.errors[1].message, "json message")
    t.eq(doc.counts.by_rule["area.maximum"], 2, "json counts")
    t.eq(#doc.rules, #r.rules, "json rules")
    t.eq(doc.rules[1].status, r.rules[1].status, "json rule status")
  end
  local ok_json2, doc2 = pcall(json_decode, br:json())
  t.ok(ok_json2 and #doc2.rule_errors == #br.rule_errors, "json of broken rules")
  t.ok(jp._json_string('a"b\n樱') == '"a\\"b\\n樱"', "json strings: escapes, UTF-8 through")

  local qd = r:quarantine()
  t.ok(jp.is_dataset(qd), "quarantine is a dataset")
  local qrows = {}
  for row in qd:rows() do qrows[#qrows + 1] = row._row end
  t.eq(qrows, { 1, 2, 3, 4, 5 }, "every row with an error, once, in order")
  t.eq(qd:row(3)._rules, "area.maximum; code.unique; firms.required; since.maximum",
    "the rules a row fails, in the order of the report")
  t.eq(qd:row(2).area, -5, "original fields kept")
  t.ok(rawequal(r.failed, r.failed) and #r.failed == 5, "report.failed is the quarantine (cached)")
  t.eq(#mr:quarantine(true), 3, "quarantine with warnings")
  t.eq(#mr:quarantine(), 2, "quarantine of errors only")
end)

-- ---- data from a file: file and line in every issue ---------------------------------------------------

t.case("data from a file: file and line in every issue", function()
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write("a,b\n1,x\n2,y\n-3,z\n")
  f:close()
  local csv = jp.read_csv(tmp)
  local fr = csv:validate{ a = { minimum = 0 } }
  t.eq(fr.errors[1].file, tmp, "file of the issue")
  t.eq(fr.errors[1].line, 4, "line of the row in the file")
  t.ok(tostring(fr):find(tmp .. ":4: row 3, field 'a': -3 is below the minimum 0", 1, true), "file:line in the text")
  os.remove(tmp)
end)

-- ---- a numeric bound on a column read as text: numbers, never strings -----------------------------

tmp = os.tmpname()
f = assert(io.open(tmp, "w"))
f:write("id,v\n1,3\n2,12\n3,abc\n4,约7696\n5,\n6,10余\n7,9.5\n")
f:close()
local txt = jp.read_csv(tmp)
t.eq(txt:schema().fields[2].type, "string", "the column is text")
for _, rules in ipairs({ { v = { maximum = 10 } }, { v = { type = "number", maximum = "10" } } }) do
  local tr = txt:validate(rules)
  t.eq(rows_of(tr, "v.maximum"), { 2, 3, 4, 6 }, "3 and 9.5 are not above 10; 12, abc, 约7696, 10余 are")
  local text = tostring(tr)
  t.ok(text:find("'abc' is not a number: it cannot be checked against the maximum 10", 1, true), text)
  t.ok(text:find("'10余' is above the maximum 10 whatever its exact value (more_than)", 1, true), text)
end
t.eq(rows_of(txt:validate{ v = { minimum = 5 } }, "v.minimum"), { 1, 3 }, "minimum: 3 and abc")
do -- the same from a YAML schema: an unquoted number bound on a text field
  local y = os.tmpname()
  local yf = assert(io.open(y, "w"))
  yf:write("jinpu: 1\nname: codes\nfields:\n  - {name: v, type: string, constraints: {maximum: 10}}\n",
    "rows:\n  - {v: '3'}\n  - {v: '12'}\n  - {v: '9.5'}\n")
  yf:close()
  local yr = jp.load(y):validate()
  os.remove(y)
  t.eq(rows_of(yr, "v.maximum"), { 2 }, "YAML: only 12 is above 10")
end
-- a bound written as text on a text field is a text bound (byte order), as written
t.eq(rows_of(txt:validate{ v = { maximum = "5" } }, "v.maximum"), { 3, 4, 7 }, "text bound")
os.remove(tmp)

-- ---- generated data ------------------------------------------------------------------------------

t.case("generated data", function()
  local n = 20000
  local ids, vals, cats = {}, {}, {}
  for i = 1, n do
    ids[i] = i % 1000 == 0 and 1 or i
    vals[i] = (i % 97 == 0) and -1 or (i % 50)
    cats[i] = ({ "a", "b", "c", "zz" })[i % 4 + 1]
  end
  local big = jp.dataset{ name = "big", columns = { id = ids, v = vals, cat = cats } }
  local gr = big:validate{ id = { unique = true }, v = { minimum = 0 }, cat = { enum = { "a", "b", "c" } } }
  t.eq(gr.counts.by_rule["id.unique"], n // 1000, "generated: repeats of id 1")
  t.eq(gr.counts.by_rule["v.minimum"], n // 97, "generated: negative values")
  t.eq(gr.counts.by_rule["cat.enum"], n // 4, "generated: values outside the enum")
end)

-- ---- rule packs on the bundled datasets ---------------------------------------------------------------

local names_list = { "cherry", "ip", "workforce", "economy" }
local bundled = {}
for i, name in ipairs(names_list) do bundled[i] = jp.load("datasets/" .. name .. ".yaml") end
t.case("rule packs on the bundled datasets", function()
  local reports, all_ok = V.validate_all(bundled)
  t.ok(all_ok, "the bundled datasets pass their schemas and packs")
  for i, rep in ipairs(reports) do
    local pack_rules = 0
    for _, ru in ipairs(rep.rules) do
      if ru.name:find("^" .. names_list[i] .. "%.") then
        pack_rules = pack_rules + 1
        t.ok(ru.reason and #ru.reason > 20, "pack rule " .. ru.name .. " says why")
        t.ok(ru.status == "passed", "pack rule " .. ru.name .. " passes: " .. tostring(ru.message))
      end
    end
    t.ok(pack_rules >= 4, names_list[i] .. ": the pack runs by default")
  end
  t.eq(V.pack_names(), { "cherry", "economy", "ip", "workforce" }, "the packs")
  local nopack = bundled[1]:validate(nil, { pack = false })
  for _, ru in ipairs(nopack.rules) do t.ok(not ru.name:find("^cherry%."), "pack = false") end
  t.ok(V.default(bundled[4], bundled).ok, "the function the demo calls")
  t.ok(V.summary(reports):find("4 of 4 datasets valid", 1, true), "summary")
  local map = {}
  for i, name in ipairs(names_list) do map[name] = bundled[i] end
  local breps, bok, btext = V.bundled(map)
  t.ok(bok and #breps == 4 and btext:find("4 of 4 datasets valid", 1, true), "V.bundled for the demo")
  t.eq(breps[1].dataset, "cherry", "V.bundled orders by name")
end)

-- a corrupted figure fails the pack rule and names the rows
t.case("a corrupted figure fails the pack rule", function()
  local ch = jp.dataset{
    name = "cherry", fields = bundled[1]:schema().fields,
    rows = (function()
      local rows = {}
      for row in bundled[1]:rows() do
        if row.indicator == "planted_area" then row.value = 1480 end
        rows[#rows + 1] = row
      end
      return rows
    end)(),
  }
  local chr = ch:validate()
  t.ok(not chr.ok, "cherry with 1480 mu planted fails")
  t.eq(rows_of(chr, "cherry.yield_per_mu"), { 2, 1 }, "the yield rule names both figures' rows")
end)

-- ds:validate and jp.validate are the same
t.case("ds:validate and jp.validate are the same", function()
  t.ok(jp.validate(bundled[2]).ok, "jp.validate")
  t.raises(function() jp.validate(42) end, "dataset", "jp.validate needs a dataset")
end)

t.case("cells not of their type: kept aside by jp.load, reported by validate", function()
  local tmp = os.tmpname()
  local f = assert(io.open(tmp, "w"))
  f:write("jinpu: 1\nname: c\nfields:\n  - {name: k, type: string}\n",
    "  - {name: v, type: number, constraints: {required: true, minimum: 0}}\n",
    "rows:\n  - {k: a, v: 1}\n  - {k: b, v: twenty-five-thousand}\n  - {k: c, v: -1}\n",
    "  - {k: d, v: [1]}\n  - {k: e}\n")
  f:close()
  t.raises(function() jp.load(tmp) end, "row 2, field 'v': 'twenty%-five%-thousand' is not a number",
    "a plain load stops at the first bad cell")
  local ds, bad = jp.load(tmp, { cell_errors = true })
  t.eq(#ds, 5, "every row read")
  t.eq(ds:column("v"):totable(), { 1, nil, -1, nil, nil }, "bad cells are null")
  t.eq(#bad, 2, "two cells kept aside")
  t.eq(bad.total, 2, "the total")
  t.eq({ bad[1].file, bad[1].line, bad[1].col, bad[1].row, bad[1].field }, { tmp, 8, 15, 2, "v" },
    "where the first is")
  t.eq(bad[2].message, "expected one value, found a list", "the reader's message")
  local r = ds:validate(nil, { cell_errors = bad })
  t.eq(rows_of(r, "v.type"), { 2, 4 }, "each bad cell is an error of v.type")
  t.eq(rows_of(r, "v.required"), { 5 }, "only the cell that is really missing is missing")
  t.eq(rows_of(r, "v.minimum"), { 3 }, "the other constraints still run")
  t.ok(not r.ok, "the report fails")
  local clean = ds:validate()
  t.eq(rows_of(clean, "v.required"), { 2, 4, 5 }, "without the list the nulls are just nulls")
  os.remove(tmp)
end)

t.case("CSV cells not of their schema type: kept aside by jp.read_csv, reported by validate", function()
  local tmp = os.tmpname() .. ".csv"
  local f = assert(io.open(tmp, "w"))
  f:write("k,v,y\na,1,2020\nb,twenty-five-thousand,2021\n", 'c,"-1",20x2\n', "d,,2023\ne,3万,nineteen\n")
  f:close()
  local schema = { fields = { { name = "v", type = "number", constraints = { required = true, minimum = 0 } },
    { name = "y", type = "integer" } } }
  t.raises(function() jp.read_csv(tmp, { schema = schema }) end,
    ":3:3: row 2, field 'v': 'twenty%-five%-thousand' is not a number", "a plain read stops at the first")
  local ds, bad = jp.read_csv(tmp, { schema = schema, cell_errors = true })
  t.eq(#ds, 5, "every row read")
  t.eq(ds:column("v"):totable(), { 1, nil, -1, nil, 30000 }, "bad cells are null")
  t.eq(#bad, 3, "three cells kept aside")
  t.eq({ bad[1].file, bad[1].line, bad[1].col, bad[1].row, bad[1].field }, { tmp, 3, 3, 2, "v" },
    "where the first is")
  t.eq({ bad[2].line, bad[2].row, bad[2].field, bad[3].line, bad[3].field }, { 4, 3, "y", 6, "y" },
    "in file order")
  local r = ds:validate(nil, { cell_errors = bad })
  t.eq(rows_of(r, "v.type"), { 2 }, "v's bad cell")
  t.eq(rows_of(r, "y.type"), { 3, 5 }, "y's bad cells")
  t.eq(rows_of(r, "v.required"), { 4 }, "only the cell that is really missing is missing")
  t.eq(rows_of(r, "v.minimum"), { 3 }, "the other constraints still run")
  t.ok(not r.ok, "the report fails")
  os.remove(tmp)
end)

t.done()
