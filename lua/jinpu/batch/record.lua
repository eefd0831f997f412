-- lua/jinpu/batch/record.lua - the files a batch run leaves as its record:
-- summary.json (what happened: the same facts are the same bytes) and
-- timings.json (how long and how much memory: different on every run).
--
-- The summary holds no time, no memory figure, no host name and no
-- absolute path, so that the summary written by `jinpu batch merge` after
-- the shards ran on many machines is byte for byte the summary one machine
-- writes for the whole job file.  Layout: fixed key order, two-space
-- indentation, one job per line in key order.  Shard summaries
-- (summary.K-of-N.json) carry a "shard" object besides; merge drops it.
--
-- Both files are written to a temporary name and renamed into place: a
-- reader sees the old record or the new one.
local sys = require("jinpu.sys")
local json = require("jinpu.batch.json")

local M = {}
local q = json.value

M.STATUSES = { "ok", "invalid", "failed", "timeout", "oom", "cached" }

function M.counts_json(counts)
  local list = {}
  for _, s in ipairs(M.STATUSES) do
    list[#list + 1] = s
    list[#list + 1] = q(counts[s] or 0)
  end
  return json.object(list)
end

-- The exit status of a run from its counts: 3 when a job failed, timed out
-- or ran out of memory, 1 when some data was invalid, else 0.
function M.exit_of(counts)
  if (counts.failed or 0) + (counts.timeout or 0) + (counts.oom or 0) > 0 then return 3 end
  if (counts.invalid or 0) > 0 then return 1 end
  return 0
end

-- The JSON line of one job: rec = {key, input, status, exit, attempt,
-- outputs = {{path, bytes, sha256}}, log, error}.  Also returns the pairs.
function M.job_fields(rec)
  local outs = {}
  for i, o in ipairs(rec.outputs or {}) do
    outs[i] = json.object({ "path", q(o.path), "bytes", q(o.bytes), "sha256", q(o.sha256) })
  end
  local f = {
    "key", q(rec.key),
    "input", q(rec.input),
    "status", q(rec.status),
    "exit", q(rec.exit),
    "attempt", q(rec.attempt),
    "outputs", json.array(outs),
    "log", q(rec.log),
  }
  if rec.error then
    f[#f + 1] = "error"
    f[#f + 1] = q(rec.error)
  end
  return f
end

function M.job_line(rec)
  local f = M.job_fields(rec)
  return json.object(f), f
end

-- Write a file through fill(write) to a temporary name, then rename it
-- into place durably (sys.commit).  true | nil, message.
local function write_atomic(path, fill)
  local tmp = path .. ".tmp." .. sys.hostname() .. "." .. sys.pid()
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local failed
  local function write(...)
    if failed then return end
    local ok, werr = f:write(...)
    if not ok then failed = tmp .. ": " .. tostring(werr) end
  end
  local ok, ferr = pcall(fill, write)
  if not ok and not failed then failed = tostring(ferr) end
  local cok, cerr = f:close()
  if not cok and not failed then failed = tmp .. ": " .. tostring(cerr) end
  if failed then
    os.remove(tmp)
    return nil, failed
  end
  local done, rerr = sys.commit(tmp, path)
  if not done then os.remove(tmp) end
  return done, rerr
end

-- Write the "jobs" list of JSON lines given by the iterator `each` (a
-- function returning the next line, or nil), one per line.
local function write_list(write, name, each)
  write('  "', name, '": [')
  local n = 0
  for line in each do
    write(n == 0 and "\n    " or ",\n    ", line)
    n = n + 1
  end
  write(n > 0 and "\n  ]\n}\n" or "]\n}\n")
end

-- An iterator over a list's values, for the writers below.
function M.each(list)
  local i = 0
  return function()
    i = i + 1
    return list[i]
  end
end

-- Write a summary.  h: version, job_file, job_file_sha256, shard (JSON
-- text or nil), counts, exit, interrupted (signal name or nil), not_run
-- (keys), reduce (JSON text or nil); each: an iterator over the job lines
-- in key order (a spool file's io.lines, or M.each(list)).
function M.write_summary(path, h, each)
  return write_atomic(path, function(write)
    local function field(k, v)
      write("  ", q(k), ": ", v, ",\n")
    end
    write("{\n")
    field("jinpu_batch", "1")
    field("jinpu_version", q(h.version))
    field("job_file", q(h.job_file))
    field("job_file_sha256", q(h.job_file_sha256))
    if h.shard then field("shard", h.shard) end
    field("exit", q(h.exit))
    field("counts", M.counts_json(h.counts))
    if h.interrupted then field("interrupted", q(h.interrupted)) end
    if h.not_run and #h.not_run > 0 then
      local ks = {}
      for i, k in ipairs(h.not_run) do ks[i] = q(k) end
      field("not_run", json.array(ks))
    end
    if h.reduce then field("reduce", h.reduce) end
    write_list(write, "jobs", each)
  end)
end

-- Write timings: total seconds, the reduce's entry when it ran, and the
-- entries {key, seconds, max_rss_kb, host} of the jobs that ran, in key
-- order (each: an iterator as for write_summary).
function M.write_timings(path, seconds, each, reduce)
  return write_atomic(path, function(write)
    write("{\n", '  "jinpu_batch": 1,\n', '  "seconds": ', string.format("%.3f", seconds), ",\n")
    if reduce then write('  "reduce": ', reduce, ",\n") end
    write_list(write, "jobs", each)
  end)
end

function M.timing_line(key, secs, rss, host)
  return json.object({ "key", q(key), "seconds", string.format("%.3f", secs), "max_rss_kb", q(rss), "host", q(host) })
end

-- ---- reading ---------------------------------------------------------------------

-- Read a summary written by write_summary: header (a table of the fields
-- other than jobs) and the jobs as {line = raw JSON text, rec = decoded}.
-- nil and a message when the file is missing or not such a summary.
function M.read_summary(path)
  local f = io.open(path, "rb")
  if not f then return nil, "missing" end
  local head, jobs = {}, {}
  local in_jobs = false
  local lineno = 0
  for line in f:lines() do
    lineno = lineno + 1
    if in_jobs then
      local body = line:match("^    (%b{}),?$")
      if body then
        local rec, err = json.decode(body)
        if type(rec) ~= "table" then
          f:close()
          return nil, path .. ":" .. lineno .. ": " .. tostring(err)
        end
        jobs[#jobs + 1] = { line = body, rec = rec }
      elseif line ~= "  ]" and line ~= "}" then
        f:close()
        return nil, path .. ":" .. lineno .. ": not a job line of a summary"
      end
    elseif line == '  "jobs": [' then
      in_jobs = true
    elseif line == '  "jobs": []' then
      in_jobs = true
    else
      head[#head + 1] = line
    end
  end
  f:close()
  if not in_jobs then return nil, path .. ": not a jinpu batch summary (no jobs list)" end
  local text = table.concat(head, "\n"):gsub(",%s*$", "") .. "\n}"
  local h, err = json.decode(text)
  if type(h) ~= "table" or h.jinpu_batch ~= 1 then
    return nil, path .. ": not a jinpu batch summary" .. (err and (" (" .. err .. ")") or "")
  end
  return h, jobs
end

-- The job entries of a timings file, {key = raw JSON text}, and its reduce
-- entry's text (or nil); nil when the file is missing or unreadable.
function M.read_timings(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local byk = {}
  for line in f:lines() do
    local body = line:match("^    (%b{}),?$")
    if body then
      local key = json.decode(body)
      if type(key) == "table" and key.key then byk[key.key] = body end
    end
  end
  f:close()
  return byk
end

return M
