-- lua/jinpu/validate.lua - what ds:validate(rules, opts) runs, in which
-- order, and how rules written in Lua become entries of the report.
--
-- The checks over columns run in C (src/core/jp_validate*.c, through the
-- validator object of src/bind/lua_validate.c); this module reads the
-- rule tables people write, runs the rules that are Lua functions, picks
-- the default rule pack of a bundled dataset, and never lets one broken
-- rule stop the others: a rule that is malformed or raises becomes a
-- "broken" entry of the report, named.  docs/validation.md is the manual.
local jp = require("jinpu")

local M = {}

M.APPROX_TOLERANCE = 0.05

-- ---- rule packs ---------------------------------------------------------------

-- name -> pack (a table { name=, description=, rules = list or function(ds) }).
-- Packs come from plugins (jp.register_rules; the domain packs of the
-- bundled datasets are the shipped plugin jinpu_stats) and are loaded when
-- first asked for by name; M.register_pack adds one directly.
local packs = {}

function M.register_pack(name, pack)
  assert(type(name) == "string", "register_pack: name must be a string")
  assert(type(pack) == "table", "register_pack: pack must be a table")
  packs[name] = pack
end

-- The pack for a dataset name, or nil.  A pack that fails to load raises:
-- that is a bug in jinpu or a plugin, not in the data.
function M.pack(name)
  if type(name) ~= "string" or not name:match("^[%w_]+$") then return nil end
  if packs[name] then return packs[name] end
  if jp._need and jp._need("rules", name) and packs[name] then return packs[name] end
  local mod = "jinpu.rules." .. name
  if not package.preload[mod] and not package.loaded[mod] then return nil end
  local pack = require(mod)
  if type(pack) ~= "table" then return nil end
  packs[name] = pack
  return pack
end

-- Names of the packs this build ships (for `jinpu validate --help` and docs).
function M.pack_names()
  local names, seen = {}, {}
  for k in pairs(packs) do names[#names + 1] = k; seen[k] = true end
  for _, p in ipairs(jp.plugins and jp.plugins() or {}) do
    if p.state ~= "shadowed" then
      for _, n in ipairs(p.provides.rules) do
        if not seen[n] then names[#names + 1] = n; seen[n] = true end
      end
    end
  end
  for k in pairs(package.preload) do
    local n = k:match("^jinpu%.rules%.([%w_]+)$")
    if n and n ~= "obs" and not seen[n] then names[#names + 1] = n end
  end
  table.sort(names)
  return names
end

-- ---- reading rule tables ------------------------------------------------------

local CONSTRAINTS = {
  required = true, unique = true, minimum = true, maximum = true, minLength = true,
  maxLength = true, pattern = true, enum = true, type = true,
}
local META = { name = true, where = true, reason = true, severity = true, mostly = true }
local SHAPES = {
  field = true, expr = true, check = true, rule = true, dataset = true, needs = true, primary_key = true,
  unique_key = true, foreign_key = true, doc = true,
}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

-- The options every rule may carry, as the validator wants them.
local function opts_of(spec, default_name)
  return {
    name = spec.name or default_name,
    where = spec.where,
    reason = spec.reason,
    severity = spec.severity,
    mostly = spec.mostly,
  }
end

local function broken(v, spec, name, kind, msg)
  local id = v:rule(kind or "rule", { name = name, reason = type(spec) == "table"
    and type(spec.reason) == "string" and spec.reason or nil })
  v:broken(id, msg)
end

-- ---- rules written as Lua functions -------------------------------------------

-- check = function(row, i): true passes, false fails (a second result is
-- the message), nil means the rule does not apply to this row (as a null
-- does for an expression).
local function run_row_function(v, ds, spec, id)
  local rows
  if spec.where then
    local err
    rows, err = v:rows(spec.where)
    if not rows then v:broken(id, err); return end
  end
  local fn, checked = spec.check, 0
  local function one(r, i)
    local ok, res, msg = pcall(fn, r, i)
    if not ok then
      v:broken(id, string.format("raised an error at row %d: %s", i, jp.error_message(res)))
      return false
    end
    if res == nil then return true end
    checked = checked + 1
    if not res then
      v:fail(id, i, spec.field, msg ~= nil and tostring(msg) or "the rule does not hold")
    end
    return true
  end
  if rows then
    for _, i in ipairs(rows) do
      if not one(ds:row(i), i) then return end
    end
  else
    for r, i in ds:rows() do
      if not one(r, i) then return end
    end
  end
  v:checked(id, checked)
end

-- dataset = function(ds, ctx): true passes; false[, message] fails;
-- nil[, why] does not apply (skipped); a list of failures
-- { {row=, field=, message=, doubtful=}, ... } (an empty list passes).
local function run_dataset_function(v, ds, spec, id, ctx)
  for _, need in ipairs(type(spec.needs) == "table" and spec.needs or { spec.needs }) do
    if not ctx.datasets[need] then
      v:skipped(id, "needs dataset '" .. tostring(need) .. "', which was not given")
      return
    end
  end
  local declared = false
  local rctx = setmetatable({
    checked = function(n) declared = true; v:checked(id, n) end,
  }, { __index = ctx })
  local ok, res, msg = pcall(spec.dataset, ds, rctx)
  if not ok then
    v:broken(id, "raised an error: " .. jp.error_message(res))
    return
  end
  if res == true then
    if not declared then v:checked(id, 1) end
  elseif res == false then
    if not declared then v:checked(id, 1) end
    v:fail(id, nil, spec.field, msg ~= nil and tostring(msg) or "the rule does not hold")
  elseif res == nil then
    v:skipped(id, msg ~= nil and tostring(msg) or "not applicable")
  elseif type(res) == "table" then
    local with_rows = false
    for k, f in ipairs(res) do
      if type(f) == "string" then f = { message = f } end
      if type(f) ~= "table" then
        v:broken(id, string.format("failure %d is a %s, not a table {row=, field=, message=}", k, type(f)))
        return
      end
      if f.row ~= nil and (math.type(f.row) ~= "integer" or f.row < 1 or f.row > #ds) then
        v:broken(id, string.format("failure %d names row %s, which the dataset (%d rows) does not have",
          k, tostring(f.row), #ds))
        return
      end
      with_rows = with_rows or f.row ~= nil
      local field = f.field or spec.field
      local message = f.message ~= nil and tostring(f.message) or "the rule does not hold"
      local okf, err = pcall(v.fail, v, id, f.row, field, message, f.doubtful and true or false)
      if not okf then v:broken(id, jp.error_message(err)); return end
    end
    if not declared then v:checked(id, with_rows and #ds or math.max(#res, 1)) end
  else
    v:broken(id, "returned a " .. type(res) ..
      "; return true, false[, message], nil[, why] or a list of failures")
  end
end

-- ---- one rule table ---------------------------------------------------------------

local function add_spec(v, ds, spec, index, ctx, prefix)
  local default = (prefix or "rule ") .. index
  if type(spec) == "string" then
    v:expr(spec, { name = spec })
    return
  end
  if type(spec) ~= "table" then
    broken(v, spec, default, "rule", "a rule must be a table or an expression string, not a " .. type(spec))
    return
  end
  if spec.rule ~= nil and spec.expr == nil and spec.check == nil then
    -- { rule = "expression" | function, ... } reads as expr / check
    local copy = {}
    for k, v in pairs(spec) do copy[k] = v end
    if type(spec.rule) == "function" then copy.check = spec.rule else copy.expr = spec.rule end
    copy.rule = nil
    spec = copy
  end
  local name = type(spec.name) == "string" and spec.name or nil
  -- unknown keys: a misspelt option (sevrity, were) must not vanish
  -- silently, nor the rule run without it
  local unknown = {}
  for _, k in ipairs(sorted_keys(spec)) do
    if not (CONSTRAINTS[k] or META[k] or SHAPES[k]) then unknown[#unknown + 1] = "'" .. k .. "'" end
  end
  if #unknown > 0 then
    broken(v, spec, name or default, "rule", "unknown key" .. (#unknown > 1 and "s " or " ")
      .. table.concat(unknown, ", ") .. " in the rule")
    return
  end
  local has_constraint = false
  for k in pairs(CONSTRAINTS) do
    if spec[k] ~= nil then has_constraint = true end
  end
  if spec.field ~= nil and has_constraint and not spec.check and not spec.dataset and not spec.expr then
    if type(spec.field) ~= "string" then
      broken(v, spec, name or default, "constraint", "field must be a string")
      return
    end
    v:constraints(spec.field, spec)
  elseif type(spec.expr) == "string" or type(spec.check) == "string" then
    local src = spec.expr or spec.check
    v:expr(src, opts_of(spec, src))
  elseif type(spec.check) == "function" then
    local id = v:rule("function", opts_of(spec, name or default), spec.field, spec.doc)
    run_row_function(v, ds, spec, id)
  elseif type(spec.dataset) == "function" then
    local id = v:rule("dataset", opts_of(spec, name or default), spec.field, spec.doc)
    run_dataset_function(v, ds, spec, id, ctx)
  elseif spec.primary_key ~= nil or spec.unique_key ~= nil then
    local primary = spec.primary_key ~= nil
    local fields = spec.primary_key or spec.unique_key
    if type(fields) ~= "table" and type(fields) ~= "string" then
      broken(v, spec, name or default, "key", "the key must be a field name or a list of names")
      return
    end
    v:key(fields, opts_of(spec, name), primary)
  elseif spec.foreign_key ~= nil then
    local fk = spec.foreign_key
    if type(fk) ~= "table" or (type(fk.fields) ~= "table" and type(fk.fields) ~= "string") then
      broken(v, spec, name or "foreign_key", "foreign_key",
        "foreign_key must be { fields = ..., reference = { dataset = ..., fields = ... } }")
      return
    end
    local ref = type(fk.reference) == "table" and fk.reference or {}
    local ref_ds, ref_name = nil, ref.dataset
    if ref_name ~= nil then
      ref_ds = type(ref_name) == "string" and ctx.datasets[ref_name] or (jp.is_dataset(ref_name) and ref_name) or nil
      if not ref_ds then
        broken(v, spec, name or "foreign_key", "foreign_key",
          "the foreign key refers to dataset '" .. tostring(ref_name) .. "', which was not given")
        return
      end
      if type(ref_name) ~= "string" then ref_name = ref_ds:name() end
    end
    v:foreign_key(fk.fields, ref_ds, ref_name, ref.fields, opts_of(spec, name))
  else
    broken(v, spec, name or default, "rule",
      "a rule needs one of: field (with constraints), expr, check, dataset, primary_key, unique_key, foreign_key")
  end
end

-- Add every rule of a rules table: `field = {constraints}` entries (in
-- name order), then the list entries in order.
local function add_rules(v, ds, rules, ctx, prefix)
  if type(rules) == "function" then
    local ok, res = pcall(rules, ds, ctx)
    if not ok then
      broken(v, nil, (prefix or "") .. "rules", "rule", "the rules function raised an error: " .. jp.error_message(res))
      return
    end
    rules = res
  end
  if rules == nil then return end
  if type(rules) ~= "table" then
    broken(v, nil, (prefix or "") .. "rules", "rule", "rules must be a table, not a " .. type(rules))
    return
  end
  for _, field in ipairs(sorted_keys(rules)) do
    local c = rules[field]
    if type(c) == "table" then
      v:constraints(field, c)
    else
      broken(v, nil, field, "constraint", "the constraints of field '" .. field .. "' must be a table")
    end
  end
  for i, spec in ipairs(rules) do
    add_spec(v, ds, spec, i, ctx, prefix)
  end
end

-- ---- the entry points --------------------------------------------------------------

-- The datasets a rule may refer to by name: opts.datasets (a map name ->
-- dataset, or a list of datasets, named by their metadata name), plus the
-- dataset itself.
-- Cells the reader could not read as their field's type or unit (jp.load
-- with cell_errors = true returns them; they are null in ds): a rule
-- `<field>.type` per field with an error at each such cell.
local function add_cell_errors(v, ds, errs)
  local by_field, order = {}, {}
  for _, e in ipairs(errs) do
    local f = tostring(e.field)
    if not by_field[f] then
      by_field[f] = {}
      order[#order + 1] = f
    end
    local list = by_field[f]
    list[#list + 1] = e
  end
  local types = {}
  for _, fd in ipairs(ds:schema().fields) do types[fd.name] = fd.type end
  for _, f in ipairs(order) do
    local id = v:rule("type", { name = f .. ".type",
      reason = "every value is of its field's type, and a figure in its unit" },
      f, "type " .. tostring(types[f]))
    for _, e in ipairs(by_field[f]) do v:type_error(id, e.row, f, e.message, e.line) end
    v:checked(id, #ds)
  end
  local total = math.tointeger(errs.total) or #errs
  if total > #errs then
    local id = v:rule("type", { name = "type", reason = "every value is of its field's type" }, nil,
      "cells kept")
    v:fail(id, nil, nil, string.format("%d more cells are not of their field's type (the first %d are listed)",
      total - #errs, #errs))
  end
end

local function datasets_of(ds, opts)
  local map = {}
  local given = opts.datasets
  if type(given) == "table" then
    for k, d in pairs(given) do
      if jp.is_dataset(d) then
        if type(k) == "string" then map[k] = d end
        local n = d:name()
        if n and n ~= "" and map[n] == nil then map[n] = d end
      end
    end
  end
  local own = ds:name()
  if own and own ~= "" and map[own] == nil then map[own] = ds end
  return map
end

--[[
ds:validate([rules][, opts]) -> report

rules: see docs/validation.md ("Rules").
opts:
  schema = false        skip the dataset's own schema (constraints, units, keys)
  pack = false          skip the default rule pack; pack = "name" picks one
  datasets = {...}      other datasets, for foreign keys and cross-dataset rules
  approx_tolerance = x  relative tolerance of approximate figures (default 0.05)
  name = "..."          the dataset's name in the report
  cell_errors = list    cells the reader read as null for not being of their
                        type: jp.load(path, { cell_errors = true }) returns the
                        list; each is an error of rule <field>.type
A dataset from jp._load_validating whose cells were not listed yet (a CSV
file opened lazily) has them listed by the validation itself: batch by
batch when it streams, else by reading the file whole first.
]]
local OPTIONS = { "schema", "pack", "datasets", "approx_tolerance", "name", "cell_errors" }

-- An option that is not one of OPTIONS is a misspelling that would
-- otherwise be ignored: the same message as the C options' check.
local function check_options(opts, what, level)
  for k in pairs(opts) do
    local known = false
    for _, o in ipairs(OPTIONS) do known = known or o == k end
    if not known then
      local near = type(k) == "string" and jp.suggest(k, OPTIONS)
      error(string.format("%s: unknown option '%s' (%sknown: %s)", what, tostring(k),
        near and ("did you mean '" .. near .. "'? ") or "", table.concat(OPTIONS, ", ")), level + 1)
    end
  end
end

-- Every rule of the validation added to v (cells: the cells set aside by
-- the reader, or nil).
local function fill(v, ds, rules, opts, ctx, cells)
  if type(cells) == "table" then add_cell_errors(v, ds, cells) end
  if opts.schema ~= false then v:schema(ctx.datasets) end
  if rules ~= nil then add_rules(v, ds, rules, ctx) end
  if opts.pack ~= false then
    local pname = type(opts.pack) == "string" and opts.pack or ds:name()
    local ok, pack = pcall(M.pack, pname)
    if not ok then
      broken(v, nil, "pack." .. tostring(pname), "rule", "the rule pack does not load: " .. jp.error_message(pack))
    elseif pack then
      add_rules(v, ds, pack.rules, ctx)
    elseif type(opts.pack) == "string" then
      broken(v, nil, "pack." .. opts.pack, "rule", "no rule pack named '" .. opts.pack .. "'")
    end
  end
end

-- Can these rules run over one batch of rows at a time?  Not Lua
-- functions (they may read any row or the whole dataset), foreign keys
-- (the referenced rows), the cells a reader set aside (rows of the whole
-- file; a file whose cells are deferred lists them batch by batch), nor a
-- rules function (it is given the dataset).
local function rules_stream(rules)
  if rules == nil then return true end
  if type(rules) ~= "table" then return false end
  for _, spec in ipairs(rules) do
    if type(spec) == "table" and (type(spec.check) == "function" or type(spec.dataset) == "function"
        or type(spec.rule) == "function" or spec.foreign_key ~= nil) then
      return false
    end
  end
  return true
end

local function streams(ds, rules, opts)
  if opts.cell_errors ~= nil or not rules_stream(rules) or not jp._validate_streams(ds) then
    return false
  end
  if opts.pack ~= false then
    local ok, pack = pcall(M.pack, type(opts.pack) == "string" and opts.pack or ds:name())
    if not ok or (pack and not rules_stream(pack.rules)) then return false end
  end
  return true
end

function M.validate(ds, rules, opts)
  if not jp.is_dataset(ds) then error("validate: expected a dataset", 2) end
  opts = opts or {}
  if type(opts) ~= "table" then error("validate: options must be a table", 2) end
  check_options(opts, "validate", 2)
  local tol = opts.approx_tolerance or M.APPROX_TOLERANCE
  local ctx = {
    datasets = datasets_of(ds, opts),
    tolerance = tol,
    self = ds,
  }
  function ctx.dataset(name) return ctx.datasets[name] end
  -- a file pipeline that streams is checked batch by batch, the same
  -- rules over each batch, one report of the whole file
  if streams(ds, rules, opts) then
    local report = jp._validate_stream(ds, { approx_tolerance = tol, name = opts.name },
      function(v) fill(v, ds, rules, opts, ctx) end)
    if report then return report end
  end
  local cells = opts.cell_errors
  if cells == nil and jp._cells_deferred(ds) then cells = jp._cell_errors(ds) end
  local v = jp._validator(ds, { approx_tolerance = tol, name = opts.name })
  fill(v, ds, rules, opts, ctx, cells)
  return v:finish()
end

-- Validate several datasets together (each may refer to the others by
-- name): a list of reports, and whether all are ok.
function M.validate_all(list, rules, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("validate_all: options must be a table", 2) end
  check_options(opts, "validate_all", 2)
  local all = {}
  for k, d in pairs(opts.datasets or {}) do all[k] = d end
  for _, d in ipairs(list) do
    local n = d:name()
    if n and n ~= "" and all[n] == nil then all[n] = d end
  end
  local reports, ok = {}, true
  for i, d in ipairs(list) do
    local o = {}
    for k, x in pairs(opts) do o[k] = x end
    o.datasets = all
    reports[i] = M.validate(d, rules, o)
    ok = ok and reports[i].ok
  end
  return reports, ok
end

-- For the bundled report (`make demo`): the report of a dataset under its
-- schema and default rule pack, validated together with `others`.
function M.default(ds, others)
  return M.validate(ds, nil, { datasets = others })
end

-- For the bundled report: the datasets of a name -> dataset map validated
-- together (each under its schema and default pack), in the order of
-- `names` (default: sorted names).  Returns the reports, whether all are
-- ok, and a text block (a verdict line per dataset, then the issues).
function M.bundled(map, names)
  if not names then
    names = {}
    for k in pairs(map) do names[#names + 1] = k end
    table.sort(names)
  end
  local list = {}
  for i, n in ipairs(names) do list[i] = map[n] end
  local reports, ok = M.validate_all(list, nil, { datasets = map })
  local text = { M.summary(reports) }
  for _, r in ipairs(reports) do
    if r.counts.errors + r.counts.warnings + r.counts.rule_errors > 0 then text[#text + 1] = tostring(r) end
  end
  return reports, ok, table.concat(text, "\n")
end

-- A one-line verdict per report and a total, for summaries.
function M.summary(reports)
  local lines, bad = {}, 0
  for _, r in ipairs(reports) do
    local c = r.counts
    local verdict = c.rule_errors > 0 and "RULE ERRORS" or (c.errors > 0 and "FAILED" or "valid")
    if not r.ok then bad = bad + 1 end
    local function n(k, one, many) return k .. " " .. (k == 1 and one or many) end
    lines[#lines + 1] = string.format("%-12s %-11s %s, %s, %s%s", r.dataset, verdict,
      n(c.rules, "rule", "rules"), n(c.errors, "error", "errors"), n(c.warnings, "warning", "warnings"),
      c.rule_errors > 0 and (", " .. n(c.rule_errors, "broken rule", "broken rules")) or "")
  end
  lines[#lines + 1] = string.format("%d of %d datasets valid", #reports - bad, #reports)
  return table.concat(lines, "\n")
end

return M
