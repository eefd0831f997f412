-- jinpu info FILE... : schema, size and a preview of datasets and archives.
local jp = require("jinpu")
local args = require("jinpu.cli.args")

local usage = [[
usage: jinpu info [--rows N] FILE...
Shows each dataset's metadata, its schema (type, unit, nulls, qualified
values, constraints) and the first rows.  Archives list the datasets they hold.]]

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

local function show_dataset(path, ds, nrows)
  local s = ds:schema()
  print(string.format("%s: dataset '%s'%s", path, s.name or "?", s.title and (" - " .. s.title) or ""))
  print(string.format("  rows %d, fields %d", #ds, #s.fields))
  if s.description then print("  description: " .. s.description) end
  if s.source then print("  source: " .. s.source) end
  if s.source_file then print("  source file: " .. s.source_file) end
  if s.period then print("  period: " .. s.period) end
  if s.license then print("  license: " .. s.license) end
  for _, n in ipairs(s.notes or {}) do print("  note: " .. n) end
  if s.primary_key then print("  primary key: " .. table.concat(s.primary_key, ", ")) end
  local rows = {}
  for i, f in ipairs(s.fields) do
    local col = ds:column(f.name)
    rows[i] = {
      field = f.name,
      type = f.type,
      unit = f.unit or (f.unit_field and ("<" .. f.unit_field .. ">")) or "",
      nulls = col:nulls(),
      qualified = col:qualified(),
      constraints = constraints_text(f.constraints) or "",
      description = f.description or f.title or "",
    }
  end
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
  io.write((tostring(schema):gsub("^[^\n]*\n", "")))
  print()
  io.write((ds:preview(nrows):gsub("^[^\n]*\n", "")))
end

local function is_archive(path)
  return path:match("%.tar%.gz$") or path:match("%.tgz$") or path:match("%.zip$")
end

return function(argv)
  local opts, files = args.parse("info", argv, usage, {
    { "-n", "--rows", key = "rows", int = { 1 } },
  })
  if not opts then return files end
  if #files == 0 then return args.missing("info", usage, "file") end
  local nrows = opts.rows or 10
  local status = 0
  for k, path in ipairs(files) do
    if k > 1 then print() end
    local ok, err = pcall(function()
      if is_archive(path) and jp.open_archive then
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
      else
        show_dataset(path, jp.load(path), nrows)
      end
    end)
    if not ok then
      io.stderr:write("jinpu info: " .. jp.error_message(err) .. "\n")
      status = 3
    end
  end
  return status
end
