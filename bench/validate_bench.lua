-- bench/validate_bench.lua - how long validation takes over a million rows.
--
--   jinpu run bench/validate_bench.lua [ROWS] [CSV]
--
-- Builds ROWS rows (default 1000000) in memory, or reads CSV (with columns
-- id, region, code, value, share), and times ds:validate with the
-- constraints analysts use most: unique ids, a required field, an enum and
-- an anchored pattern over strings, minimum/maximum over numbers,
-- maxLength, a two-field primary key and an expression rule.  Prints one
-- line per phase and a total, and checks the number of failures found
-- against the number planted (exit 1 when they differ).  Generation time is
-- not counted.
local jp = require("jinpu")

local n = math.tointeger(tonumber(arg and arg[1] or "") or 1000000) or 1000000
local csv = arg and arg[2]

local function now() return os.clock() end

local ds, planted
if csv then
  ds = jp.read_csv(csv)
else
  local regions = {}
  for k = 1, 50 do regions[k] = string.format("R%02d", k) end
  local id, region, code, value, share = {}, {}, {}, {}, {}
  planted = { dup = 0, neg = 0, bad_region = 0, bad_code = 0, over = 0 }
  for i = 1, n do
    local dup = i % 10007 == 0
    id[i] = dup and i - 1 or i
    if dup then planted.dup = planted.dup + 1 end
    if i % 9973 == 0 then
      region[i] = "XX"
      planted.bad_region = planted.bad_region + 1
    else
      region[i] = regions[i % 50 + 1]
    end
    if i % 4999 == 0 then
      code[i] = "bad-" .. i
      planted.bad_code = planted.bad_code + 1
    else
      code[i] = string.format("C%05d", i % 20000)
    end
    if i % 1009 == 0 then
      value[i] = -1.5
      planted.neg = planted.neg + 1
    else
      value[i] = (i % 1000) * 1.25
    end
    if i % 2003 == 0 then
      share[i] = 101.0
      planted.over = planted.over + 1
    else
      share[i] = (i % 100) + 0.5
    end
  end
  ds = jp.dataset{
    name = "bench",
    fields = {
      { name = "id", type = "integer" }, { name = "region", type = "string" },
      { name = "code", type = "string" }, { name = "value", type = "number" },
      { name = "share", type = "number" },
    },
    columns = { id = id, region = region, code = code, value = value, share = share },
  }
end

local regions = {}
for k = 1, 50 do regions[k] = string.format("R%02d", k) end

local phases = {
  { "unique integer id", { id = { unique = true, required = true } } },
  { "enum + pattern over 50 strings", { region = { enum = regions, pattern = "R[0-9]{2}" } } },
  { "pattern + maxLength over 20k strings", { code = { pattern = "C[0-9]{5}", maxLength = 6 } } },
  { "minimum + maximum", { value = { minimum = 0, maximum = 1250 } } },
  { "expression rule", { { name = "share_le_100", expr = "share <= 100" } } },
  { "primary key (id, region)", { { primary_key = { "id", "region" } } } },
}

local rows = #ds
print(string.format("validation over %d rows", rows))
local total, all = 0, {}
for _, ph in ipairs(phases) do
  local t0 = now()
  local r = ds:validate(ph[2], { pack = false })
  local dt = now() - t0
  total = total + dt
  print(string.format("  %-38s %7.3f s  %6d issues", ph[1], dt, #r))
  for k, c in pairs(r.counts.by_rule) do all[k] = c end
end

-- everything at once, as `jinpu validate` would run it
local rules = {}
for _, ph in ipairs(phases) do
  for k, v in pairs(ph[2]) do
    if type(k) == "string" then rules[k] = v else rules[#rules + 1] = v end
  end
end
local t0 = now()
local r = ds:validate(rules, { pack = false })
local dt = now() - t0
print(string.format("  %-38s %7.3f s  %6d issues (%d rules)", "all of it in one report", dt, #r, r.counts.rules))

local status = 0
if planted then
  local function check(rule, want)
    local got = r.counts.by_rule[rule] or 0
    if got ~= want then
      print(string.format("MISMATCH %s: found %d, planted %d", rule, got, want))
      status = 1
    end
  end
  check("id.unique", planted.dup)
  check("region.enum", planted.bad_region)
  check("region.pattern", planted.bad_region)
  check("code.pattern", planted.bad_code)
  check("value.minimum", planted.neg)
  check("share_le_100", planted.over)
end
print(string.format("validate_bench: %d rows, %d rules, %.3f s%s", rows, r.counts.rules, dt,
  status == 0 and "" or " (MISMATCH)"))
os.exit(status)
