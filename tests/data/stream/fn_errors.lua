-- Errors of functions over a file: jinpu run fn_errors.lua FILE eager|lazy
-- prints each error (tests/cli/stream_ops.t compares the two ways).  Over a
-- lazy file the functions run when the pipeline is consumed: by a verb that
-- streams it (a column's sum) or one that loads it (rows()); each error names
-- the same verb, row and fields as the loop over the loaded file.
local jp = require("jinpu")
local lazy = arg[2] ~= "eager"
local function try(f)
  local ok, e = pcall(f)
  print(ok and "no error" or e)
end
local function read() return jp.read_csv(arg[1], { lazy = lazy }) end
for _, use in ipairs({ "stream", "load" }) do
  local function consume(ds, field)
    if use == "stream" then return ds:column(field):sum() end
    for _ in ds:rows() do end
  end
  try(function() consume(read():filter(function(r) if r.i == 7 then error("seven") end return true end), "i") end)
  try(function() consume(read():filter(function(r) return r.nl > 3 end), "i") end)
  try(function() consume(read():filter("i > 0"):mutate{ v = function(r) if r.i > 990 then return "x" end return r.i end }, "v") end)
  try(function() consume(read():mutate{ v = function(r) return {} end }, "v") end)
  -- a row view lives only during its call
  local kept
  consume(read():filter(function(r) kept = r; return true end), "i")
  try(function() return kept.i end)
end
