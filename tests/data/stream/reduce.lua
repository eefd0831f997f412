-- Every field's column reductions, printed with every bit of a number:
--   jinpu run reduce.lua FILE eager|lazy [FILTER]
-- tests/cli/stream_ops.t compares the loaded file's lines with the
-- streamed ones.  q is read as a number (its cells carry qualifiers).
local jp = require("jinpu")
local ds = jp.read_csv(arg[1], {
  lazy = arg[2] ~= "eager",
  schema = { fields = { { name = "q", type = "number" } } },
})
if arg[3] then ds = ds:filter(arg[3]) end
local function show(v)
  if math.type(v) == "float" then return string.format("%a", v) end
  return tostring(v)
end
local function try(f)
  local ok, a, b = pcall(f)
  if not ok then return "error " .. tostring(a):gsub("^[^:]*:%d+: ", "") end
  return show(a) .. "/" .. tostring(b)
end
for _, name in ipairs(ds:names()) do
  local c = ds:column(name)
  print(name, c.type, #c, try(function() return c:sum() end), try(function() return c:mean() end),
    try(function() return c:min() end), try(function() return c:max() end), c:count(),
    c:null_count(), c:nulls(), c:qualified())
  -- its cells: loaded on first read
  print(name, show(c[1]), show(c[#c]), c:qualifier(1), #c:totable())
end
