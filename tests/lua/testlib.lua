-- testlib.lua - assertions for jinpu's Lua tests.
--
--   local t = require("testlib")
--   t.ok(cond, msg)  t.eq(a, b, msg)  t.near(a, b, tol, msg)
--   t.raises(fn, pattern, msg)   -- fn must raise an error matching pattern
--   t.done()                     -- prints "# passed N failed M", exits 1 on failure
local t = { passed = 0, failed = 0 }

local function where()
  local info = debug.getinfo(3, "Sl")
  return string.format("%s:%d", info.short_src, info.currentline or 0)
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep_eq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    -- 1 and 1.0 are the same figure
    if type(a) == "number" and type(b) == "number" then return a == b end
    return false
  end
  for k, v in pairs(a) do
    if not deep_eq(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function record(cond, msg, detail)
  if cond then
    t.passed = t.passed + 1
  else
    t.failed = t.failed + 1
    print(string.format("not ok %d %s: %s%s", t.passed + t.failed, where(), msg or "",
      detail and (" -- " .. detail) or ""))
  end
  return cond
end

function t.ok(cond, msg)
  return record(cond and true or false, msg)
end

function t.eq(a, b, msg)
  return record(deep_eq(a, b), msg, "got " .. show(a) .. ", expected " .. show(b))
end

function t.near(a, b, tol, msg)
  tol = tol or 1e-9
  local ok = type(a) == "number" and type(b) == "number" and
    math.abs(a - b) <= tol * math.max(1, math.abs(b))
  return record(ok, msg, "got " .. show(a) .. ", expected " .. show(b))
end

function t.raises(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then return record(false, msg, "no error raised") end
  local s = tostring(err)
  if pattern and not s:find(pattern) then
    return record(false, msg, "error " .. show(s) .. " does not match " .. show(pattern))
  end
  return record(true, msg)
end

function t.done()
  print(string.format("# passed %d failed %d", t.passed, t.failed))
  os.exit(t.failed == 0 and 0 or 1)
end

return t
