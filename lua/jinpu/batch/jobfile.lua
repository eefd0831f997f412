-- lua/jinpu/batch/jobfile.lua - the job file of `jinpu batch`: read it,
-- check every key before anything runs, and list its jobs.
--
--   local job, problems = jobfile.load("job.yaml")
--   -- problems: a list of "job.yaml:LINE: what is wrong" (job is nil)
--
-- A job is one input, named by its file stem (the key); the jobs are in
-- bytewise key order.  Paths in the job file are relative to its folder.
-- The checked job (all fields below) is what the runner, the cache and
-- merge work from; nothing else reads the YAML.
local jp = require("jinpu")
local sys = require("jinpu.sys")

local M = {}

local KNOWN = { "jinpu_batch", "script", "inputs", "args", "output", "limits", "jobs", "reduce", "sandbox" }
local KNOWN_LIMITS = { "memory", "seconds" }

-- ---- paths --------------------------------------------------------------------

local function dirname(p)
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end
M.dirname = dirname

local function basename(p)
  return p:match("([^/]*)/*$")
end
M.basename = basename

-- p relative to the job file's folder, as seen from the current directory
local function under(dir, p)
  if p:sub(1, 1) == "/" or dir == "." then return p end
  return dir .. "/" .. p
end
M.under = under

-- The job key of an input: its file name without a compression suffix and
-- without its last extension ("raw/a.csv.gz" -> "a", "b.2021.csv" ->
-- "b.2021"); a leading dot is part of the name (".x.csv" -> ".x").
function M.stem(path)
  local name = basename(path)
  local s = name:match("^(.+)%.[gG][zZ]$") or name:match("^(.+)%.bz2$") or name:match("^(.+)%.xz$")
    or name:match("^(.+)%.zst$") or name
  s = s:match("^(.+)%.[^.]*$") or s
  return s
end

-- The job of a job list entry: {key =, input =}.
function M.entry(e)
  local key, input = e:match("^([^\0]*)\0(.*)$")
  return { key = key, input = input }
end

-- The key of a job list entry.
function M.key(e)
  return e:match("^[^\0]*")
end

-- The position of the job `key` in a (sorted) job list, or nil.
function M.find(list, key)
  local lo, hi = 1, #list
  local probe = key .. "\0"
  while lo <= hi do
    local mid = (lo + hi) // 2
    local e = list[mid]
    if e:sub(1, #probe) == probe then return mid end
    if e < probe then lo = mid + 1 else hi = mid - 1 end
  end
  return nil
end

-- ---- values -----------------------------------------------------------------------

local SIZE_UNITS = { [""] = 1, k = 1024, m = 1024 ^ 2, g = 1024 ^ 3, t = 1024 ^ 4 }

-- "512M", "1.5G", "1048576" -> bytes, or nil and why
function M.parse_size(s)
  local num, unit = s:match("^%s*(%d+%.?%d*)%s*([kKmMgGtT]?)[iI]?[bB]?%s*$")
  if not num then return nil, "'" .. s .. "' is not a size (e.g. 512M, 2G)" end
  local v = tonumber(num) * SIZE_UNITS[unit:lower()]
  v = math.floor(v)
  if v < 1024 * 1024 then
    return nil, "'" .. s .. "' is less than 1M" .. (unit == "" and " (a number alone is bytes: write " .. s .. "M for megabytes)" or "")
  end
  if v > 2 ^ 62 then return nil, "'" .. s .. "' is too large" end
  return math.tointeger(v)
end

-- "300", "2.5", "5m", "1h" -> seconds, or nil and why
function M.parse_seconds(s)
  local num, unit = s:match("^%s*(%d+%.?%d*)%s*([smh]?)%s*$")
  if not num then return nil, "'" .. s .. "' is not a number of seconds (e.g. 300, 5m, 2h)" end
  local v = tonumber(num) * ({ [""] = 1, s = 1, m = 60, h = 3600 })[unit]
  if v <= 0 then return nil, "must be more than 0" end
  if v > 1e7 then return nil, "'" .. s .. "' is more than 10^7 seconds" end
  return math.tointeger(v) or v
end

local function is_null(v)
  return v == nil or v == "" or v == "~" or v == "null"
end

-- " (did you mean 'x'?)" when a known name is close, the library's way
local function suggest(name, known)
  local best = jp.suggest(name, known)
  return best and (" (did you mean '" .. best .. "'?)") or ""
end

-- ---- loading --------------------------------------------------------------------

-- Expand the inputs (a glob or a list of paths and globs) into
-- {path = as written relative to the job's folder, line = where it came from}.
local function expand_inputs(job, v, line, lines, problem)
  local items = {}
  if type(v) == "string" then
    items[1] = { v, line }
  elseif type(v) == "table" and #v > 0 then
    for i, p in ipairs(v) do
      if type(p) ~= "string" then
        problem(lines[v][i], "inputs: item " .. i .. " must be a path, not a " .. (next(p) and "mapping or list" or "list"))
      else
        items[#items + 1] = { p, lines[v][i] }
      end
    end
  else
    problem(line, "inputs: needs a glob (\"raw/*.csv\") or a list of paths")
    return {}
  end
  local out = {}
  for _, it in ipairs(items) do
    local p, l = it[1], it[2]
    if p == "" then
      problem(l, "inputs: an empty path")
    elseif p:find("[*?[]") then
      local found, err = sys.glob(under(job.dir, p))
      if not found then
        problem(l, "inputs: " .. err)
      else
        local n = 0
        for _, f in ipairs(found) do
          local rel = f
          if job.dir ~= "." and p:sub(1, 1) ~= "/" then rel = f:sub(#job.dir + 2) end
          if sys.stat(f) == "file" then
            out[#out + 1] = { path = rel, line = l }
            n = n + 1
          end
        end
        if n == 0 then
          -- say which folder is missing when that is the reason
          local fixed = p:match("^([^*?[]*)/") -- the folders before the first wildcard
          if fixed and sys.stat(under(job.dir, fixed)) ~= "dir" then
            problem(l, "inputs: '" .. p .. "' matched no file (there is no folder '" .. fixed .. "')")
          else
            problem(l, "inputs: '" .. p .. "' matched no file")
          end
        end
      end
    else
      local kind = sys.stat(under(job.dir, p))
      if kind == nil then
        problem(l, "inputs: '" .. p .. "' does not exist")
      elseif kind == "dir" then
        problem(l, "inputs: '" .. p .. "' is a directory (use a glob such as '" .. p .. "/*.csv')")
      else
        out[#out + 1] = { path = p, line = l }
      end
    end
  end
  return out
end

local function check_file(job, key, v, line, problem)
  if type(v) ~= "string" or is_null(v) then
    problem(line, key .. ": needs the path of a Lua script")
    return nil
  end
  local kind = sys.stat(under(job.dir, v))
  if kind == nil then
    problem(line, key .. ": '" .. v .. "' does not exist")
  elseif kind == "dir" then
    problem(line, key .. ": '" .. v .. "' is a directory, not a script")
  else
    return v
  end
end

-- Load and check a job file.  Returns the job, or nil and the list of
-- problems ("FILE:LINE: what"), all of them, in file order.
function M.load(path)
  local problems = {}
  local function problem(line, msg)
    problems[#problems + 1] = { line = line or 0, n = #problems, msg = path .. ":" .. (line or 1) .. ": " .. msg }
  end
  local ok, doc, lines = pcall(sys.read_yaml, path, 64 << 20)
  if not ok then return nil, { tostring(doc) } end
  if doc == nil and type(lines) == "table" then return nil, { path .. ":1: the job file is empty" } end
  if doc == nil then return nil, { lines } end -- cannot read
  if type(doc) ~= "table" or #doc > 0 then
    return nil, { path .. ":1: a job file is a mapping of keys (jinpu_batch, script, inputs, ...)" }
  end
  local at = lines[doc]
  local job = { file = path, dir = dirname(path), name = basename(path) }

  local present = {}
  for k in pairs(doc) do
    local known = false
    for _, n in ipairs(KNOWN) do if n == k then known = true end end
    if not known then
      present[#present + 1] = k
    end
  end
  table.sort(present)
  for _, k in ipairs(present) do problem(at[k], "unknown key '" .. k .. "'" .. suggest(k, KNOWN)) end

  -- jinpu_batch: the version of the job file format
  if doc.jinpu_batch == nil then
    problem(1, "missing 'jinpu_batch: 1' (the job file format version)")
  elseif doc.jinpu_batch ~= "1" then
    problem(at.jinpu_batch, "jinpu_batch: version '" .. tostring(type(doc.jinpu_batch) == "string" and doc.jinpu_batch or "?")
      .. "' is not supported (this jinpu reads version 1)")
  end

  if doc.script == nil then
    problem(1, "missing 'script:' (the Lua script each job runs)")
  else
    job.script = check_file(job, "script", doc.script, at.script, problem)
  end

  if doc.inputs == nil then
    problem(1, "missing 'inputs:' (a glob such as \"raw/*.csv\", or a list of paths)")
  else
    job.inputs = expand_inputs(job, doc.inputs, at.inputs, lines, problem)
  end

  job.args = {}
  if not is_null(doc.args) then
    if type(doc.args) ~= "table" or (next(doc.args) and #doc.args == 0) then
      problem(at.args, "args: needs a list, e.g. [\"10\", \"strict\"]")
    else
      for i, a in ipairs(doc.args) do
        if type(a) ~= "string" then
          problem(lines[doc.args][i], "args: item " .. i .. " must be a single value, not a list or mapping")
        else
          job.args[i] = a
        end
      end
    end
  end

  if doc.output == nil or is_null(doc.output) then
    problem(at.output or 1, "missing 'output:' (the folder that receives jobs/, logs/ and summary.json)")
  elseif type(doc.output) ~= "string" then
    problem(at.output, "output: needs a folder path")
  else
    job.output = doc.output:gsub("/+$", "")
    if job.output == "" then job.output = "/" end
    local kind = sys.stat(under(job.dir, job.output))
    if kind and kind ~= "dir" then problem(at.output, "output: '" .. doc.output .. "' exists and is not a folder") end
  end

  job.limits = {}
  if not is_null(doc.limits) then
    local l = doc.limits
    if type(l) ~= "table" or #l > 0 then
      problem(at.limits, "limits: needs a mapping, e.g. { memory: 512M, seconds: 300 }")
    else
      local where = lines[l]
      for k, v in pairs(l) do
        local known = k == "memory" or k == "seconds"
        if not known then
          problem(where[k], "limits: unknown key '" .. k .. "'" .. suggest(k, KNOWN_LIMITS))
        elseif type(v) ~= "string" then
          problem(where[k], "limits." .. k .. ": needs a single value")
        elseif k == "memory" then
          local bytes, why = M.parse_size(v)
          if not bytes then problem(where[k], "limits.memory: " .. why) end
          job.limits.memory = bytes
        else
          local secs, why = M.parse_seconds(v)
          if not secs then problem(where[k], "limits.seconds: " .. why) end
          job.limits.seconds = secs
        end
      end
    end
  end

  if not is_null(doc.jobs) then
    local n = type(doc.jobs) == "string" and math.tointeger(tonumber(doc.jobs))
    if not n or n < 1 or n > 4096 then
      problem(at.jobs, "jobs: needs a whole number from 1 to 4096, not '" .. tostring(type(doc.jobs) == "string" and doc.jobs or "?") .. "'")
    else
      job.jobs = n
    end
  end

  if not is_null(doc.reduce) then job.reduce = check_file(job, "reduce", doc.reduce, at.reduce, problem) end

  job.sandbox = true
  if not is_null(doc.sandbox) then
    if doc.sandbox == "true" then
      job.sandbox = true
    elseif doc.sandbox == "false" then
      job.sandbox = false
    else
      problem(at.sandbox, "sandbox: must be true or false")
    end
  end

  -- the jobs: one per input, named by its stem, in bytewise key order.
  -- Each is one string "key\0input" (a key holds no NUL, and NUL sorts
  -- first, so the strings sort as their keys): 10,000 jobs cost under a
  -- megabyte.  M.entry unpacks one.
  if job.inputs then
    local first_of, list = {}, {}
    for _, inp in ipairs(job.inputs) do
      local key = M.stem(inp.path)
      local first = first_of[key]
      if first then
        if first == inp.path then
          problem(inp.line, "inputs: '" .. inp.path .. "' is listed twice")
        else
          problem(inp.line, "inputs: '" .. first .. "' and '" .. inp.path .. "' have the same stem '"
            .. key .. "' (a job is named by its input's file name without the extension)")
        end
      else
        first_of[key] = inp.path
        list[#list + 1] = key .. "\0" .. inp.path
      end
    end
    table.sort(list)
    job.list = list
    job.inputs = nil
  end

  if #problems > 0 then
    table.sort(problems, function(a, b)
      if a.line ~= b.line then return a.line < b.line end
      return a.n < b.n
    end)
    local out = {}
    for i, p in ipairs(problems) do out[i] = p.msg end
    return nil, out
  end
  return job
end

return M
