-- jinpu info FILE... : schema, size and a preview of datasets and archives.
--
-- A CSV file is profiled rather than loaded: one pass over the file infers
-- every column's type from all its rows and counts nulls and qualified
-- values without building a column, then only the first rows are read for
-- the preview.  So `info` costs the same small memory whether the file has
-- a thousand rows or a hundred million, or a million columns.
local jp = require("jinpu")
local args = require("jinpu.cli.args")
local schema_file = require("jinpu.cli.schema")

local usage = [[
usage: jinpu info [--rows N] [--schema FILE.yaml] FILE...
Shows each dataset's metadata, its schema (type, unit, nulls, qualified
values, constraints) and the first rows.  Archives list the datasets they
hold.  A CSV file's types are inferred from all its rows; a column that is
text although other cells are numbers (or dates, ...) names the first cell
that made it text.
options:
  -n, --rows N          rows shown (default 10)
  --schema FILE.yaml    read CSV files with the fields of this document
                        (types, units, constraints; docs/format.md); a cell
                        its field's type cannot read is an error]]

-- Fields listed in the schema table; the rest are counted.
local FIELDS_SHOWN = 100

local function constraints_text(c)
  if not c then return nil end
  local parts = {}
  if c.required then parts[#parts + 1] = "required" end
  if c.unique then parts[#parts + 1] = "unique" end
  local function v(x)
    if math.type(x) == "float" and x == math.floor(x) and math.abs(x) < 1e15 then
      return string.format("%.0f", x)
    end
    return tostring(x)
  end
  if c.minimum ~= nil then parts[#parts + 1] = "min " .. v(c.minimum) end
  if c.maximum ~= nil then parts[#parts + 1] = "max " .. v(c.maximum) end
  if c.minLength then parts[#parts + 1] = "minLength " .. c.minLength end
  if c.maxLength then parts[#parts + 1] = "maxLength " .. c.maxLength end
  if c.pattern then parts[#parts + 1] = "pattern " .. c.pattern end
  if c.enum then
    local v = {}
    for i, x in ipairs(c.enum) do v[i] = tostring(x) end
    parts[#parts + 1] = "enum {" .. table.concat(v, ", ") .. "}"
  end
  return #parts > 0 and table.concat(parts, ", ") or nil
end

local function print_meta(path, s, nrows, nfields)
  print(string.format("%s: dataset '%s'%s", path, s.name or "?", s.title and (" - " .. s.title) or ""))
  print(string.format("  rows %d, fields %d", nrows, nfields))
  if s.description then print("  description: " .. s.description) end
  if s.source then print("  source: " .. s.source) end
  if s.source_file then print("  source file: " .. s.source_file) end
  if s.period then print("  period: " .. s.period) end
  if s.license then print("  license: " .. s.license) end
  for _, n in ipairs(s.notes or {}) do print("  note: " .. n) end
  if s.primary_key then print("  primary key: " .. table.concat(s.primary_key, ", ")) end
end

-- The schema table: one row per field (at most FIELDS_SHOWN of nfields).
local function print_schema(rows, nfields)
  local schema = jp.dataset{
    name = "schema",
    fields = {
      { name = "field", type = "string" }, { name = "type", type = "string" },
      { name = "unit", type = "string" }, { name = "nulls", type = "integer" },
      { name = "qualified", type = "integer" }, { name = "constraints", type = "string" },
      { name = "description", type = "string" },
    },
    rows = rows,
  }
  print()
  io.write((schema:preview(math.max(#rows, 1)):gsub("^[^\n]*\n", "")))
  if nfields > #rows then
    print(string.format("... %d more field%s", nfields - #rows, nfields - #rows == 1 and "" or "s"))
  end
end

local function schema_row(f, nulls, qualified)
  return {
    field = f.name,
    type = f.type,
    unit = f.unit or (f.unit_field and ("<" .. f.unit_field .. ">")) or "",
    nulls = nulls,
    qualified = qualified,
    constraints = constraints_text(f.constraints) or "",
    description = f.description or f.title or "",
  }
end

local function show_dataset(path, ds, nrows)
  local s = ds:schema()
  print_meta(path, s, #ds, #s.fields)
  local rows = {}
  for i = 1, math.min(#s.fields, FIELDS_SHOWN) do
    local f = s.fields[i]
    local col = ds:column(f.name)
    rows[i] = schema_row(f, col:nulls(), col:qualified())
  end
  print_schema(rows, #s.fields)
  print()
  io.write((ds:preview(nrows):gsub("^[^\n]*\n", "")))
end

local function show_csv(path, nrows, sds)
  local p = jp._csv_profile(path, sds and { schema = sds }, nrows, FIELDS_SHOWN)
  local s = sds and sds:schema()
  print_meta(path, { name = p.name, primary_key = s and s.primary_key }, p.rows, p.nfields)
  local typed = {}
  for _, f in ipairs(s and s.fields or {}) do typed[f.name] = f end
  local nschema = #(s and s.fields or {})
  if nschema == 0 then
    print(string.format("  types inferred from all %d row%s", p.rows, p.rows == 1 and "" or "s"))
  elseif nschema < p.nfields then
    print(string.format("  %d field%s typed by the schema %s, the others inferred from all %d row%s",
      nschema, nschema == 1 and "" or "s", s.origin or "", p.rows, p.rows == 1 and "" or "s"))
  else
    print(string.format("  every field typed by the schema %s", s.origin or ""))
  end
  local rows, why = {}, {}
  for i, f in ipairs(p.fields) do
    local sf = typed[f.name]
    if sf then f.constraints, f.description, f.title, f.unit_field = sf.constraints, sf.description, sf.title, sf.unit_field end
    rows[i] = schema_row(f, f.nulls, f.qualified)
    local t = f.text_from
    if t then
      why[#why + 1] = string.format("  '%s' is text from row %d (%s:%d:%d): '%s'",
        f.name, t.row, path, t.line, t.column, t.cell)
    end
  end
  print_schema(rows, p.nfields)
  if #why > 0 then
    print()
    for _, w in ipairs(why) do print(w) end
  end
  print()
  io.write(p.preview)
end

local function is_archive(path)
  return path:match("%.tar%.gz$") or path:match("%.tgz$") or path:match("%.zip$")
end

local is_csv = schema_file.is_csv

return function(argv)
  local opts, files = args.parse("info", argv, usage, {
    { "-n", "--rows", key = "rows", int = { 1 } },
    { "--schema", key = "schema", value = "file" },
  })
  if not opts then return files end
  if #files == 0 then return args.missing("info", usage, "file") end
  local sds
  if opts.schema then
    local unused = schema_file.unused(files)
    if unused then return args.usage_error("info", usage, unused) end
    local why
    sds, why = schema_file.load(opts.schema)
    if not sds then
      io.stderr:write("jinpu info: " .. why .. "\n")
      return 3
    end
  end
  local nrows = opts.rows or 10
  local status = 0
  for k, path in ipairs(files) do
    if k > 1 then print() end
    local ok, err = pcall(function()
      local file, member = args.member(path)
      if member then
        if is_archive(file) and jp.open_archive then
          local a <close> = jp.open_archive(file)
          show_dataset(path, a:load(member), nrows)
        else
          show_dataset(path, jp.load(file, { member = member }), nrows)
        end
      elseif is_archive(path) and jp.open_archive then
        local a = jp.open_archive(path)
        if a.info then
          io.write(a:info())
        else
          print(path .. ": archive")
        end
        for _, name in ipairs(a:list()) do
          print()
          show_dataset(path .. "#" .. name, a:load(name), nrows)
        end
      elseif is_csv(path) then
        show_csv(path, nrows, sds)
      else
        show_dataset(path, jp.load(path), nrows)
      end
    end)
    if not ok then
      io.stderr:write("jinpu info: " .. args.member_hint(jp.error_message(err), path) .. "\n")
      status = 3
    end
  end
  return status
end
