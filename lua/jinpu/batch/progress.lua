-- lua/jinpu/batch/progress.lua - what a batch run tells the person or the
-- program watching it.
--
--   text on a terminal   one live line on stderr (done/total, running,
--                        failed, elapsed, ETA), failures printed above it
--   text otherwise       one line per finished job on stderr
--   json                 JSON Lines on stdout: run_start, explain,
--                        job_start, job_end (the summary fields, seconds and
--                        max_rss_kb), progress (at most every 10 s), run_end
--
-- --explain reasons go to stdout in text mode.  Nothing here decides
-- anything about the run.
local sys = require("jinpu.sys")
local json = require("jinpu.batch.json")

local M = {}
local q = json.value

local U = {}
U.__index = U

-- opts: format ("text"|"json"), total (jobs of this run), parallelism
function M.new(opts)
  local ui = setmetatable({}, U)
  ui.json = opts.format == "json"
  ui.tty = not ui.json and sys.isatty(2)
  ui.total = opts.total
  ui.t0 = sys.now()
  ui.done, ui.run_done, ui.bad = 0, 0, 0
  ui.running = function() return 0 end -- the runner's count of live processes (U:watch)
  ui.last_progress = ui.t0
  ui.live = false
  return ui
end

local function clock(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%d:%02d:%02d", s // 3600, s % 3600 // 60, s % 60) end
  return string.format("%d:%02d", s // 60, s % 60)
end

-- Count running jobs with running() (the processes alive, not the
-- job_start events less the job_end ones: a job's successor starts before
-- its job_end).
function U:watch(running)
  self.running = running
end

function U:elapsed()
  return sys.now() - self.t0
end

function U:eta()
  local left = self.total - self.done
  if self.run_done == 0 or left <= 0 then return nil end
  return self:elapsed() / self.run_done * left
end

function U:event(name, fields)
  local list = { "event", q(name), "t", string.format("%.3f", self:elapsed()) }
  local i = 1
  while fields[i] ~= nil do -- pairs whose value is nil are left out
    if fields[i + 1] ~= nil then
      list[#list + 1] = fields[i]
      list[#list + 1] = fields[i + 1]
    end
    i = i + 2
  end
  io.stdout:write(json.object(list), "\n")
  io.stdout:flush()
end

-- the live line (terminal only)
function U:draw()
  if not self.tty then return end
  local eta = self:eta()
  local line = string.format("jinpu batch: %d/%d done, %d running, %d failed, %s elapsed%s", self.done,
    self.total, self.running(), self.bad, clock(self:elapsed()), eta and (", ETA " .. clock(eta)) or "")
  io.stderr:write("\r\27[K", line)
  io.stderr:flush()
  self.live = true
end

-- a permanent line on stderr (above the live line on a terminal)
function U:say(text)
  if self.json then return end
  -- one write: stderr is unbuffered
  io.stderr:write((self.live and "\r\27[K" or "") .. text .. "\n")
  self.live = false
  self:draw()
end

function U:run_start(info)
  if self.json then
    self:event("run_start", { "job_file", q(info.job_file), "jobs", q(self.total), "parallelism",
      q(info.parallelism), "parallelism_from", q(info.parallelism_from), "shard", info.shard and q(info.shard) })
  else
    self:draw()
  end
end

function U:explain(j, action, reason)
  if self.json then
    self:event("explain", { "key", q(j.key), "action", q(action), "reason", q(reason) })
  else
    if self.live then io.stderr:write("\r\27[K") self.live = false end
    io.stdout:write(string.format("%s: %s: %s\n", j.key, action == "run" and "runs" or "skipped", reason))
    io.stdout:flush()
    self:draw()
  end
end

function U:job_start(j, attempt)
  if self.json then
    self:event("job_start", { "key", q(j.key), "input", q(j.input), "attempt", q(attempt) })
  else
    self:draw()
  end
end

-- rec: the job's summary record; fields: its JSON fields (list of pairs)
function U:job_end(rec, fields, secs, rss)
  self.done = self.done + 1
  if rec.status ~= "cached" then
    self.run_done = self.run_done + 1
  end
  if rec.status ~= "ok" and rec.status ~= "cached" then self.bad = self.bad + 1 end
  if self.json then
    local list = table.move(fields, 1, #fields, 1, {}) -- job_fields has no holes
    if secs then
      list[#list + 1] = "seconds"
      list[#list + 1] = string.format("%.3f", secs)
      list[#list + 1] = "max_rss_kb"
      list[#list + 1] = q(rss)
    end
    self:event("job_end", list)
    self:tick()
    return
  end
  if rec.status == "cached" then
    self:draw()
    return
  end
  local w = #tostring(self.total)
  local line = string.format("[%" .. w .. "d/%d] %-8s %s  %.2f s", self.done, self.total, rec.status, rec.key, secs or 0)
  if rec.error then line = line .. ": " .. rec.error end
  if self.tty and rec.status == "ok" then
    self:draw() -- on a terminal, only what went wrong stays on the screen
  else
    self:say(line)
  end
end

-- called at least every few seconds while jobs run
function U:tick()
  local now = sys.now()
  if self.json then
    if now - self.last_progress >= 10 then
      self.last_progress = now
      local eta = self:eta()
      self:event("progress", { "done", q(self.done), "total", q(self.total), "running", q(self.running()),
        "failed", q(self.bad), "elapsed", string.format("%.1f", now - self.t0),
        "eta", eta and string.format("%.1f", eta) or "null" })
    end
  else
    self:draw()
  end
end

-- How often tick() wants to be called, in seconds.
function U:tick_interval()
  if self.tty then return 1 end
  if self.json then return 10 end
  return 60
end

function U:run_end(info)
  if self.json then
    self:event("run_end", { "exit", q(info.exit), "counts", info.counts_json, "summary", q(info.summary),
      "interrupted", info.interrupted and q(info.interrupted), "seconds", string.format("%.3f", self:elapsed()) })
    return
  end
  if self.live then io.stderr:write("\r\27[K") self.live = false end
  io.stderr:write(info.text, "\n")
  io.stderr:flush()
end

return M
