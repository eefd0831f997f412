-- Filters and mutations by Lua functions over a file (tests/data/stream/gen.awk),
-- then grouped and written:  jinpu run functions.lua FILE eager|lazy OUT
-- tests/cli/stream_ops.t compares the loaded file's output with the streamed one.
local jp = require("jinpu")
local ds = jp.read_csv(arg[1], { lazy = arg[2] ~= "eager" })
local f = ds:filter(function(r) return r.i > -300 end)
  :filter("d > 1 or d == nil")
  :mutate{
    z = function(r) return r.late * 2 end,              -- integers, then a decimal: numbers
    w = function(r) if r.nl then return r.nl + 1 end end, -- nil until 70 %, then integers
    t = function(r) return r.s end,
  }
  :mutate{ { "u", function(r) return r.z + (r.w or 0) end } }
f:write_csv(arg[3])
f:group_by("s"):agg{ n = jp.count(), z = jp.sum("z"), w = jp.mean("w"), u = jp.sum("u") }
  :write_csv(arg[3] .. ".g.csv")
print("u", f:column("u"):sum())
