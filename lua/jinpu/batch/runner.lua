-- lua/jinpu/batch/runner.lua - running the jobs of a checked job file.
--
-- Each job is its own `jinpu run` process (started by posix_spawn through
-- jinpu.sys, never in this Lua state), in its own process group, with the
-- job file's folder as its directory:
--
--   jinpu run [--sandbox --allow-read JOBDIR --allow-write OUTDIR] SCRIPT INPUT OUTDIR ARGS...
--
-- OUTDIR is private: OUTPUT/.jinpu/tmp/<host>-<pid>-<nonce>/<key>.out, with
-- a private TMPDIR (<key>.tmp) and a log (<key>.log) beside it.
-- When the job ends ok its outputs are hashed and the directory is renamed
-- to OUTPUT/jobs/<key> in one step; whatever the end, the log is renamed to
-- OUTPUT/logs/<key>.log.  So OUTPUT/jobs/ only ever holds whole jobs, and
-- duplicates of a job (a requeued shard) race harmlessly.
--
-- Limits: JINPU_MAX_MEMORY and JINPU_MAX_SECONDS in the child's
-- environment (it stops itself with exit 4 or 5), an RLIMIT_AS backstop
-- (twice the memory limit plus 1 GiB: address space, not memory in use),
-- and a SIGKILL from here GRACE seconds after the time limit.
--
-- On SIGINT or SIGTERM nothing new starts, running jobs get SIGTERM (and
-- SIGKILL STOP_GRACE seconds later, or at a second signal), their logs are
-- kept, nothing of theirs is published, and the summary is written.
local sys = require("jinpu.sys")
local cache = require("jinpu.batch.cache")
local jobfile = require("jinpu.batch.jobfile")
local record = require("jinpu.batch.record")
local shard = require("jinpu.batch.shard")
local jp = require("jinpu")

local M = {}

local GRACE = 2      -- seconds past the time limit before the runner kills
local STOP_GRACE = 5 -- seconds between SIGTERM and SIGKILL when stopping
local GiB = 1024 * 1024 * 1024

-- ---- the run's folders and commands -------------------------------------------

-- ctx: everything a run needs besides the job list.  Creates the output
-- folders unless `dry`.
function M.context(job, opts)
  local ctx = { job = job, opts = opts }
  ctx.sandbox = job.sandbox and not opts.no_sandbox
  ctx.out = jobfile.under(job.dir, job.output) -- as seen from here
  ctx.exe = assert(sys.exe())
  ctx.host = sys.hostname()
  if not opts.dry then
    for _, d in ipairs({ "/jobs", "/logs", "/.jinpu/state", "/.jinpu/tmp" }) do
      local ok, err = sys.mkdirs(ctx.out .. d)
      if not ok then return nil, err end
    end
    ctx.out_abs = assert(sys.realpath(ctx.out))
    ctx.jobdir_abs = assert(sys.realpath(job.dir))
    -- this runner's name: its private folder and its state file
    ctx.name = string.format("%s-%d-%06x", ctx.host, sys.pid(), math.random(0, 0xffffff))
    ctx.run_tmp = ctx.out_abs .. "/.jinpu/tmp/" .. ctx.name
    local ok, err = sys.mkdirs(ctx.run_tmp)
    if not ok then return nil, err end
    ctx.tmp_pool, ctx.ntmp = {}, 0
  else
    ctx.jobdir_abs = sys.realpath(job.dir) or job.dir
  end
  local sdir = jobfile.dirname(jobfile.under(job.dir, job.script))
  local sdir_abs = sys.realpath(sdir) or sdir
  ctx.lua_path = sdir_abs .. "/?.lua;" .. sdir_abs .. "/?/init.lua;" .. (os.getenv("LUA_PATH") or ";")
  ctx.env = {
    JINPU_MAX_MEMORY = job.limits.memory and tostring(job.limits.memory) or false,
    JINPU_MAX_SECONDS = job.limits.seconds and tostring(job.limits.seconds) or false,
    LUA_PATH = ctx.lua_path,
  }
  if job.limits.memory and not sys.sanitized() then ctx.rlimit_as = job.limits.memory * 2 + GiB end
  return ctx
end

-- Remove what runners of this host that no longer exist left in .jinpu/tmp
-- (a runner killed with SIGKILL): never another machine's, never a live one's.
function M.clean_stale(ctx)
  local base = ctx.out_abs .. "/.jinpu/tmp"
  for _, name in ipairs(sys.listdir(base) or {}) do
    local host, pid = name:match("^(.*)%-(%d+)%-%x+$")
    if host == ctx.host and tonumber(pid) ~= sys.pid() and not sys.alive(tonumber(pid)) then
      sys.rmtree(base .. "/" .. name)
    end
  end
end

-- The argv of a job's process (paths relative to the job file's folder,
-- which is the child's directory, except OUTDIR).
function M.argv(ctx, script, outdir, rest)
  local argv = { ctx.exe, "run" }
  if ctx.sandbox then
    for _, a in ipairs({ "--sandbox", "--allow-read", ctx.jobdir_abs, "--allow-write", outdir }) do
      argv[#argv + 1] = a
    end
  end
  argv[#argv + 1] = script
  for _, a in ipairs(rest) do argv[#argv + 1] = a end
  return argv
end

-- A command line for people (dry runs).
function M.show(argv)
  local out = { "jinpu" }
  for i = 2, #argv do
    local a = argv[i]
    if a:find("[^%w_%-%./:=,+@]") then a = "'" .. a:gsub("'", "'\\''") .. "'" end
    out[#out + 1] = a
  end
  return table.concat(out, " ")
end

-- ---- one process ------------------------------------------------------------------

-- Prepare the private paths of a process: BASE.out (its output
-- directory) and BASE.log (its stdout and stderr), flat under the run's
-- folder, and a private TMPDIR.  Returns the task, or nil and why.
--
-- The runner prepares the next job while the running ones work, so that a
-- free CPU gets its job at once: creating directories and files is the
-- slowest part of starting a job on some file systems.  For the same
-- reason temporary directories are kept in a pool and handed to the next
-- job when a job leaves its own empty (the usual case): a job must find
-- its TMPDIR empty, not new.
function M.prepare(ctx, base)
  local t = { base = base }
  local ok, err = sys.mkdirs(base .. ".out")
  if ok then
    local f
    f, err = io.open(base .. ".log", "wb")
    ok = f and f:close()
  end
  if ok then
    t.tmp = table.remove(ctx.tmp_pool)
    if not t.tmp then
      ctx.ntmp = ctx.ntmp + 1
      t.tmp = ctx.run_tmp .. "/tmp" .. ctx.ntmp
      ok, err = sys.mkdirs(t.tmp)
      if not ok then t.tmp = nil end
    end
  end
  if not ok then
    M.cleanup(ctx, t)
    return nil, err
  end
  return t
end

-- Start a prepared task with the argv argv_fn(OUTDIR) returns.  true, or
-- nil and why (the task is then cleaned up).
function M.launch(ctx, t, argv_fn)
  local env = ctx.env -- shared: only TMPDIR differs between jobs
  env.TMPDIR = t.tmp
  local pid, err = sys.spawn(ctx.exe, argv_fn(t.base .. ".out"), {
    cwd = ctx.job.dir, log = t.base .. ".log", env = env, rlimit_as = ctx.rlimit_as,
  })
  if not pid then
    M.cleanup(ctx, t)
    return nil, err
  end
  t.pid, t.start = pid, sys.now()
  if ctx.job.limits.seconds then t.deadline = t.start + ctx.job.limits.seconds + GRACE end
  return true
end

-- Remove what is left of a process's private paths; its TMPDIR goes back
-- to the pool when the process left it empty.
function M.cleanup(ctx, t)
  if not t.published then sys.rmtree(t.base .. ".out") end
  if not t.log_kept then sys.rmtree(t.base .. ".log") end
  if not t.tmp then return end
  local left = sys.listdir(t.tmp)
  if left and #left == 0 then
    ctx.tmp_pool[#ctx.tmp_pool + 1] = t.tmp
  else
    sys.rmtree(t.tmp)
  end
end

-- The last error line of a log: the last non-blank line before the last
-- traceback ("stack traceback:" and its indented lines are skipped).
function M.last_error(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:seek("set", math.max(0, size - 16384))
  local s = f:read("a") or ""
  f:close()
  local lines = {}
  for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local stop = #lines
  for i = #lines, 1, -1 do
    if lines[i]:match("^stack traceback:") then
      stop = i - 1
      break
    end
  end
  for i = stop, 1, -1 do
    local l = lines[i]:gsub("%s+$", "")
    if l ~= "" and not l:match("^\t") then
      if #l > 500 then l = l:sub(1, 497) .. "..." end
      return l
    end
  end
  return nil
end

-- The status of an ended process: status, exit (nil for a signal), error.
function M.classify(t, how, code, limits)
  if how == "exit" and code == 0 then return "ok", 0 end
  if t.killed == "stop" then
    return "failed", how == "exit" and code or nil, "stopped: the run was interrupted (" .. t.stop_signal .. ")"
  end
  if how == "exit" then
    local line = M.last_error(t.base .. ".log")
    if code == 1 then return "invalid", 1, line or "the data failed validation (exit 1)" end
    if code == 4 then return "oom", 4, line or "out of memory (exit 4)" end
    if code == 5 then return "timeout", 5, line or "time limit exceeded (exit 5)" end
    -- a C allocation refused by the RLIMIT_AS backstop ends as a runtime error
    if code == 3 and line and (line:find("out of memory") or line:find("not enough memory")) then
      return "oom", 3, line
    end
    return "failed", code, line or ("exit status " .. code)
  end
  if t.killed == "time" then
    return "timeout", nil, string.format("killed %g s after its time limit of %g s", GRACE, limits.seconds)
  end
  local line = M.last_error(t.base .. ".log")
  return "failed", nil, "killed by " .. code .. (line and (": " .. line) or "")
end

-- Hash the outputs in the directory OUT: {path = "jobs/KEY/rel", bytes,
-- sha256}, or nil and why.
local function collect_outputs(out, key)
  local paths, sizes = sys.walk(out)
  if not paths then return nil, sizes end
  local outs = {}
  for i, p in ipairs(paths) do
    local hex, bytes = sys.sha256_file(out .. "/" .. p)
    if not hex then return nil, bytes end
    outs[i] = { path = "jobs/" .. key .. "/" .. p, bytes = bytes or sizes[i], sha256 = hex }
  end
  return outs
end

-- How a job ended, made final: its outputs hashed and published when it
-- ended ok (or the job failed when that cannot be done), an older jobs/<key>
-- removed when it did not, its log kept.  Returns its summary record.
function M.settle(ctx, t, how, code)
  local j, key = t.job, t.job.key
  local status, exit, err = M.classify(t, how, code, ctx.job.limits)
  local rec = { key = key, input = j.input, status = status, exit = exit, attempt = t.attempt,
    log = "logs/" .. key .. ".log", input_sha256 = t.input_sha }
  if status == "ok" then
    local outs, oerr = collect_outputs(t.base .. ".out", key)
    local done, perr
    if outs then done, perr = sys.publish(t.base .. ".out", ctx.out_abs .. "/jobs/" .. key) end
    t.published = done
    if outs and done then
      rec.outputs = outs
    else
      rec.status, rec.error = "failed", oerr or perr
    end
  end
  if rec.status ~= "ok" then
    rec.error = rec.error or err
    -- a failed rerun leaves no outputs of an earlier run behind (a stop
    -- by an interruption says nothing about them: they stay)
    if t.killed ~= "stop" then sys.rmtree(ctx.out_abs .. "/jobs/" .. key) end
  end
  t.log_kept = os.rename(t.base .. ".log", ctx.out_abs .. "/logs/" .. key .. ".log")
  return rec
end

-- ---- the run ------------------------------------------------------------------------

local function count(counts, status)
  counts[status] = (counts[status] or 0) + 1
end

-- Watch running tasks until they end.  st.running maps pid -> task;
-- on_end(task, how, code, rss) is called for each that ended; more() may
-- start and prepare tasks (called at every turn); launch_ready() starts the
-- prepared ones in the slots that just came free, before the bookkeeping of
-- the tasks that left them.  Kills tasks past their deadline, stops all on
-- SIGINT/SIGTERM.  Returns the signal that stopped the run, or nil.
function M.supervise(ctx, st, on_end, more, launch_ready)
  launch_ready = launch_ready or function() end
  while true do
    if not st.stopping then more() end
    if st.nrunning == 0 and (st.stopping or st.exhausted) then break end
    local now = sys.now()
    local wake = now + st.ui:tick_interval()
    for _, t in pairs(st.running) do
      if t.deadline and not t.killed and t.deadline < wake then wake = t.deadline end
      if t.kill_at and t.kill_at < wake then wake = t.kill_at end
    end
    local pid, how, code, rss = sys.wait(math.max(0.005, wake - now))
    -- every process that ended, then their successors, then the
    -- bookkeeping: the runner's file work overlaps running jobs instead of
    -- leaving a CPU idle
    local ended = {}
    while pid do
      local t = st.running[pid]
      if t then
        st.running[pid] = nil
        st.nrunning = st.nrunning - 1
        ended[#ended + 1] = { t, how, code, rss }
      end
      pid, how, code, rss = sys.wait(0)
    end
    if #ended > 0 and not st.stopping and sys.signals() == st.seen_signals then launch_ready() end
    for _, e in ipairs(ended) do on_end(e[1], e[2], e[3], e[4]) end
    local n, sig = sys.signals()
    if n > st.seen_signals then
      st.seen_signals = n
      if not st.stopping then
        st.stopping = sig
        for p, t in pairs(st.running) do
          t.killed, t.stop_signal, t.kill_at = "stop", sig, sys.now() + STOP_GRACE
          sys.kill(p, "TERM")
        end
      else
        for p in pairs(st.running) do sys.kill(p, "KILL") end
      end
    end
    now = sys.now()
    for p, t in pairs(st.running) do
      if t.deadline and not t.killed and now >= t.deadline then
        t.killed = "time"
        sys.kill(p, "KILL")
      elseif t.kill_at and now >= t.kill_at then
        t.kill_at = nil
        sys.kill(p, "KILL")
      end
    end
    st.ui:tick()
  end
  return st.stopping
end

-- Run the jobs `mine` (a job list, see jobfile.entry).  The summary and
-- timing lines go to spool files in key order as soon as every earlier job
-- has its line (only the lines of jobs that ended before a slower earlier
-- one wait in memory), so the runner's memory does not grow with the
-- number of jobs.  Returns {lines_path, timings_path (the spools), counts,
-- not_run (keys), stopped (a signal name or nil)}.
function M.run_jobs(ctx, mine, common, parallelism, ui, state)
  local job, opts = ctx.job, ctx.opts
  local st = { running = {}, nrunning = 0, seen_signals = select(1, sys.signals()), ui = ui }
  ctx.st = st -- for M.abandon
  ui:watch(function() return st.nrunning end)
  local spool_path, tspool_path = ctx.run_tmp .. "/summary.jsonl", ctx.run_tmp .. "/timings.jsonl"
  local spool = assert(io.open(spool_path, "wb"))
  local tspool = assert(io.open(tspool_path, "wb"))
  local pending, tpending = {}, {} -- pos -> line, until written
  local written = 0                -- positions 1..written are in the spools
  local counts, not_run = {}, {}
  local next_i = 1

  -- write the settled lines; at the end (final), skip the jobs that never ran
  local function flush(final)
    while written < #mine do
      local pos = written + 1
      local line = pending[pos]
      if line == nil and not final then break end
      if line then
        assert(spool:write(line, "\n"))
        pending[pos] = nil
        local t = tpending[pos]
        if t then
          assert(tspool:write(t, "\n"))
          tpending[pos] = nil
        end
      else
        not_run[#not_run + 1] = jobfile.key(mine[pos])
      end
      written = pos
    end
  end

  local function finish(pos, rec, secs, rss)
    local line, fields = record.job_line(rec)
    pending[pos] = line
    count(counts, rec.status)
    if secs then tpending[pos] = record.timing_line(rec.key, secs, rss, ctx.host) end
    ui:job_end(rec, fields, secs, rss)
    flush(false)
  end

  local function on_end(t, how, code, rss)
    local rec = M.settle(ctx, t, how, code)
    if t.killed ~= "stop" then
      local ok, serr = state:record(rec, common)
      if not ok then ui:say("jinpu batch: " .. rec.key .. ": cannot record the job: " .. tostring(serr)) end
    end
    M.cleanup(ctx, t)
    finish(t.pos, rec, sys.now() - t.start, rss)
  end

  -- The next jobs to start, prepared ahead (as many as run at once, at
  -- most 4), so that jobs ending together are replaced at once; cached
  -- jobs met on the way are recorded there and then.
  local staged, nstaged = {}, 0
  local ahead = math.min(parallelism, 4)
  local function stage()
    while nstaged < ahead and next_i <= #mine do
      if sys.signals() > st.seen_signals then return end -- the loop stops the run
      local pos = next_i
      local j = jobfile.entry(mine[pos])
      next_i = next_i + 1
      local action, reason, prev, input_sha = cache.decide(ctx.out_abs, job.dir, j, common, opts.force, state)
      if opts.explain then ui:explain(j, action, reason) end
      if action == "cached" then
        local ok, serr = state:carry(j.key)
        if not ok then ui:say("jinpu batch: " .. j.key .. ": cannot record the job: " .. tostring(serr)) end
        finish(pos, { key = j.key, input = j.input, status = "cached", exit = prev.exit,
          attempt = prev.attempt, outputs = prev.outputs, log = "logs/" .. j.key .. ".log" })
      else
        local attempt = (prev and math.tointeger(prev.attempt) or 0) + 1
        local t, err = M.prepare(ctx, ctx.run_tmp .. "/" .. j.key)
        if not t then
          ui:job_start(j, attempt)
          finish(pos, { key = j.key, input = j.input, status = "failed", exit = nil, attempt = attempt,
            log = "logs/" .. j.key .. ".log", error = err }, 0, 0)
        else
          t.job, t.pos, t.attempt, t.input_sha = j, pos, attempt, input_sha
          nstaged = nstaged + 1
          staged[nstaged] = t
        end
      end
    end
  end

  -- fill the free slots from the prepared jobs (preparing when none is)
  local function launch_ready()
    while st.nrunning < parallelism do
      if nstaged == 0 then stage() end
      if nstaged == 0 then break end
      local t = table.remove(staged, 1)
      nstaged = nstaged - 1
      local rest = { t.job.input, false }
      for _, a in ipairs(job.args) do rest[#rest + 1] = a end
      local ok, err = M.launch(ctx, t, function(outdir)
        rest[2] = outdir
        return M.argv(ctx, job.script, outdir, rest)
      end)
      if ok then
        st.running[t.pid] = t
        st.nrunning = st.nrunning + 1
      end
      ui:job_start(t.job, t.attempt)
      if not ok then
        finish(t.pos, { key = t.job.key, input = t.job.input, status = "failed", exit = nil, attempt = t.attempt,
          log = "logs/" .. t.job.key .. ".log", error = err }, 0, 0)
      end
    end
  end

  local function more()
    launch_ready()
    stage() -- the next ones, while the others run
    if nstaged == 0 and next_i > #mine then st.exhausted = true end
  end

  local stopped = M.supervise(ctx, st, on_end, more, launch_ready)
  for _, t in ipairs(staged) do M.cleanup(ctx, t) end -- prepared, never started
  flush(true)
  assert(spool:close())
  assert(tspool:close())
  return { lines_path = spool_path, timings_path = tspool_path, counts = counts, not_run = not_run,
    stopped = stopped, state = state }
end

-- Run the reduce: REDUCE OUTPUT_ROOT JOBDIR... with the job file's folder as
-- its directory.  Returns {status, exit, error, seconds, rss, stopped}.
function M.run_reduce(ctx, keys, ui)
  local job = ctx.job
  local rest = { job.output }
  for _, k in ipairs(keys) do rest[#rest + 1] = job.output .. "/jobs/" .. k end
  local t, err = M.prepare(ctx, ctx.run_tmp .. "/.reduce")
  local ok = t ~= nil
  if ok then
    ok, err = M.launch(ctx, t, function()
      return M.argv(ctx, job.reduce, ctx.out_abs, rest)
    end)
  end
  if not ok then return { status = "failed", error = err } end
  local st = { running = { [t.pid] = t }, nrunning = 1, seen_signals = select(1, sys.signals()), ui = ui,
    exhausted = true }
  ctx.st = st
  local res
  M.supervise(ctx, st, function(task, how, code, rss)
    local status, exit, e = M.classify(task, how, code, job.limits)
    res = { status = status, exit = exit, error = status ~= "ok" and e or nil, seconds = sys.now() - task.start,
      rss = rss }
  end, function() end)
  os.rename(t.base .. ".log", ctx.out_abs .. "/reduce.log")
  M.cleanup(ctx, t)
  res.stopped = st.stopping
  return res
end

-- The reduce's summary entry (the same facts, the same bytes) and its
-- timing entry.
function M.reduce_json(r)
  local json = require("jinpu.batch.json")
  local q = json.value
  local summary = json.object({ "status", q(r.status), "exit", q(r.exit), "log", q("reduce.log"),
    "error", r.error and q(r.error) })
  local timing = r.seconds and json.object({ "seconds", string.format("%.3f", r.seconds), "max_rss_kb", q(r.rss),
    "host", q(sys.hostname()) })
  return summary, timing
end

-- The end of a run (or of a merge): the reduce when the job file has one,
-- this is not a shard, nothing was stopped and every job ended ok or
-- cached; then summary and timings; then the last word.  `res` is what
-- run_jobs returns (or, from merge, with `lines` and `timings` iterators
-- instead of spool paths); `mine` the jobs of the run.  sys.trap(true) is
-- on and is turned off here.  Returns the exit status.
function M.complete(ctx, s, res, ui, job_sha, mine)
  local job = ctx.job
  local ok, err = pcall(function()
    if s or not job.reduce or res.stopped then return end
    local all_ok = #res.not_run == 0
    for st, n in pairs(res.counts) do
      if st ~= "ok" and st ~= "cached" and n > 0 then all_ok = false end
    end
    if not all_ok then
      res.reduce_json = '{"status": "skipped", "error": "not every job ended ok"}'
      return
    end
    local keys = {}
    for i, e in ipairs(mine) do keys[i] = jobfile.key(e) end
    ui:say("jinpu batch: reduce: " .. job.reduce)
    local r = M.run_reduce(ctx, keys, ui)
    res.reduce_json, res.reduce_timing = M.reduce_json(r)
    if r.stopped then res.stopped = r.stopped end
    res.reduce = r
  end)
  if not ok then
    M.abandon(ctx)
    sys.trap(false)
    error(err, 0)
  end
  sys.trap(false)

  local counts = res.counts
  local exit = record.exit_of(counts)
  if res.reduce and res.reduce.status ~= "ok" then exit = 3 end
  local interrupted = res.stopped
  if interrupted then exit = interrupted == "SIGTERM" and 143 or 130 end
  local h = { version = jp.version, job_file = job.name, job_file_sha256 = job_sha, shard = s and shard.json(s),
    counts = counts, exit = exit, interrupted = interrupted, not_run = res.not_run, reduce = res.reduce_json }
  -- a complete run (or merge) leaves its records in one file
  if res.state and not s and not interrupted then
    local cok, cerr = res.state:compact(job.list)
    if not cok then ui:say("jinpu batch: cannot compact the job records: " .. tostring(cerr)) end
  end
  if res.state then res.state:close() end
  local spath = ctx.out .. "/" .. (s and shard.file(s, "summary") or "summary.json")
  local tpath = ctx.out .. "/" .. (s and shard.file(s, "timings") or "timings.json")
  local wok, werr = record.write_summary(spath, h, res.lines or io.lines(res.lines_path))
  if wok then
    wok, werr = record.write_timings(tpath, ui:elapsed(), res.timings or io.lines(res.timings_path), res.reduce_timing)
  end
  if ctx.run_tmp then sys.rmtree(ctx.run_tmp) end
  if not wok then
    io.stderr:write("jinpu batch: cannot write the summary: ", tostring(werr), "\n")
    return 3
  end
  local parts = {}
  for _, st in ipairs(record.STATUSES) do
    if (counts[st] or 0) > 0 then parts[#parts + 1] = counts[st] .. " " .. st end
  end
  local text = string.format("jinpu batch: %d job%s: %s%s in %.1f s%s; %s", #mine, #mine == 1 and "" or "s",
    #parts > 0 and table.concat(parts, ", ") or "none run",
    #res.not_run > 0 and (", " .. #res.not_run .. " not started") or "", ui:elapsed(),
    res.reduce and ("; reduce " .. res.reduce.status) or "", spath)
  if interrupted then text = text .. " (stopped by " .. interrupted .. ")" end
  ui:run_end({ exit = exit, counts_json = record.counts_json(counts), summary = spath, interrupted = interrupted,
    text = text })
  return exit
end

-- After an error in the runner itself: kill what still runs, remove the
-- private folders.  Published jobs stay; nothing half-written is published.
function M.abandon(ctx)
  if ctx.st then
    for p in pairs(ctx.st.running) do sys.kill(p, "KILL") end
    local deadline = sys.now() + 5
    while next(ctx.st.running) and sys.now() < deadline do
      local pid = sys.wait(0.1)
      if pid then ctx.st.running[pid] = nil end
    end
  end
  if ctx.run_tmp then sys.rmtree(ctx.run_tmp) end
end

return M
