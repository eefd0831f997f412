-- jinpu export -o OUT FILE... : datasets into a reproducible, self-verifying
-- archive (.tar.gz, .tgz, .zip; .tar too).  See docs/archive.md.
local jp = require("jinpu")
local args = require("jinpu.cli.args")
local schema_file = require("jinpu.cli.schema")

local usage = [[
usage: jinpu export -o OUT [options] FILE...
Writes the datasets of FILE... (YAML, CSV, .csv.gz, or archives: all their
datasets, or one with ARCHIVE#NAME) into OUT, chosen by its name: .tar.gz,
.tgz or .zip, or the ending of a plugin's format (report.xlsx, db.sqlite).  Each dataset is stored as data (CSV) plus its schema (YAML),
with manifest.yaml and sha256sums.txt.  The same inputs give the same bytes.
options:
  -o, --output OUT       the archive to write (replaced atomically)
  -l, --level N          deflate level 1..9 (default 6)
  -j, --threads N        compression threads (default: all cores)
      --schema FILE.yaml read CSV files with the fields and keys of this
                         document (types, units, constraints; docs/format.md)
      --format NAME      data format inside the archive (default csv)
      --top NAME         top directory inside the archive (default: OUT's stem)
      --qualifiers MODE  column (default: a <field>_qualifier column) or inline
      --spreadsheet-safe neutralise CSV cells starting with = + - @ (the round
                         trip is then no longer exact)]]

local function is_archive(path)
  local p = path:lower()
  return p:match("%.tar%.gz$") or p:match("%.tgz$") or p:match("%.zip$") or p:match("%.tar$")
end

local function fail(msg)
  io.stderr:write("jinpu export: " .. msg .. "\n")
end

return function(argv)
  local opts, files = args.parse("export", argv, usage, {
    { "-o", "--output", key = "out", value = "file" },
    { "-l", "--level", key = "level", int = { 1, 9 } },
    { "-j", "--threads", key = "threads", int = { 1 } },
    { "--format", key = "format", value = "name" },
    { "--top", key = "top", value = "name" },
    { "--qualifiers", key = "qualifiers", choices = { "column", "inline" } },
    { "--spreadsheet-safe", key = "spreadsheet_safe" },
    { "--schema", key = "schema", value = "file" },
  })
  if not opts then return files end
  local out, schema = opts.out, opts.schema
  opts.out, opts.schema = nil, nil
  if not out then
    fail("no output archive given (-o OUT.tar.gz)\n" .. usage)
    return 2
  end
  if not is_archive(out) then
    -- a plugin format may take it (report.xlsx, db.sqlite): it gets every dataset
    local endings = {}
    local low = out:lower()
    local taken = false
    for _, f in ipairs(jp.formats()) do
      for _, e in ipairs(f.plugin and f.extensions or {}) do
        endings[#endings + 1] = e
        taken = taken or low:sub(-#e) == e
      end
    end
    if not taken then
      table.sort(endings)
      fail(out .. ": the output must end in .tar.gz, .tgz, .tar or .zip"
        .. (#endings > 0 and (", or a plugin format's " .. table.concat(endings, ", ")) or ""))
      return 2
    end
    for k in pairs(opts) do
      fail("option --" .. k:gsub("_", "-") .. " applies to archives, not to " .. out)
      return 2
    end
  end
  if #files == 0 then
    fail("no input file given\n" .. usage)
    return 2
  end
  local sds
  if schema then
    local unused = schema_file.unused(files)
    if unused then
      fail(unused .. "\n" .. usage)
      return 2
    end
    local why
    sds, why = schema_file.load(schema)
    if not sds then
      fail(why)
      return 3
    end
  end
  local datasets = {}
  for _, f in ipairs(files) do
    local ok, err = pcall(function()
      local path, member = args.member(f)
      if is_archive(path) then
        local a <close> = jp.open_archive(path)
        if member then
          datasets[#datasets + 1] = a:load(member)
        else
          for _, name in ipairs(a:list()) do datasets[#datasets + 1] = a:load(name) end
        end
      else
        local lo = { member = member }
        if sds and schema_file.is_csv(path) then lo.schema = sds end
        datasets[#datasets + 1] = jp.load(path, lo)
      end
    end)
    if not ok then
      fail(args.member_hint(jp.error_message(err), f))
      return 3
    end
  end
  local ok, err = pcall(jp.export, out, datasets, opts)
  if not ok then
    fail(jp.error_message(err))
    return 3
  end
  return 0
end
