-- Functions in file pipelines (tests/data/stream/gen.awk), consumed in the
-- ways a script does: jinpu run fn_plan.lua FILE eager|lazy OUT
-- tests/cli/stream_ops.t compares what the loaded file gives with what the
-- lazy file gives, batch by batch, whatever the batch size.
local jp = require("jinpu")
local lazy = arg[2] ~= "eager"
local function read() return jp.read_csv(arg[1], { lazy = lazy }) end
local function show(label, v) print(label, v) end

-- a field read only from the row where `late` is 0.5 (90 % in), by a key
-- computed there: the batches before lacked it, and the pass starts again
-- with it; named in the function, it is read from the start
local key = "t"
local f = read():filter(function(r) return r.late ~= 0.5 or r[key .. "xt"] == "7" end)
show("late field", #f:column("i") .. " " .. f:column("i"):sum())
local h = read():filter(function(r) return r.late ~= 0.5 or r.txt == "7" end)
show("named field", #h:column("i") .. " " .. h:column("i"):sum())

-- a function that names the fields it reads sees each row once (counted
-- here only to show it: functions should have no side effects)
local calls = 0
local once = read():filter(function(r) calls = calls + 1 return r.i > 0 and r.s ~= "" end)
local kept = once:column("i"):count()
show("each row once", tostring(calls == 30000) .. " " .. kept)

-- made inside a coroutine that is gone when the pipeline runs
local co = coroutine.wrap(function()
  return read():mutate{ k = function(r) return r.i % 7 end }
end)
local made = co()
collectgarbage()
show("coroutine", made:column("k"):sum())

-- pairs() over the view reads every field
local p = read():mutate{ nf = function(r) local n = 0 for _ in pairs(r) do n = n + 1 end return n end }
show("pairs", p:column("nf"):sum())

-- the map form: each function sees the input, also the field another replaces
local m = read():mutate{ i = function(r) return r.i * 2 end, j = function(r) return r.i end }
show("map form", m:column("i"):sum() .. " " .. m:column("j"):sum())

-- over a concat of files: integers that meet a decimal late in the first
-- file start every part again, the column numbers from the first row
local cz = read():concat(read()):mutate{ z = function(r) return r.late * 2 end }
show("concat", cz:column("z"):sum() .. " " .. cz:head(1):column("z").type)

-- consumers that stream and consumers that load, over the same pipeline
local g = read():filter(function(r) return r.i % 3 == 0 end)
  :mutate{ { "v", function(r) return r.late * 1.5 end } }
show("rows", #g)
show("sum", g:column("v"):sum())
show("top", g:sort("-v", "i"):head(3):column("i"):sum())
g:group_by("s"):agg{ n = jp.count(), v = jp.sum("v") }:sort("s"):write_csv(arg[3])
show("first", g:head(2):column("v"):sum())
