-- Memory pressure inside the bindings: each call below is run again and
-- again with the n-th Lua allocation it makes (and every later one) failing,
-- for n = 1, 2, ... until it gets through.  However far a call got, the
-- error must reach the script as an error and, once the garbage is
-- collected, the core must hold exactly what it held before: a dataset or
-- column made by the core and lost while its box was being made is a leak.
-- Runs only in the test build (jinpu_test: src/cli/main.c).
local t = require("testlib")
local jp = require("jinpu")
local T = assert(jinpu_test, "run with the test build ($JINPU_HOOKS)")

local tmp = os.getenv("TMPDIR") or "/tmp"
local cherry = jp.load("datasets/cherry.yaml")
local ip = jp.load("datasets/ip.yaml")
local csv = tmp .. "/jinpu-alloc-fails-" .. os.time() .. "-" .. math.random(1e9) .. ".csv"
local arc = csv:gsub("%.csv$", ".tar.gz")
cherry:write_csv(csv)
jp.export(arc, { cherry })
local archive = jp.open_archive(arc)

local function settle()
  collectgarbage()
  collectgarbage()
  return T.core_bytes()
end

-- Runs f with the n-th allocation failing for every n until f finishes;
-- returns how many runs failed, and the first n that left core memory behind.
local function sweep(f)
  f() -- once as it is: caches filled now do not count as leaks
  local base = settle()
  local failed, leaked = 0, nil
  for n = 1, 5000 do
    local reached, ok, err = T.alloc_fails(n, f)
    if not reached then
      t.ok(ok, "a call that allocated nothing that failed succeeds: " .. tostring(err))
      return failed, leaked
    end
    if not ok then failed = failed + 1 end
    local now = settle()
    if now ~= base and not leaked then leaked = { n = n, bytes = now - base, err = tostring(err) } end
  end
  error("more than 5000 allocations")
end

local calls = {
  ["ds:head"] = function() return cherry:head(2) end,
  ["ds:filter (expression)"] = function() return cherry:filter("value > 1") end,
  ["ds:filter (function)"] = function() return cherry:filter(function(r) return r.value ~= nil end) end,
  ["ds:select"] = function() return cherry:select("indicator", "value") end,
  ["ds:drop"] = function() return cherry:drop("note") end,
  ["ds:rename"] = function() return cherry:rename{ value = "v" } end,
  ["ds:mutate"] = function() return cherry:mutate{ twice = "value * 2" } end,
  ["ds:sort"] = function() return cherry:sort("value") end,
  ["ds:distinct"] = function() return cherry:distinct("unit") end,
  ["ds:tail and ds:slice"] = function() return cherry:tail(2), cherry:slice(2, 3) end,
  ["ds:group_by and agg"] = function() return cherry:group_by("unit"):agg{ n = jp.count(), total = jp.sum("value") } end,
  ["ds:join"] = function() return cherry:join(cherry:select("indicator"), "indicator") end,
  ["ds:concat"] = function() return cherry:concat(cherry) end,
  ["ds:named"] = function() return ip:named("other") end,
  ["ds:column"] = function() return cherry:column("value") end,
  ["jp.dataset (rows)"] = function()
    return jp.dataset{ name = "x", fields = { { name = "a", type = "integer" }, { name = "s", type = "string" } },
      rows = { { a = 1, s = "one" }, { a = 2, s = "two" } } }
  end,
  ["jp.dataset (columns)"] = function()
    return jp.dataset{ name = "x", fields = { { name = "a", type = "integer" } }, columns = { a = { 1, 2, 3 } } }
  end,
  ["jp.load"] = function() return jp.load("datasets/cherry.yaml") end,
  ["jp.read_csv with rejects"] = function() return jp.read_csv(csv, { rejects = true }) end,
  ["archive:load"] = function() return archive:load("cherry") end,
  ["jp.open_archive"] = function() return jp.open_archive(arc) end,
  ["validate, report.data and quarantine"] = function()
    local r = cherry:validate()
    return r.data, r:quarantine()
  end,
}

local names = {}
for name in pairs(calls) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  t.case(name .. " under memory pressure leaks nothing", function()
    local failed, leaked = sweep(calls[name])
    t.ok(failed > 0, "some runs failed")
    t.ok(not leaked, leaked and string.format("run %d (%s) left %d bytes", leaked.n, leaked.err, leaked.bytes))
  end)
end

archive:close()
os.remove(csv)
os.remove(arc)
t.done()
