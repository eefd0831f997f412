-- jinpu's side of the benchmark, written as an analyst would write it with
-- the public Lua API.  Each workload is the same as the peers' in peers/.
--
-- usage: jinpu run bench/jinpu_w.lua W1|W1fn|W2|W3|W5|SORT|JOIN|WINDOW|XLSX|VALIDATE IN OUT
--   W1        filter, derive, group, aggregate, sort, write: all expressions
--   W1fn      the same with Lua functions for the filter and the derived column
--   W2        read, write again as .csv.gz (gzip level 6)
--   W3        read one column, sum it
--   W5        sort by district and output_t (descending), keep 1000 rows, write
--   SORT      the same sort, every row written
--   JOIN      each row's share of its (district, year) group's output_t: the
--             group table joined back onto the rows; OUT gets the sum of shares
--   WINDOW    per district, in (year, output_t) order: lag(output_t) and
--             cumsum(output_t); OUT gets the non-null lags, their sum and the
--             sum of the running sums
--   XLSX      read every column, then ds:write(OUT) as an Excel workbook (the
--             xlsx plugin); prints the write's seconds, the resident memory
--             holding the dataset and the peak resident memory while writing
--   VALIDATE  read, check constraints and row rules; OUT gets the number of
--             errors, the wall seconds validate() took, the number of rules
--             that could not run, the CPU seconds (all threads), and the
--             wall seconds the read took
local jp = require("jinpu")

local work, src, dst = arg[1], arg[2], arg[3]
assert(work and src and dst, "usage: jinpu run jinpu_w.lua WORKLOAD IN OUT")

-- Wall-clock seconds (os.clock is CPU time, summed over threads); through
-- date(1), whose start-up is a millisecond; CPU time where date has no %N.
local function wall_clock()
  local p = io.popen("date +%s.%N 2>/dev/null")
  local t = p and p:read("n")
  if p then p:close() end
  return t or os.clock()
end

local function write_text(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  assert(f:close())
end

-- W1 and W1fn differ only in how the filter and the derived column are given.
local function grouped(ds)
  return ds:group_by("district", "year")
    :agg{ n = jp.count(), sum_output_t = jp.sum("output_t"), mean_yield = jp.mean("yield") }
    :select("district", "year", "n", "sum_output_t", "mean_yield")
    :sort("district", "year")
end

local DISTRICTS = {
  "Dongcheng", "Xicheng", "Chaoyang", "Fengtai", "Shijingshan", "Haidian", "Mentougou",
  "Fangshan", "Tongzhou", "Shunyi", "Changping", "Daxing", "Huairou", "Pinggu", "Miyun",
  "Yanqing", "Binhai New Area", "Nankai", "Hexi", "Wuqing",
}

if work == "W1" then
  local ds = jp.read_csv(src)
    :filter("output_t > 456.0")
    :mutate{ yield = "output_t / area_mu" }
  grouped(ds):write_csv(dst)
elseif work == "W1fn" then
  local threshold = 456.0
  local ds = jp.read_csv(src)
    :filter(function(r) return r.output_t > threshold end)
    :mutate{ yield = function(r) return r.output_t / r.area_mu end }
  grouped(ds):write_csv(dst)
elseif work == "W2" then
  -- the name decides the compression: .csv.gz is gzip, level 6 by default
  jp.read_csv(src):write_csv(dst)
elseif work == "W3" then
  local ds = jp.read_csv(src, { columns = { "output_t" } })
  write_text(dst, string.format("%.6f\n", ds:column("output_t"):sum()))
elseif work == "W5" then
  jp.read_csv(src):sort("district", "-output_t"):head(1000):write_csv(dst)
elseif work == "SORT" then
  jp.read_csv(src):sort("district", "-output_t"):write_csv(dst)
elseif work == "JOIN" then
  -- the rows are used twice (grouped, then joined): collected, they are read
  -- from the file once, as DuckDB's plan reads its CTE once
  local ds = jp.read_csv(src, { columns = { "district", "year", "output_t" } }):collect()
  local groups = ds:group_by("district", "year"):agg{ total = jp.sum("output_t") }
  local shares = ds:join(groups, { "district", "year" }):mutate{ share = "output_t / total" }
  write_text(dst, string.format("%.6f\n", shares:column("share"):sum()))
elseif work == "WINDOW" then
  local ds = jp.read_csv(src, { columns = { "district", "year", "output_t" } })
  local w = ds:sort("district", "year", "output_t"):group_by("district")
              :mutate{ prev = "lag(output_t)", cum = "cumsum(output_t)" }
  local prev = w:column("prev")
  write_text(dst, string.format("%d %.6f %.6f\n", prev:count(), prev:sum(), w:column("cum"):sum()))
elseif work == "VALIDATE" then
  -- read every column first (not lazily), so that validate() is timed alone
  local r0 = wall_clock()
  local ds = jp.read_csv(src, { lazy = false })
  local w0, c0 = wall_clock(), os.clock()
  local report = ds:validate{
    year = { required = true, minimum = 2015, maximum = 2024 },
    district = { required = true, enum = DISTRICTS },
    crop = { enum = { "wheat", "maize", "rice", "soybean", "potato" } },
    area_mu = { required = true, minimum = 2 },   -- plots under 2 mu are suspect
    output_t = { required = true, minimum = 0 },
    firms = { minimum = 1, maximum = 200 },
    note = { maxLength = 40 },
    "output_t <= area_mu",
    "revenue_cny >= 0",
  }
  local wall, cpu = wall_clock() - w0, os.clock() - c0
  local counts = report.counts
  -- a rule that could not run would make the count meaningless: say so
  for _, e in ipairs(report.rule_errors) do io.stderr:write(e.rule, ": ", e.message, "\n") end
  write_text(dst, string.format("%d\n%.3f\n%d\n%.3f\n%.3f\n", counts.errors, wall, counts.rule_errors,
    cpu, w0 - r0))
elseif work == "XLSX" then
  local function status(key)
    for line in io.lines("/proc/self/status") do
      local v = line:match("^" .. key .. ":%s+(%d+)")
      if v then return tonumber(v) end
    end
  end
  local ds = jp.read_csv(src, { lazy = false })
  local held = status("VmRSS")
  -- restart the peak (VmHWM) so that it measures the write alone
  local f = io.open("/proc/self/clear_refs", "w")
  if f then f:write("5") f:close() end
  local w0 = wall_clock()
  ds:write(dst)
  print(string.format("write %.3f s, dataset held in %d KB, peak while writing %d KB", wall_clock() - w0,
    held or 0, status("VmHWM") or 0))
else
  error("unknown workload " .. tostring(work))
end
