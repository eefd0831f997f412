-- lua/jinpu/batch/merge.lua - `jinpu batch merge JOB.yaml`: after the
-- shards of a run, check that every job of the job file is in exactly one
-- shard summary and ended ok (or cached), then write summary.json and
-- timings.json and run the reduce, exactly as one machine running the
-- whole job file would.
--
-- The job lines are taken from the shard summaries as written (the same
-- writer wrote them), so the merged summary is the one-machine summary
-- byte for byte.  A shard that is missing, was written for another version
-- of the job file or by another jinpu, or holds a job that did not end ok,
-- makes merge exit 3 naming the shard files and the job keys, with a line
-- to resubmit those shards; nothing is written and nothing reduced.
local jp = require("jinpu")
local sys = require("jinpu.sys")
local jobfile = require("jinpu.batch.jobfile")
local runner = require("jinpu.batch.runner")
local record = require("jinpu.batch.record")
local shard = require("jinpu.batch.shard")
local progress = require("jinpu.batch.progress")

local M = {}

-- "0-2,5,7-8" from sorted integers
local function ranges(list)
  local out, i = {}, 1
  while list[i] do
    local j = i
    while list[j + 1] == list[j] + 1 do j = j + 1 end
    out[#out + 1] = j > i and (list[i] .. "-" .. list[j]) or tostring(list[i])
    i = j + 1
  end
  return table.concat(out, ",")
end

-- The shard counts N for which summary.K-of-N.json files exist.
local function shard_counts(out)
  local ns = {}
  for _, name in ipairs(sys.listdir(out) or {}) do
    local _, n = name:match("^summary%.(%d+)%-of%-(%d+)%.json$")
    if n then ns[tonumber(n)] = true end
  end
  local list = {}
  for n in pairs(ns) do list[#list + 1] = n end
  table.sort(list)
  return list
end

local function say(...)
  io.stderr:write(string.format(...), "\n")
end

function M.merge(job, opts)
  local out = jobfile.under(job.dir, job.output)
  local job_sha = assert(sys.sha256_file(job.file))
  local n = opts.shards
  if not n then
    local ns = shard_counts(out)
    if #ns == 0 then
      say("jinpu batch merge: no shard summaries (summary.K-of-N.json) in %s: run the shards first "
        .. "(jinpu batch %s --shard K/N)", out, job.file)
      return 3
    end
    if #ns > 1 then
      say("jinpu batch merge: %s holds shard summaries of runs with %s shards: pass --shards N to choose "
        .. "(and remove the others)", out, table.concat(ns, " and "))
      return 3
    end
    n = ns[1]
  end

  -- which shard each job belongs to
  local shard_of = {}
  for pos, e in ipairs(job.list) do shard_of[jobfile.key(e)] = (pos - 1) % n end

  local problems, rerun = {}, {}
  local found, timings = {}, {}
  local slurm_min, slurm_name
  for k = 0, n - 1 do
    local file = out .. "/" .. shard.file({ k = k, n = n }, "summary")
    local h, jobs = record.read_summary(file)
    local stale
    if not h then
      stale = jobs == "missing" and (file .. " is missing") or jobs
    elseif h.job_file_sha256 ~= job_sha then
      stale = file .. " was written for another version of " .. job.name
    elseif h.jinpu_version ~= jp.version then
      stale = file .. " was written by jinpu " .. tostring(h.jinpu_version) .. ", this is " .. jp.version
    end
    if h and type(h.shard) == "table" then
      slurm_min = slurm_min or math.tointeger(h.shard.slurm_array_min)
      slurm_name = slurm_name or h.shard.slurm_job_name
    end
    if stale then
      problems[#problems + 1] = stale
      rerun[#rerun + 1] = k
    else
      local bad = false
      for _, e in ipairs(jobs) do
        local key, st = e.rec.key, e.rec.status
        if shard_of[key] == nil then
          problems[#problems + 1] = string.format("%s: job '%s' is not a job of %s (a stale summary?)", file,
            tostring(key), job.name)
          bad = true
        elseif shard_of[key] ~= k or found[key] then
          problems[#problems + 1] = string.format("%s: job '%s' belongs to shard %d of %d", file, key,
            shard_of[key], n)
          bad = true
        else
          found[key] = e
        end
        if st ~= "ok" and st ~= "cached" and shard_of[key] == k then bad = true end
      end
      if h.interrupted then bad = true end
      if bad then rerun[#rerun + 1] = k end
      timings[k] = record.read_timings(out .. "/" .. shard.file({ k = k, n = n }, "timings")) or {}
    end
  end

  -- every job in exactly one summary, and ok
  local lines, counts, missing = {}, {}, {}
  for _, entry in ipairs(job.list) do
    local j = jobfile.entry(entry)
    local e = found[j.key]
    if not e then
      missing[#missing + 1] = j.key
    else
      local st = e.rec.status
      if st ~= "ok" and st ~= "cached" then
        problems[#problems + 1] = string.format("job '%s' (shard %d) ended %s%s", j.key, shard_of[j.key], tostring(st),
          e.rec.error and (": " .. e.rec.error) or "")
      end
      lines[#lines + 1] = e.line
      counts[st] = (counts[st] or 0) + 1
    end
  end
  if #missing > 0 then
    local shown = table.move(missing, 1, math.min(#missing, 20), 1, {})
    problems[#problems + 1] = string.format("%d job%s in no shard summary: %s%s", #missing,
      #missing == 1 and " is" or "s are", table.concat(shown, ", "), #missing > 20 and ", ..." or "")
    for _, key in ipairs(missing) do
      local k = shard_of[key]
      local listed = false
      for _, r in ipairs(rerun) do if r == k then listed = true end end
      if not listed then rerun[#rerun + 1] = k end
    end
  end

  if #problems > 0 then
    table.sort(rerun)
    for _, p in ipairs(problems) do say("jinpu batch merge: %s", p) end
    local ids = {}
    for i, k in ipairs(rerun) do ids[i] = k + (slurm_min or 0) end
    say("jinpu batch merge: shards to run again: %s of %d; nothing was merged or reduced", ranges(rerun), n)
    say("  sbatch --array=%s %s", ranges(ids), slurm_name or "YOUR_BATCH_SCRIPT")
    say("  (or, on one machine: %s)", (function()
      local cmds = {}
      for i, k in ipairs(rerun) do
        if i > 3 then
          cmds[#cmds + 1] = "..."
          break
        end
        cmds[#cmds + 1] = string.format("jinpu batch %s --shard %d/%d", job.file, k, n)
      end
      return table.concat(cmds, "; ")
    end)())
    return 3
  end

  -- merged timings: the shards' job entries in key order
  local tlines = {}
  for _, e in ipairs(job.list) do
    local key = jobfile.key(e)
    local t = timings[shard_of[key]]
    if t and t[key] then tlines[#tlines + 1] = t[key] end
  end

  local ctx, err = runner.context(job, opts)
  if not ctx then
    say("jinpu batch merge: %s", err)
    return 3
  end
  local ui = progress.new({ format = opts.log_format, total = #job.list })
  sys.trap(true)
  local res = { lines = record.each(lines), counts = counts, timings = record.each(tlines), not_run = {},
    state = require("jinpu.batch.cache").load(out, job.list, nil, ctx.name) }
  return runner.complete(ctx, nil, res, ui, job_sha, job.list)
end

return M
