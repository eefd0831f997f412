-- lua/jinpu/batch/shard.lua - one run spread over machines by an existing
-- scheduler: which shard this process is (--shard K/N or --shard auto),
-- and the CPUs it was granted.
--
-- Shard K of N runs the jobs whose position in key order (from 0) is K
-- modulo N.  `auto` reads the scheduler's variables:
--   Slurm job arrays   SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of
--                      SLURM_ARRAY_TASK_COUNT (arrays with a step or gaps
--                      are refused: a shard would never run)
--   Kubernetes         JOB_COMPLETION_INDEX of JINPU_SHARD_COUNT (Indexed
--                      Jobs do not expose .spec.completions)
--   AWS Batch          AWS_BATCH_JOB_ARRAY_INDEX of AWS_BATCH_JOB_ARRAY_SIZE
-- Two sources that disagree are a usage error.
local sys = require("jinpu.sys")
local json = require("jinpu.batch.json")

local M = {}

local function int(s)
  if s == nil or not s:match("^%s*%d+%s*$") then return nil end
  return math.tointeger(tonumber(s))
end

-- One source's opinion: {k, n, source, ...} | nil (absent) | false, why.
local function slurm(getenv)
  local id = getenv("SLURM_ARRAY_TASK_ID")
  if not id then return nil end
  local min, count = int(getenv("SLURM_ARRAY_TASK_MIN")), int(getenv("SLURM_ARRAY_TASK_COUNT"))
  local max, step = int(getenv("SLURM_ARRAY_TASK_MAX")), getenv("SLURM_ARRAY_TASK_STEP")
  if not int(id) or not min or not count or count < 1 then
    return false, "SLURM_ARRAY_TASK_ID is set, but SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT are not both numbers"
  end
  if step and int(step) ~= 1 then
    return false, string.format("the Slurm array has a step of %s: shards must be numbered without gaps "
      .. "(submit --array=0-%d instead)", step, count - 1)
  end
  if max and max - min + 1 ~= count then
    return false, string.format("the Slurm array has gaps (%d tasks between %d and %d): shards must be "
      .. "numbered without gaps (submit --array=0-%d instead)", count, min, max, count - 1)
  end
  return { k = int(id) - min, n = count, source = "slurm", slurm_min = min, slurm_job_name = getenv("SLURM_JOB_NAME") }
end

local function kubernetes(getenv)
  local idx = getenv("JOB_COMPLETION_INDEX")
  if not idx then return nil end
  local n = int(getenv("JINPU_SHARD_COUNT"))
  if not int(idx) then return false, "JOB_COMPLETION_INDEX='" .. idx .. "' is not a number" end
  if not n or n < 1 then
    return false, "JOB_COMPLETION_INDEX is set: set JINPU_SHARD_COUNT to the Job's .spec.completions "
      .. "(Kubernetes does not tell a pod how many indexes there are)"
  end
  return { k = int(idx), n = n, source = "kubernetes" }
end

local function aws(getenv)
  local idx = getenv("AWS_BATCH_JOB_ARRAY_INDEX")
  if not idx then return nil end
  local n = int(getenv("AWS_BATCH_JOB_ARRAY_SIZE"))
  if not int(idx) then return false, "AWS_BATCH_JOB_ARRAY_INDEX='" .. idx .. "' is not a number" end
  if not n or n < 1 then return false, "AWS_BATCH_JOB_ARRAY_INDEX is set, but AWS_BATCH_JOB_ARRAY_SIZE is not a number" end
  return { k = int(idx), n = n, source = "aws" }
end

-- Parse --shard: "K/N" or "auto".  Returns the shard or nil and a message.
function M.parse(spec, getenv)
  getenv = getenv or os.getenv
  local s
  if spec == "auto" then
    local found = {}
    for _, f in ipairs({ slurm, kubernetes, aws }) do
      local r, why = f(getenv)
      if r == false then return nil, "--shard auto: " .. why end
      if r then found[#found + 1] = r end
    end
    if #found == 0 then
      return nil, "--shard auto: no scheduler variables found (Slurm SLURM_ARRAY_TASK_ID, Kubernetes "
        .. "JOB_COMPLETION_INDEX, AWS Batch AWS_BATCH_JOB_ARRAY_INDEX)"
    end
    for i = 2, #found do
      if found[i].k ~= found[1].k or found[i].n ~= found[1].n then
        return nil, string.format("--shard auto: %s says shard %d of %d but %s says %d of %d",
          found[1].source, found[1].k, found[1].n, found[i].source, found[i].k, found[i].n)
      end
    end
    s = found[1]
  else
    local k, n = spec:match("^(%d+)/(%d+)$")
    if not k then return nil, "--shard needs K/N (0 <= K < N) or auto, not '" .. spec .. "'" end
    s = { k = math.tointeger(tonumber(k)), n = math.tointeger(tonumber(n)), source = "manual" }
  end
  if not s.k or not s.n or s.n < 1 or s.k < 0 or s.k >= s.n then
    return nil, string.format("--shard: shard %s of %s does not exist (0 <= K < N)", tostring(s.k), tostring(s.n))
  end
  return s
end

-- The jobs of shard s (all of them when s is nil).
function M.select(list, s)
  if not s then return list end
  local mine = {}
  for pos, j in ipairs(list) do
    if (pos - 1) % s.n == s.k then mine[#mine + 1] = j end
  end
  return mine
end

function M.json(s)
  local q = json.value
  return json.object({ "index", q(s.k), "count", q(s.n), "source", q(s.source),
    "slurm_array_min", s.slurm_min and q(s.slurm_min), "slurm_job_name", s.slurm_job_name and q(s.slurm_job_name) })
end

function M.file(s, what)
  return string.format("%s.%d-of-%d.json", what, s.k, s.n)
end

-- ---- the CPUs granted ------------------------------------------------------------

local function read_first(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("l")
  f:close()
  return s
end

-- The CPU quota of this process's cgroup (v2 cpu.max or v1 cfs quota), as a
-- number of CPUs, or nil when there is none.  The lowest along the path.
local function cgroup_cpus()
  local f = io.open("/proc/self/cgroup", "rb")
  if not f then return nil end
  local v2, v1
  for line in f:lines() do
    local p = line:match("^0::(.*)$")
    if p then v2 = p end
    local ctrls, p1 = line:match("^%d+:([^:]*):(.*)$")
    if ctrls and ("," .. ctrls .. ","):find(",cpu,", 1, true) then v1 = { ctrls, p1 } end
  end
  f:close()
  local best
  local function take(q)
    if q and q > 0 and (not best or q < best) then best = q end
  end
  local function walk(base, path, reader)
    path = path or "/"
    while true do
      take(reader(base .. (path == "/" and "" or path)))
      if path == "/" or path == "" then break end
      path = path:match("^(.*)/[^/]*$")
      if path == "" then path = "/" end
    end
  end
  if v2 then
    walk("/sys/fs/cgroup", v2, function(dir)
      local s = read_first(dir .. "/cpu.max")
      local quota, period = (s or ""):match("^(%d+)%s+(%d+)")
      return quota and tonumber(quota) / tonumber(period)
    end)
  end
  if v1 then
    for _, base in ipairs({ "/sys/fs/cgroup/" .. v1[1], "/sys/fs/cgroup/cpu" }) do
      walk(base, v1[2], function(dir)
        local quota = tonumber(read_first(dir .. "/cpu.cfs_quota_us") or "")
        local period = tonumber(read_first(dir .. "/cpu.cfs_period_us") or "")
        return quota and period and quota > 0 and period > 0 and quota / period
      end)
    end
  end
  return best
end

-- The number of CPUs this process may use and where the figure comes from:
-- the affinity mask, lowered by a cgroup quota and by SLURM_CPUS_PER_TASK.
function M.granted_cpus(getenv)
  getenv = getenv or os.getenv
  local n, from = sys.affinity(), "CPU affinity"
  local q = cgroup_cpus()
  if q and math.ceil(q) < n then n, from = math.max(1, math.ceil(q)), "cgroup CPU quota" end
  local s = int(getenv("SLURM_CPUS_PER_TASK"))
  if s and s >= 1 and s <= n then n, from = s, "SLURM_CPUS_PER_TASK" end
  return n, from
end

return M
