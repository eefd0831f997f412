-- jinpu export -o OUT FILE... : datasets into a reproducible, self-verifying
-- archive (.tar.gz, .tgz, .zip; .tar too).  See docs/archive.md.
local jp = require("jinpu")

local usage = [[
usage: jinpu export -o OUT [options] FILE...
Writes the datasets of FILE... (YAML, CSV, .csv.gz, or archives: all their
datasets, or one with ARCHIVE#NAME) into OUT, chosen by its name: .tar.gz,
.tgz or .zip.  Each dataset is stored as data (CSV) plus its schema (YAML),
with manifest.yaml and sha256sums.txt.  The same inputs give the same bytes.
options:
  -o, --output OUT       the archive to write (replaced atomically)
  -l, --level N          deflate level 1..9 (default 6)
  -j, --threads N        compression threads (default: all cores)
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

return function(args)
  local out, files, opts = nil, {}, {}
  local i = 1
  local function value(a)
    local v = args[i + 1]
    if v == nil then
      fail(a .. " needs a value\n" .. usage)
      return nil
    end
    i = i + 1
    return v
  end
  local function whole(a, lo, hi)
    local v = value(a)
    if v == nil then return nil end
    local n = math.tointeger(tonumber(v))
    if not n or n < lo or (hi and n > hi) then
      fail(a .. " needs a whole number" .. (hi and (" from " .. lo .. " to " .. hi) or (" >= " .. lo)))
      return nil
    end
    return n
  end
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then
      print(usage)
      return 0
    elseif a == "-o" or a == "--output" then
      out = value(a)
      if not out then return 2 end
    elseif a == "-l" or a == "--level" then
      opts.level = whole(a, 1, 9)
      if not opts.level then return 2 end
    elseif a == "-j" or a == "--threads" then
      opts.threads = whole(a, 1)
      if not opts.threads then return 2 end
    elseif a == "--format" then
      opts.format = value(a)
      if not opts.format then return 2 end
    elseif a == "--top" then
      opts.top = value(a)
      if not opts.top then return 2 end
    elseif a == "--qualifiers" then
      opts.qualifiers = value(a)
      if opts.qualifiers ~= "column" and opts.qualifiers ~= "inline" then
        fail("--qualifiers must be column or inline")
        return 2
      end
    elseif a == "--spreadsheet-safe" then
      opts.spreadsheet_safe = true
    elseif a == "--" then
      for k = i + 1, #args do files[#files + 1] = args[k] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      fail("unknown option '" .. a .. "'\n" .. usage)
      return 2
    else
      files[#files + 1] = a
    end
    i = i + 1
  end
  if not out then
    fail("no output archive given (-o OUT.tar.gz)\n" .. usage)
    return 2
  end
  if not is_archive(out) then
    fail(out .. ": the output must end in .tar.gz, .tgz, .tar or .zip")
    return 2
  end
  if #files == 0 then
    fail("no input file given\n" .. usage)
    return 2
  end
  local datasets = {}
  for _, f in ipairs(files) do
    local ok, err = pcall(function()
      local path, member = f:match("^(.-)#([^#/]+)$")
      if not (path and is_archive(path)) then path, member = f, nil end
      if is_archive(path) then
        local a <close> = jp.open_archive(path)
        if member then
          datasets[#datasets + 1] = a:load(member)
        else
          for _, name in ipairs(a:list()) do datasets[#datasets + 1] = a:load(name) end
        end
      else
        datasets[#datasets + 1] = jp.load(path)
      end
    end)
    if not ok then
      fail(jp.error_message(err))
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
