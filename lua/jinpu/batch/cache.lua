-- lua/jinpu/batch/cache.lua - resume by content: whether a job must run,
-- and why.
--
-- A job is cached when everything that decides its outputs is what it was
-- in its last ok run -- the script's bytes and those of the Lua modules it
-- requires from its folder, the args, the input's bytes, the limits, the
-- sandbox setting and the jinpu version -- and its published outputs still
-- have the SHA-256 recorded then.  Times are never looked at: they drift on
-- shared file systems and say nothing about content.
--
-- Records live in OUTPUT/.jinpu/state/*.jsonl: each runner appends to a
-- file of its own (host, pid, nonce: shards and duplicates never write the
-- same file) one line per job, after a header line with what its jobs
-- shared (script, modules, args, limits, version, sandbox).  One file per
-- run rather than per job: creating files is the costly part of a job's
-- bookkeeping on busy file systems, and a rerun reads one file instead of
-- thousands.  The record of a job is its line with the highest attempt in
-- any file; a torn last line (a runner killed mid-write) is skipped.
--
-- A run writes the record of every job it decided: a new line for each
-- job that ran (but one stopped by an interruption), the loaded line,
-- with its header, for each cached one.  So after a run that decided
-- every job of the job file, its own file holds all the records and the
-- older files are removed; merge does the same for the shards' files.
-- Loaded lines are dropped once carried over, so a run holds in memory
-- only the records of jobs it has not reached yet.
local sys = require("jinpu.sys")
local jp = require("jinpu")
local json = require("jinpu.batch.json")
local jobfile = require("jinpu.batch.jobfile")

local M = {}

local q = json.value


-- ---- the parts common to every job ---------------------------------------------

-- Lua modules a source requires by a literal name: require("x.y"),
-- require "x", require('x').  Names computed at run time cannot be seen.
local function required_names(src)
  local names = {}
  for name in src:gmatch("require%s*%(?%s*[\"']([%w_%.%-]+)[\"']") do names[#names + 1] = name end
  return names
end

-- The modules found beside the script (searched as the job's LUA_PATH
-- does: DIR/name.lua, DIR/name/init.lua), followed through their own
-- requires.  Returns {relpath = sha256} and a sorted list of relpaths.
local function modules_of(dir, script_src)
  local found, order = {}, {}
  local queue = required_names(script_src)
  local seen = {}
  local i = 1
  while queue[i] do
    local name = queue[i]
    i = i + 1
    if not seen[name] then
      seen[name] = true
      local base = name:gsub("%.", "/")
      for _, rel in ipairs({ base .. ".lua", base .. "/init.lua" }) do
        local path = jobfile.under(dir, rel)
        if sys.stat(path) == "file" then
          local f = io.open(path, "rb")
          local src = f and f:read("a") or ""
          if f then f:close() end
          found[rel] = sys.sha256(src)
          order[#order + 1] = rel
          for _, n in ipairs(required_names(src)) do queue[#queue + 1] = n end
          break
        end
      end
    end
  end
  table.sort(order)
  return found, order
end

-- What every job of this run shares: {script=, modules=, args=, limits=,
-- version=, sandbox=, digest=} (each a short text; digest hashes them all).
function M.common(job, sandbox)
  local spath = jobfile.under(job.dir, job.script)
  local f, err = io.open(spath, "rb")
  if not f then error(err, 0) end
  local src = f:read("a")
  f:close()
  local c = {}
  c.script = sys.sha256(src)
  local sdir = jobfile.dirname(spath)
  c.modules, c.module_order = modules_of(sdir, src)
  local a = {}
  for i, v in ipairs(job.args) do a[i] = q(v) end
  c.args = json.array(a)
  c.limits = string.format("memory=%s seconds=%s", tostring(job.limits.memory or "none"),
    tostring(job.limits.seconds or "none"))
  c.version = jp.version
  c.sandbox = sandbox and "on" or "off"
  local parts = { "script " .. c.script }
  for _, rel in ipairs(c.module_order) do parts[#parts + 1] = "module " .. rel .. " " .. c.modules[rel] end
  parts[#parts + 1] = "args " .. c.args
  parts[#parts + 1] = "limits " .. c.limits
  parts[#parts + 1] = "version " .. c.version
  parts[#parts + 1] = "sandbox " .. c.sandbox
  c.digest = sys.sha256(table.concat(parts, "\n"))
  c.script_name = job.script
  return c
end

-- ---- state records --------------------------------------------------------------

local HEADER = '{"jinpu_batch_state": 1'

local S = {}
S.__index = S

-- Load the records of the jobs of `list` (those of shard s only, when s is
-- given) from OUTPUT/.jinpu/state.  `name` is this runner's own file.
-- Only where each job's record is (file, offset), its header and its
-- attempt stay in memory: a line is read again when it is needed, so
-- 10,000 records cost about a megabyte, not the lines' five.
function M.load(out, list, s, name)
  local st = setmetatable({ dir = out .. "/.jinpu/state", loc = {}, hdr = {}, att = {}, files = {},
    handles = {}, raw = {}, name = name }, S)
  local names = sys.listdir(st.dir) or {}
  table.sort(names)
  for _, n in ipairs(names) do
    if n:match("%.jsonl$") and #st.files < 4095 then
      local path = st.dir .. "/" .. n
      st.files[#st.files + 1] = path
      st:read_file(path, #st.files, list, s)
    end
  end
  collectgarbage() -- the lines read are garbage now; start the run without them
  return st
end

function S:read_file(path, idx, list, s)
  local f = io.open(path, "rb")
  if not f then return end
  self.handles[idx] = f
  local hdr
  local off = 0
  while true do
    local line = f:read("L")
    if not line then break end
    local here = off
    off = off + #line
    if line:sub(1, #HEADER) == HEADER then
      hdr = json.decode(line:gsub("\n$", ""))
      if hdr then self.raw[hdr] = line:gsub("\n$", "") end
    elseif hdr and line:sub(-2) == "}\n" then -- a torn last line has no end
      local key = line:match('^{"key": "([^"\\]*)",')
      if not key then
        local rec = json.decode(line)
        key = type(rec) == "table" and rec.key or nil
      end
      local attempt = tonumber(line:match('"attempt": (%d+)')) or 0
      local pos = key and jobfile.find(list, key)
      if pos and (not s or (pos - 1) % s.n == s.k) and attempt >= (self.att[key] or -1) then
        self.loc[key], self.hdr[key], self.att[key] = here * 4096 + idx, hdr, attempt
      end
    end
  end
end

-- The loaded line of a job's record, or nil.
function S:line(key)
  local loc = self.loc[key]
  if not loc then return nil end
  local f = self.handles[loc % 4096]
  f:seek("set", loc // 4096)
  local line = f:read("l")
  return line
end

-- The last record of a job: its fields and those of its header, or nil.
function S:get(key)
  local line = self:line(key)
  if not line then return nil end
  local rec = json.decode(line)
  if type(rec) ~= "table" then return nil end
  for k, v in pairs(self.hdr[key]) do
    if rec[k] == nil then rec[k] = v end
  end
  return rec
end

local function outputs_json(outputs)
  local list = {}
  for i, o in ipairs(outputs or {}) do
    list[i] = json.object({ "path", q(o.path), "bytes", q(o.bytes), "sha256", q(o.sha256) })
  end
  return json.array(list)
end
M.outputs_json = outputs_json

local function header_line(common)
  local mods = {}
  for _, rel in ipairs(common.module_order) do mods[#mods + 1] = q(rel) .. ": " .. q(common.modules[rel]) end
  return HEADER .. ", " .. json.object({
    "script", q(common.script),
    "modules", "{" .. table.concat(mods, ", ") .. "}",
    "args", common.args,
    "limits", q(common.limits),
    "version", q(common.version),
    "sandbox", q(common.sandbox),
  }):sub(2)
end

-- Append a line under the header whose text is `raw` (written first when
-- the file's last header is another one).  true | nil, message.
function S:append(raw, line, flush)
  if not self.out_file then
    local path = self.dir .. "/" .. self.name .. ".jsonl"
    local f, err = io.open(path, "ab")
    if not f then return nil, err end
    self.out_file, self.out_path = f, path
  end
  local ok, err = true, nil
  if self.cur_raw ~= raw then
    ok, err = self.out_file:write(raw, "\n")
    self.cur_raw = raw
  end
  if ok then ok, err = self.out_file:write(line, "\n") end
  if ok and flush then ok, err = self.out_file:flush() end
  return ok, err
end

-- Record how a job ended: rec = {key, status, exit, attempt, error,
-- outputs, input, input_sha256}.  Flushed at once: a line is whole or,
-- after a crash, torn at the end.  true | nil, message.
function S:record(rec, common)
  self.own_raw = self.own_raw or header_line(common)
  local line = json.object({
    "key", q(rec.key),
    "status", q(rec.status),
    "exit", q(rec.exit),
    "attempt", q(rec.attempt),
    "error", rec.error and q(rec.error),
    "digest", rec.status == "ok" and q(sys.sha256(common.digest .. "\ninput " .. rec.input_sha256)) or nil,
    "input", q(rec.input),
    "input_sha256", q(rec.input_sha256),
    "outputs", outputs_json(rec.outputs),
  })
  self.loc[rec.key], self.hdr[rec.key], self.att[rec.key] = nil, nil, nil
  return self:append(self.own_raw, line, true)
end

-- Carry the loaded record of a job over into this run's file (a cached
-- job), and forget it here.
function S:carry(key)
  local line = self:line(key)
  if not line then return true end
  local raw = self.raw[self.hdr[key]]
  self.loc[key], self.hdr[key], self.att[key] = nil, nil, nil
  return self:append(raw, line, false)
end

function S:close()
  if self.out_file then self.out_file:close() end
  self.out_file = nil
  for i, f in pairs(self.handles) do
    f:close()
    self.handles[i] = nil
  end
end

-- After every job of `list` was decided: carry over what is left and
-- remove the files read at the start, so that state is this run's file
-- alone.  Records of jobs no longer in the job file go.
function S:compact(list)
  for _, e in ipairs(list) do
    local ok, err = self:carry(jobfile.key(e))
    if not ok then return nil, err end
  end
  if self.out_file then
    local ok, err = self.out_file:flush()
    if not ok then return nil, err end
  end
  self:close()
  if not self.out_path then return true end -- no job at all: nothing to keep or remove
  for _, old in ipairs(self.files) do
    if old ~= self.out_path then os.remove(old) end
  end
  self.files = { self.out_path }
  return true
end

-- ---- deciding ---------------------------------------------------------------------

-- Do the published outputs of a job still match its record?  nil when they
-- do, else why not.
local function outputs_changed(out, key, outputs)
  local dir = out .. "/jobs/" .. key
  if sys.stat(dir) ~= "dir" then return "jobs/" .. key .. "/ is missing" end
  local paths, sizes = sys.walk(dir)
  if not paths then return sizes end
  local want = {}
  for _, o in ipairs(outputs) do want[o.path] = o end
  for i, p in ipairs(paths) do
    local rel = "jobs/" .. key .. "/" .. p
    local o = want[rel]
    if not o then return rel .. " is not one of its recorded outputs" end
    if o.bytes ~= sizes[i] then return "output " .. rel .. " changed (size)" end
    want[rel] = nil
  end
  local missing = next(want)
  if missing then return "output " .. missing .. " is missing" end
  for _, o in ipairs(outputs) do
    local hex = sys.sha256_file(out .. "/" .. o.path)
    if hex ~= o.sha256 then return "output " .. o.path .. " changed (SHA-256)" end
  end
  return nil
end

-- The first difference between a record and this run, as a reason.
local function what_changed(prev, c, input, input_sha)
  if prev.script ~= c.script then return "the script " .. c.script_name .. " changed" end
  local pm = type(prev.modules) == "table" and prev.modules or {}
  for _, rel in ipairs(c.module_order) do
    if pm[rel] == nil then return "the module " .. rel .. " is newly required" end
    if pm[rel] ~= c.modules[rel] then return "the module " .. rel .. " changed" end
  end
  for rel in pairs(pm) do
    if c.modules[rel] == nil then return "the module " .. rel .. " is no longer required" end
  end
  if json.array((function()
      local a = {}
      for i, v in ipairs(type(prev.args) == "table" and prev.args or {}) do a[i] = q(v) end
      return a
    end)()) ~= c.args then
    return "the args changed"
  end
  if prev.limits ~= c.limits then return "the limits changed (" .. tostring(prev.limits) .. " -> " .. c.limits .. ")" end
  if prev.version ~= c.version then return "jinpu " .. tostring(prev.version) .. " -> " .. c.version end
  if prev.sandbox ~= c.sandbox then return "the sandbox is now " .. c.sandbox end
  if prev.input_sha256 ~= input_sha then return "the input " .. input .. " changed" end
  return nil
end

-- Decide for one job: "run" or "cached", the reason, the previous record
-- (or nil) and the input's SHA-256 (nil when it cannot be read: the job
-- runs and fails on it).
function M.decide(out, job_dir, j, common, force, state)
  local prev = state:get(j.key)
  local input_sha = sys.sha256_file(jobfile.under(job_dir, j.input))
  if force then return "run", "--force", prev, input_sha end
  if not prev then return "run", "no record of an earlier run", prev, input_sha end
  if prev.status ~= "ok" then
    return "run", "its last run ended " .. tostring(prev.status), prev, input_sha
  end
  if not input_sha then return "run", "the input " .. j.input .. " cannot be read", prev, input_sha end
  local why = what_changed(prev, common, j.input, input_sha)
  if not why and prev.digest ~= sys.sha256(common.digest .. "\ninput " .. input_sha) then
    why = "its record does not match"
  end
  if why then return "run", why, prev, input_sha end
  why = outputs_changed(out, j.key, type(prev.outputs) == "table" and prev.outputs or {})
  if why then return "run", why, prev, input_sha end
  return "cached", "unchanged since its ok run (attempt " .. tostring(prev.attempt) .. ")", prev, input_sha
end

return M
