-- Errors of functions over a file: jinpu run fn_errors.lua FILE eager|lazy
-- prints each error (tests/cli/stream_ops.t compares the two ways).
local jp = require("jinpu")
local lazy = arg[2] ~= "eager"
local function try(f)
  local ok, e = pcall(f)
  print(ok and "no error" or e)
end
local function read() return jp.read_csv(arg[1], { lazy = lazy }) end
try(function() read():filter(function(r) if r.i == 7 then error("seven") end return true end) end)
try(function() read():filter(function(r) return r.nl > 3 end) end)
try(function() read():filter("i > 0"):mutate{ v = function(r) if r.i > 990 then return "x" end return r.i end } end)
try(function() read():mutate{ v = function(r) return {} end } end)
-- a row view lives only during its call
local kept
read():filter(function(r) kept = r; return true end)
try(function() return kept.i end)
