-- A function that fails early over a file with a malformed record at its end:
-- the record's error, as when the file is loaded first (tests/cli/stream_ops.t).
local jp = require("jinpu")
local ok, e = pcall(function()
  return jp.read_csv(arg[1], { lazy = arg[2] ~= "eager" })
    :filter(function(r) if r.i == 7 then error("seven") end return true end)
    :column("i"):sum()
end)
print((tostring(e):gsub("^[^:]*:%d+: ", "")))
