-- plugins/jinpu_stats/obs.lua - building blocks of the rule packs for
-- "observation" tables (one row per figure: indicator, subject, period,
-- value with its qualifier, unit; see docs/datasets.md).
--
-- A pack rule compares figures: a ratio that must fall in a plausible band,
-- a part that must not exceed its whole, amounts that must be ordered.
-- Figures printed with a qualifier are intervals, read strictly:
--   exact v: [v, v]              approx v: [v - t|v|, v + t|v|] (t = tolerance)
--   at_least/more_than v: [v, inf)      at_most/less_than v: [0, v] (figures are >= 0)
-- A rule FAILS (error) when every value the intervals allow breaks it; it
-- is DOUBTFUL (warning) when the printed figures break it but their
-- qualifiers leave room; it passes when the printed figures keep it.  The
-- same reading as minimum/maximum in C (docs/validation.md).
local jp = require("jinpu")

local O = {}

local INF = math.huge

-- ---- figures ------------------------------------------------------------------------

local cache = setmetatable({}, { __mode = "k" })

-- Index of an observation table: key "indicator|subject|period" -> figure,
-- and indicator -> list of figures.  nil when ds is not one.
function O.index(ds)
  local idx = cache[ds]
  if idx ~= nil then return idx or nil end
  local names = {}
  for _, n in ipairs(ds:names()) do names[n] = true end
  if not (names.indicator and names.value and names.unit) then
    cache[ds] = false
    return nil
  end
  idx = { by_key = {}, by_ind = {} }
  for r, i in ds:rows() do
    if r.indicator and r.value then
      local f = {
        indicator = r.indicator, subject = r.subject, period = r.period and tostring(r.period),
        value = r.value, qual = jp.qualifier(r, "value"), unit = r.unit, row = i,
      }
      local list = idx.by_ind[f.indicator]
      if not list then list = {}; idx.by_ind[f.indicator] = list end
      list[#list + 1] = f
      idx.by_key[f.indicator .. "|" .. (f.subject or "") .. "|" .. (f.period or "")] = f
    end
  end
  cache[ds] = idx
  return idx
end

-- The figure of (indicator, subject, period) in ds; subject nil = none;
-- period nil = the only figure of that indicator and subject.  nil and a
-- reason when there is none (or more than one).
function O.get(ds, indicator, subject, period)
  local idx = O.index(ds)
  if not idx then return nil, "not an observation table" end
  if period then
    local f = idx.by_key[indicator .. "|" .. (subject or "") .. "|" .. period]
    if f then return f end
    return nil, string.format("no figure %s%s for %s", indicator, subject and ("/" .. subject) or "", period)
  end
  local found
  for _, f in ipairs(idx.by_ind[indicator] or {}) do
    if f.subject == subject then
      if found then return nil, "more than one figure " .. indicator .. (subject and ("/" .. subject) or "") end
      found = f
    end
  end
  if not found then return nil, "no figure " .. indicator .. (subject and ("/" .. subject) or "") end
  return found
end

-- The interval of values a figure allows.
function O.range(f, tol)
  local v, q = f.value, f.qual
  if q == "approx" then
    local d = math.abs(v) * tol
    return v - d, v + d
  elseif q == "at_least" or q == "more_than" then
    return v, INF
  elseif q == "at_most" or q == "less_than" then
    return math.min(0, v), v
  end
  return v, v
end

local SYMBOL = { exact = "", approx = "~", at_least = ">=", more_than = ">", at_most = "<=", less_than = "<" }

-- A number for messages: whole numbers in full, others to 4 significant digits.
function O.num(x)
  if x == INF then return "inf" end
  if x == -INF then return "-inf" end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format("%.0f", x) end
  return string.format("%.4g", x)
end

-- "indicator[/subject] ~1140000000 USD (row 9)"
function O.text(f)
  return string.format("%s%s %s%s %s (row %d)", f.indicator, f.subject and ("/" .. f.subject) or "",
    SYMBOL[f.qual] or "", O.num(f.value), f.unit or "", f.row)
end

-- A quantity with its printed estimate and the interval its figures allow.
local function q(est, lo, hi) return { est = est, lo = lo, hi = hi } end

function O.figure(f, tol)
  local lo, hi = O.range(f, tol)
  return q(f.value, lo, hi)
end

local function div(a, b)
  local est = b.est ~= 0 and a.est / b.est or INF
  local lo = b.hi > 0 and (b.hi == INF and 0 or a.lo / b.hi) or 0
  local hi = b.lo > 0 and a.hi / b.lo or INF
  return q(est, lo, hi)
end

local function mul(a, b)
  local function m(x, y) if x == 0 or y == 0 then return 0 end return x * y end
  return q(a.est * b.est, m(a.lo, b.lo), m(a.hi, b.hi))
end

local function scale(a, k) return q(a.est * k, a.lo * k, a.hi * k) end

O.div, O.mul, O.scale = div, mul, scale

-- Where a quantity stands against [min, max]: nil (within), "fail"
-- (certain) or "doubt" (the printed figures are outside, the qualifiers
-- leave room).
function O.judge(x, min, max)
  min, max = min or -INF, max or INF
  if x.hi < min or x.lo > max then return "fail" end
  if x.est < min or x.est > max then return "doubt" end
  return nil
end

-- ---- rule builders ------------------------------------------------------------------------

-- A figure reference: { "indicator", subject = ..., period = ..., dataset = ... }.
local function ref_text(r)
  return r[1] .. (r.subject and ("/" .. r.subject) or "") .. (r.dataset and (" in " .. r.dataset) or "")
end

-- Look every reference up; nil and why when one is missing.
local function lookup(ds, ctx, refs)
  local out = {}
  for k, r in ipairs(refs) do
    local d = r.dataset and ctx.datasets[r.dataset] or ds
    if not d then return nil, "needs dataset '" .. r.dataset .. "'" end
    local f, why = O.get(d, r[1], r.subject, r.period)
    if not f then return nil, why end
    local copy = { dataset = r.dataset } -- the index is shared: never write into it
    for key, val in pairs(f) do copy[key] = val end
    copy.dataset = r.dataset
    out[k] = copy
  end
  return out
end

local function needs_of(refs)
  local needs, seen = {}, {}
  for _, r in ipairs(refs) do
    if r.dataset and not seen[r.dataset] then
      seen[r.dataset] = true
      needs[#needs + 1] = r.dataset
    end
  end
  return #needs > 0 and needs or nil
end

-- The failures of a rule over figures: one at each row of the validated
-- dataset that takes part (any of them may be the wrong one), or one for
-- the dataset as a whole when none does.
local function failures(figs, message, doubtful)
  local out, seen = {}, {}
  for _, f in ipairs(figs) do
    if not f.dataset and not seen[f.row] then
      seen[f.row] = true
      out[#out + 1] = { row = f.row, field = "value", message = message, doubtful = doubtful }
    end
  end
  if #out == 0 then out[1] = { message = message, doubtful = doubtful } end
  return out
end

local function range_text(x, unit)
  if x.lo == x.hi then return O.num(x.est) .. unit end
  return O.num(x.lo) .. ".." .. O.num(x.hi) .. unit
end

-- A derived quantity must lie in a plausible band.
--   { name, reason, what = "output value per tonne", unit = "CNY/t",
--     refs = {ref, ...}, of = function(q1, q2, ...) -> quantity, min = a, max = b }
-- `of` combines the figures' quantities with O.div, O.mul, O.scale.
function O.band(spec)
  local refs = spec.refs
  local unit = spec.unit and (" " .. spec.unit) or ""
  return {
    name = spec.name, reason = spec.reason, severity = spec.severity, needs = needs_of(refs),
    doc = string.format("%s within %s..%s%s", spec.what, O.num(spec.min or -INF), O.num(spec.max or INF), unit),
    dataset = function(ds, ctx)
      local figs, why = lookup(ds, ctx, refs)
      if not figs then return nil, why end
      local qs = {}
      for i, f in ipairs(figs) do qs[i] = O.figure(f, ctx.tolerance) end
      local x = spec.of(table.unpack(qs))
      local verdict = O.judge(x, spec.min, spec.max)
      if not verdict then return true end
      local parts = {}
      for _, f in ipairs(figs) do parts[#parts + 1] = O.text(f) end
      local msg = string.format("%s is %s%s (from %s); plausible: %s..%s%s", spec.what, O.num(x.est), unit,
        table.concat(parts, ", "), O.num(spec.min or -INF), O.num(spec.max or INF), unit)
      if verdict == "doubt" then
        msg = msg .. string.format("; the qualifiers allow %s, so this is not certain", range_text(x, unit))
      elseif x.lo ~= x.hi then
        msg = msg .. string.format(" whatever the exact figures (they allow %s)", range_text(x, unit))
      end
      return failures(figs, msg, verdict == "doubt")
    end,
  }
end

-- The common case: num / den (* factor) in a band.
function O.ratio(spec)
  local k = spec.factor or 1
  local s = {}
  for key, v in pairs(spec) do s[key] = v end
  s.refs = { spec.num, spec.den }
  s.of = function(a, b) return scale(div(a, b), k) end
  return O.band(s)
end

-- A part must not exceed its whole: { name, reason, part = ref, whole = ref }.
function O.part(spec)
  local refs = { spec.part, spec.whole }
  return {
    name = spec.name, reason = spec.reason, severity = spec.severity, needs = needs_of(refs),
    doc = ref_text(spec.part) .. " <= " .. ref_text(spec.whole),
    dataset = function(ds, ctx)
      local figs, why = lookup(ds, ctx, refs)
      if not figs then return nil, why end
      local p, w = O.figure(figs[1], ctx.tolerance), O.figure(figs[2], ctx.tolerance)
      local verdict = (p.lo > w.hi and "fail") or (p.est > w.est and "doubt") or nil
      if not verdict then return true end
      local msg = string.format("%s exceeds %s, of which it is a part", O.text(figs[1]), O.text(figs[2]))
      if verdict == "doubt" then msg = msg .. " (as printed; the qualifiers leave room)" end
      return failures(figs, msg, verdict == "doubt")
    end,
  }
end

-- Amounts strictly decreasing in the order given: { name, reason, order = {ref, ref, ...} }.
function O.order(spec)
  local refs = spec.order
  return {
    name = spec.name, reason = spec.reason, severity = spec.severity, needs = needs_of(refs),
    doc = (function()
      local t = {}
      for i, r in ipairs(refs) do t[i] = ref_text(r) end
      return table.concat(t, " > ")
    end)(),
    dataset = function(ds, ctx)
      local figs, why = lookup(ds, ctx, refs)
      if not figs then return nil, why end
      local out = {}
      for i = 1, #figs - 1 do
        local a, b = O.figure(figs[i], ctx.tolerance), O.figure(figs[i + 1], ctx.tolerance)
        local verdict = (a.hi <= b.lo and "fail") or (a.est <= b.est and "doubt") or nil
        if verdict then
          local msg = string.format("%s is not above %s", O.text(figs[i]), O.text(figs[i + 1]))
          for _, f in ipairs(failures({ figs[i], figs[i + 1] }, msg, verdict == "doubt")) do out[#out + 1] = f end
        end
      end
      return out
    end,
  }
end

-- A printed share must agree with its part and whole:
--   { name, reason, share = ref (percent), part = ref, whole = ref, slack = pp }
-- slack: percentage points allowed for the rounding of the printed share.
function O.share(spec)
  local refs = { spec.share, spec.part, spec.whole }
  local slack = spec.slack or 0.1
  return {
    name = spec.name, reason = spec.reason, severity = spec.severity, needs = needs_of(refs),
    doc = string.format("%s = 100 * %s / %s (within %s points)", ref_text(spec.share), ref_text(spec.part),
      ref_text(spec.whole), O.num(slack)),
    dataset = function(ds, ctx)
      local figs, why = lookup(ds, ctx, refs)
      if not figs then return nil, why end
      local s = O.figure(figs[1], ctx.tolerance)
      local x = scale(div(O.figure(figs[2], ctx.tolerance), O.figure(figs[3], ctx.tolerance)), 100)
      local verdict
      if s.hi + slack < x.lo or s.lo - slack > x.hi then verdict = "fail"
      elseif math.abs(s.est - x.est) > slack then verdict = "doubt" end
      if not verdict then return true end
      return failures(figs, string.format("%s does not agree with %s / %s = %s percent (allowed: %s points "
        .. "for rounding)", O.text(figs[1]), O.text(figs[2]), O.text(figs[3]), O.num(x.est), O.num(slack)),
        verdict == "doubt")
    end,
  }
end

-- A figure must lie between two derived quantities:
--   { name, reason, what, figure = ref, low = function(figs, q) -> quantity,
--     high = function(...) -> quantity, refs = {ref, ...} (looked up for low/high) }
function O.between(spec)
  local refs = { spec.figure }
  for _, r in ipairs(spec.refs) do refs[#refs + 1] = r end
  return {
    name = spec.name, reason = spec.reason, severity = spec.severity, needs = needs_of(refs),
    doc = spec.what,
    dataset = function(ds, ctx)
      local figs, why = lookup(ds, ctx, refs)
      if not figs then return nil, why end
      local qs = {}
      for i, f in ipairs(figs) do qs[i] = O.figure(f, ctx.tolerance) end
      local x = qs[1]
      local lo = spec.low(table.unpack(qs, 2))
      local hi = spec.high(table.unpack(qs, 2))
      local verdict
      if x.hi < lo.lo or x.lo > hi.hi then verdict = "fail"
      elseif x.est < lo.est or x.est > hi.est then verdict = "doubt" end
      if not verdict then return true end
      local parts = {}
      for i = 2, #figs do parts[#parts + 1] = O.text(figs[i]) end
      return failures(figs, string.format("%s is outside %s..%s %s: it should be %s (from %s)", O.text(figs[1]),
        O.num(lo.est), O.num(hi.est), figs[1].unit or "", spec.what, table.concat(parts, ", ")),
        verdict == "doubt")
    end,
  }
end

-- ---- rules for every observation table ------------------------------------------------------

local COUNT_UNITS = { person = true, firm = true, item = true, project = true, rank = true, level = true }

local function quote(s) return "'" .. s:gsub("'", "\\'") .. "'" end

-- "indicator == 'a' or indicator == 'b'" for the indicators of ds that
-- satisfy pred(indicator, unit); nil when there are none.
local function where_indicators(ds, pred)
  local idx = O.index(ds)
  if not idx then return nil end
  local names = {}
  for ind, list in pairs(idx.by_ind) do
    if pred(ind, list[1].unit) then names[#names + 1] = ind end
  end
  if #names == 0 then return nil end
  table.sort(names)
  for i, n in ipairs(names) do names[i] = "indicator == " .. quote(n) end
  return table.concat(names, " or ")
end

-- The rules that hold for any observation table, whatever its domain.
-- `prefix` names them ("cherry." -> "cherry.share_range").
function O.common(ds, prefix)
  local rules = {}
  if not O.index(ds) then return rules end
  local function add(r) rules[#rules + 1] = r end
  local shares = where_indicators(ds, function(ind, unit) return ind:match("_share$") and unit == "percent" end)
  if shares then
    add { name = prefix .. "share_range", field = "value", where = shares, minimum = 0, maximum = 100,
      reason = "a share is a part of a whole in percent: it lies within 0-100" }
  end
  local growth = where_indicators(ds, function(ind, unit) return ind:match("_growth$") and unit == "percent" end)
  if growth then
    add { name = prefix .. "growth_floor", field = "value", where = growth, minimum = -100,
      reason = "a level cannot fall by more than all of it: growth is above -100 percent" }
    add { name = prefix .. "growth_plausible", field = "value", where = growth, maximum = 1000, severity = "warning",
      reason = "year-on-year growth beyond tenfold is almost always a misplaced decimal or a 倍 (times) read as percent" }
  end
  local growth_units = where_indicators(ds, function(ind) return ind:match("_growth$") ~= nil end)
  if growth_units then
    add { name = prefix .. "growth_in_percent", expr = "unit == 'percent'", where = growth_units,
      reason = "a growth rate compares a level with an earlier one: it is a percentage, not an amount" }
  end
  local counts = where_indicators(ds, function(_, unit) return COUNT_UNITS[unit] end)
  if counts then
    add { name = prefix .. "whole_counts", expr = "floor(value) == value", where = counts,
      reason = "people, firms, items, projects, ranks and levels come in whole numbers" }
  end
  local ranks = where_indicators(ds, function(_, unit) return unit == "rank" or unit == "level" end)
  if ranks then
    add { name = prefix .. "rank_from_one", field = "value", where = ranks, minimum = 1,
      reason = "ranks and grades are counted from 1" }
  end
  return rules
end

-- A pack: common rules followed by the domain's own.
function O.pack(name, description, domain_rules)
  return {
    name = name,
    description = description,
    rules = function(ds)
      local rules = O.common(ds, name .. ".")
      for _, r in ipairs(domain_rules) do rules[#rules + 1] = r end
      return rules
    end,
    list = domain_rules,
  }
end

return O
