-- jinpu batch JOB.yaml : run a script over many inputs, each job in its own
-- sandboxed process with limits; resumable by content; one shard of a run
-- spread by a scheduler.  `jinpu batch merge JOB.yaml` joins the shards.
--
-- Exit status: 0 every job ok or cached; 1 some invalid and none worse; 3
-- some failed, timed out or ran out of memory (or the reduce failed, or
-- merge found a shard missing); 2 a bad job file or usage; 130/143 stopped
-- by SIGINT/SIGTERM (the summary is written all the same).
--
-- The pieces: jinpu.batch.jobfile (the job file), .cache (resume by
-- content), .runner (processes), .record (summary and timings), .shard,
-- .progress, .merge; docs/batch.md is the manual.
local sys = require("jinpu.sys")
local args = require("jinpu.cli.args")
local jobfile = require("jinpu.batch.jobfile")
local cache = require("jinpu.batch.cache")
local runner = require("jinpu.batch.runner")
local shard = require("jinpu.batch.shard")
local progress = require("jinpu.batch.progress")

local usage = [[
usage: jinpu batch JOB.yaml [options]
       jinpu batch merge JOB.yaml [--log-format text|json] [--no-sandbox]
Runs the job file's script once per input, each job in its own sandboxed
jinpu process with the job file's limits: OUTPUT/jobs/<key>/ (published
whole, only when the job ends ok), OUTPUT/logs/<key>.log, OUTPUT/summary.json
(the record: the same facts give the same bytes) and OUTPUT/timings.json.
A job whose script, modules, args, input, limits and jinpu version did not
change since its last ok run, and whose outputs are intact, is skipped
(cached).  docs/batch.md has the job file reference and scheduler recipes.
options:
  -j, --jobs N          jobs at once (default: the job file's `jobs`, else
                        the CPUs granted: affinity, cgroup quota,
                        SLURM_CPUS_PER_TASK)
  --shard K/N|auto      run only shard K of N (jobs at positions = K mod N
                        in key order) and write summary.K-of-N.json; auto
                        takes K and N from Slurm, Kubernetes or AWS Batch
  --force               run every job, cached or not
  --explain             say for each job why it runs or is skipped
  --dry-run             show what would run; run nothing
  --log-format F        text (default) or json (JSON Lines events on stdout)
  --no-sandbox          lift the sandbox (as `sandbox: false`), for trusted
                        scripts
exit status: 0 all ok or cached, 1 some data invalid, 3 some job failed,
timed out or ran out of memory, 2 usage or job file error, 130/143 stopped
by SIGINT/SIGTERM]]

local function fail_usage(msg)
  io.stderr:write("jinpu batch: " .. msg .. "\n" .. usage .. "\n")
  return 2
end

local function load_job(path)
  local job, problems = jobfile.load(path)
  if not job then
    for _, p in ipairs(problems) do io.stderr:write(p, "\n") end
    io.stderr:write(string.format("jinpu batch: %s: %d problem%s; nothing was run\n", path, #problems,
      #problems == 1 and "" or "s"))
    return nil
  end
  return job
end

-- The run proper, between setting up the folders and writing the record.
local function run(job, opts, s, parallelism, from)
  local mine = shard.select(job.list, s)
  local sandbox = job.sandbox and not opts.no_sandbox
  local common = cache.common(job, sandbox)
  local job_sha = assert(sys.sha256_file(job.file))

  local out = jobfile.under(job.dir, job.output)
  if opts.dry then
    local state = cache.load(out, job.list, s)
    local ctx = runner.context(job, opts)
    local nrun = 0
    local rest = { "INPUT", "OUTDIR" }
    for _, a in ipairs(job.args) do rest[#rest + 1] = a end
    local ui = progress.new({ format = opts.log_format, total = #mine })
    if opts.log_format ~= "json" then
      print(string.format("%d job%s%s, %d at a time (%s); each runs:", #mine, #mine == 1 and "" or "s",
        s and string.format(" in shard %d of %d", s.k, s.n) or "", parallelism, from))
      print("  " .. runner.show(runner.argv(ctx, job.script, "OUTDIR", rest)))
    end
    for _, e in ipairs(mine) do
      local j = jobfile.entry(e)
      local action, reason = cache.decide(out, job.dir, j, common, opts.force, state)
      if action == "run" then nrun = nrun + 1 end
      if opts.log_format == "json" then
        ui:explain(j, action, reason)
      else
        print(string.format("%-6s %s  %s%s", action == "run" and "run" or "cached", j.key, j.input,
          opts.explain and ("  -- " .. reason) or ""))
      end
    end
    if opts.log_format ~= "json" then print(string.format("%d to run, %d cached", nrun, #mine - nrun)) end
    return 0
  end

  local ctx, err = runner.context(job, opts)
  if not ctx then
    io.stderr:write("jinpu batch: ", err, "\n")
    return 3
  end
  runner.clean_stale(ctx)
  local state = cache.load(out, job.list, s, ctx.name)

  local ui = progress.new({ format = opts.log_format, total = #mine })
  ui:run_start({ job_file = job.file, parallelism = parallelism, parallelism_from = from,
    shard = s and string.format("%d/%d", s.k, s.n) })
  sys.trap(true)
  local ok, res = pcall(runner.run_jobs, ctx, mine, common, parallelism, ui, state)
  if not ok then
    runner.abandon(ctx)
    sys.trap(false)
    error(res, 0)
  end
  return runner.complete(ctx, s, res, ui, job_sha, mine)
end

local function options(cmd, argv, spec)
  return args.parse(cmd, argv, usage, spec)
end

return function(argv)
  if argv[1] == "merge" then
    local rest = table.move(argv, 2, #argv, 1, {})
    local o, files = options("batch merge", rest, {
      { "--log-format", key = "log_format", choices = { "text", "json" } },
      { "--no-sandbox", key = "no_sandbox" },
      { "--shards", key = "shards", int = { 1 } },
    })
    if not o then return files end
    if #files ~= 1 then return fail_usage(#files == 0 and "merge: no job file given" or "merge: one job file only") end
    local job = load_job(files[1])
    if not job then return 2 end
    o.log_format = o.log_format or "text"
    return require("jinpu.batch.merge").merge(job, o)
  end
  local o, files = options("batch", argv, {
    { "-j", "--jobs", key = "j", int = { 1, 4096 } },
    { "--shard", key = "shard", value = "K/N" },
    { "--force", key = "force" },
    { "--explain", key = "explain" },
    { "--dry-run", key = "dry" },
    { "--log-format", key = "log_format", choices = { "text", "json" } },
    { "--no-sandbox", key = "no_sandbox" },
  })
  if not o then return files end
  if #files == 0 then return args.missing("batch", usage, "job file") end
  if #files > 1 then return fail_usage("one job file at a time (got " .. #files .. ")") end
  o.log_format = o.log_format or "text"
  local s
  if o.shard then
    local why
    s, why = shard.parse(o.shard)
    if not s then return fail_usage(why) end
  end
  local job = load_job(files[1])
  if not job then return 2 end
  local parallelism, from
  if o.j then
    parallelism, from = o.j, "-j"
  elseif job.jobs then
    parallelism, from = job.jobs, "the job file's 'jobs'"
  else
    parallelism, from = shard.granted_cpus()
  end
  return run(job, o, s, parallelism, from)
end
