-- jinpu validate FILE... : check datasets against their schemas, their
-- default rule packs and the rules of --rules files; print a report.
--
-- Exit status: 0 every dataset is valid; 1 some data fails (a value not of
-- its field's type included); 2 usage error (unknown option, no file); 3 an
-- input cannot be used: a file that does not load (broken syntax, an
-- unreadable file), a rules file that does not run, or a rule that is malformed or
-- raises (a broken rule leaves the verdict incomplete, so neither 0 nor 1
-- would be true; docs/validation.md says more).  A CSV large enough to be
-- read lazily is not loaded: it is validated batch by batch, with the same
-- report (docs/validation.md, "Large files").
local jp = require("jinpu")
local args = require("jinpu.cli.args")
local schema_file = require("jinpu.cli.schema")
local V = require("jinpu.validate")

local usage = [[
usage: jinpu validate [options] FILE...
Checks each dataset against the constraints of its schema (required, unique,
minimum, maximum, minLength, maxLength, pattern, enum, keys, units), the
rule pack of its domain (by its name: cherry, ip, workforce, economy) and
the rules of the --rules files.  Datasets given together may refer to each
other (foreign keys, cross-dataset rules) by name.
options:
  --rules FILE.lua    more rules: a Lua script returning a rules table
                      (docs/validation.md); may be repeated
  --schema FILE.yaml  read CSV files with the fields and keys of this
                      document (types, units, constraints; docs/format.md):
                      each cell its field's type cannot read is an error
  --format text|json  the report for people (default) or for machines
  --max N             issues shown per rule in the text report (default 20,
                      0 = all)
  --no-pack           do not run the domain rule packs
  --no-schema         do not check the schemas' own constraints
exit status: 0 valid, 1 the data fails, 2 usage error, 3 an input or a rule
is unusable (the message names it)]]

local function fail_usage(msg)
  io.stderr:write("jinpu validate: " .. msg .. "\n" .. usage .. "\n")
  return 2
end

-- Merge rules tables: fields' constraint sets by name (later files win on
-- the same constraint), list entries concatenated.
local function merge_into(dst, src)
  for k, v in pairs(src) do
    if type(k) == "string" then
      if type(dst[k]) == "table" and type(v) == "table" then
        for ck, cv in pairs(v) do dst[k][ck] = cv end
      elseif type(v) == "table" then
        local copy = {}
        for ck, cv in pairs(v) do copy[ck] = cv end
        dst[k] = copy
      else
        dst[k] = v
      end
    end
  end
  for _, spec in ipairs(src) do dst[#dst + 1] = spec end
end

-- Load a rules file: returns { all = rules-or-function, per = {name = rules} }
-- or nil and a message naming the file.
local function load_rules(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, err end
  local ok, res = pcall(chunk)
  if not ok then return nil, jp.error_message(res) end
  if type(res) == "function" then return { fn = res, per = {} } end
  if type(res) ~= "table" then
    return nil, path .. ": a rules file must return a table of rules (or a function), not a " .. type(res)
  end
  local all, per = {}, {}
  for k, v in pairs(res) do
    if k ~= "datasets" then all[k] = v end
  end
  if res.datasets ~= nil then
    if type(res.datasets) ~= "table" then
      return nil, path .. ": `datasets` must map dataset names to rules tables"
    end
    for name, r in pairs(res.datasets) do per[name] = r end
  end
  return { all = all, per = per }
end

-- The rules for dataset ds from every loaded file, as one rules table (a
-- function when a file returned one, called per dataset).
local function rules_for(files, ds)
  local merged, fns = {}, {}
  for _, f in ipairs(files) do
    if f.fn then
      fns[#fns + 1] = f.fn
    else
      merge_into(merged, f.all)
      local own = f.per[ds:name()]
      if type(own) == "table" then merge_into(merged, own) end
    end
  end
  if #fns == 0 then return next(merged) ~= nil and merged or nil end
  return function(d, ctx)
    local out = {}
    merge_into(out, merged)
    for _, fn in ipairs(fns) do
      local r = fn(d, ctx)
      if r ~= nil then
        if type(r) ~= "table" then error("a rules function must return a table, not a " .. type(r)) end
        merge_into(out, r)
      end
    end
    return out
  end
end

return function(argv)
  local o, files = args.parse("validate", argv, usage, {
    { "--rules", key = "rules", value = "file", many = true },
    { "--schema", key = "schema", value = "file" },
    { "--format", key = "format", choices = { "text", "json" } },
    { "--max", key = "max", int = { 0 } },
    { "--no-pack", key = "no_pack" },
    { "--no-schema", key = "no_schema" },
  })
  if not o then return files end
  local rules_files, format, max = o.rules or {}, o.format or "text", o.max or 20
  local opts = {}
  if o.no_pack then opts.pack = false end
  if o.no_schema then opts.schema = false end
  if #files == 0 then return fail_usage("no file given") end
  local unused = o.schema and schema_file.unused(files)
  if unused then return fail_usage(unused) end

  local status = 0
  local load_errors = {}
  local function problem(file, msg)
    io.stderr:write("jinpu validate: " .. msg .. "\n")
    load_errors[#load_errors + 1] = { file = file, message = msg }
    status = 3
  end
  -- a file that cannot be read is said in the order of the files given,
  -- whether its fault was met when it was opened or, for a large CSV read
  -- batch by batch, while it was validated
  local unreadable = {}
  local function unreadable_file(at, path, msg)
    unreadable[#unreadable + 1] = { at = at, file = path, message = args.member_hint(msg, path) }
  end

  local loaded_rules = {}
  for _, path in ipairs(rules_files) do
    local r, err = load_rules(path)
    if not r then problem(path, "rules file " .. err) else loaded_rules[#loaded_rules + 1] = r end
  end

  local sds
  if o.schema then
    local why
    sds, why = schema_file.load(o.schema)
    if not sds then problem(o.schema, why) end
  end
  -- without the schema it names, no CSV could be judged by its real types
  local inputs = (o.schema and not sds) and {} or files

  local datasets, all, cells, opened = {}, {}, {}, {}
  for at, path in ipairs(inputs) do
    -- a cell that is not of its type is a validation error, not a file that
    -- cannot be read: the reader keeps such cells aside (null) and says
    -- where; a large CSV stays lazy, its cells listed as it is validated,
    -- batch by batch when the rules allow (lua/jinpu/validate.lua)
    local lo = { cell_errors = true }
    local file, member = args.member(path)
    lo.member = member
    if sds and schema_file.is_csv(file) then lo.schema = sds end
    local ok, ds, bad = pcall(jp._load_validating, file, lo)
    if ok then
      datasets[#datasets + 1] = ds
      cells[#datasets] = bad
      opened[#datasets] = { at = at, path = path, file = file, lo = lo, lazy = jp._cells_deferred(ds) }
      all[path] = ds
      local n = ds:name()
      if n and n ~= "" and all[n] == nil then all[n] = ds end
    else
      unreadable_file(at, path, jp.error_message(ds))
    end
  end

  -- a rules file that did not load leaves every verdict incomplete: say
  -- so without pretending to validate
  local reports = {}
  if #loaded_rules == #rules_files then
    for k, ds in ipairs(datasets) do
      local op, bad, ok, r = opened[k], cells[k], true, nil
      if op.lazy and not jp._cells_deferred(ds) then
        -- the rules of a dataset before read this one whole, and its
        -- cells went unlisted: read it again, with them
        ok, r, bad = pcall(jp.load, op.file, op.lo)
        if ok then ds = r end
      end
      local o = { datasets = all, cell_errors = bad }
      for key, v in pairs(opts) do o[key] = v end
      if not ok then
        unreadable_file(op.at, op.path, jp.error_message(r))
      elseif op.lazy then
        -- a fault of the file (a broken record) may be met only now, while
        -- it is read: an unusable input, as when it does not load
        ok, r = pcall(V.validate, ds, rules_for(loaded_rules, ds), o)
        if ok then reports[#reports + 1] = r else unreadable_file(op.at, op.path, jp.error_message(r)) end
      else
        reports[#reports + 1] = V.validate(ds, rules_for(loaded_rules, ds), o)
      end
    end
  end
  table.sort(unreadable, function(a, b) return a.at < b.at end)
  for _, u in ipairs(unreadable) do problem(u.file, u.message) end

  for _, r in ipairs(reports) do
    if r.counts.rule_errors > 0 then
      status = 3
    elseif not r.ok and status == 0 then
      status = 1
    end
  end

  if format == "json" then
    local parts = {}
    for k, r in ipairs(reports) do parts[k] = r:json() end
    local errs = {}
    for k, e in ipairs(load_errors) do
      errs[k] = string.format('{"file":%s,"message":%s}', jp._json_string(e.file), jp._json_string(e.message))
    end
    io.write(string.format('{"ok":%s,"status":%d,"reports":[%s],"input_errors":[%s]}\n',
      status == 0 and "true" or "false", status, table.concat(parts, ","), table.concat(errs, ",")))
  else
    for k, r in ipairs(reports) do
      if k > 1 then io.write("\n") end
      io.write(r:text(max))
    end
    if #reports > 1 then io.write("\n" .. V.summary(reports) .. "\n") end
  end
  return status
end
