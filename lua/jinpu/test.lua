-- lua/jinpu/test.lua - assertions for plugin tests (tests/*.lua in a
-- plugin's folder, run by `jinpu plugins test`).
--
--   local T = require("jinpu.test")
--   T.ok(cond, msg)   T.eq(got, want, msg)   T.near(got, want, tol, msg)
--   T.raises(fn, pattern, msg)     -- fn must raise an error matching pattern
--   T.case(name, function() ... end)  -- checks grouped as one case; an error
--                                  -- inside fails the case, the file goes on
--   T.done()                       -- prints "# passed N failed M"; exit 1 on failure
--   T.same(a, b), T.show(v)        -- deep equality, and a value as text
--
-- Output: "ok N - msg" / "not ok N - msg" per check (or per case), "# ..."
-- for why, the same protocol as jinpu's own tests.
local T = { passed = 0, failed = 0 }
local seq, current = 0, nil

local function report(ok, name)
  seq = seq + 1
  if ok then T.passed = T.passed + 1 else T.failed = T.failed + 1 end
  print(string.format("%sok %d - %s", ok and "" or "not ", seq, name))
end

local function where()
  local info = debug.getinfo and debug.getinfo(3, "Sl")
  if not info then return "?" end
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

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function record(cond, msg, detail)
  if not cond then print(string.format("# %s: %s%s", where(), msg or "", detail and (" -- " .. detail) or "")) end
  if current then
    current.failed = current.failed or not cond
  else
    report(cond, msg or ("check " .. (seq + 1)))
  end
  return cond
end

T.same, T.show = same, show

function T.ok(cond, msg) return record(cond and true or false, msg) end

function T.eq(got, want, msg)
  return record(same(got, want), msg, "got " .. show(got) .. ", expected " .. show(want))
end

function T.near(got, want, tol, msg)
  tol = tol or 1e-9
  local ok = type(got) == "number" and type(want) == "number" and math.abs(got - want) <= tol * math.max(1, math.abs(want))
  return record(ok, msg, "got " .. show(got) .. ", expected " .. show(want))
end

function T.raises(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then return record(false, msg, "no error raised") end
  if pattern and not tostring(err):find(pattern) then
    return record(false, msg, "error " .. show(tostring(err)) .. " does not match " .. show(pattern))
  end
  return record(true, msg)
end

function T.case(name, fn)
  if current then error("T.case: cases do not nest", 2) end
  current = { failed = false }
  local ok, err = pcall(fn)
  local c = current
  current = nil
  if not ok then print("# " .. name .. ": raised " .. tostring(err)) end
  report(ok and not c.failed, name)
end

function T.done()
  print(string.format("# passed %d failed %d", T.passed, T.failed))
  os.exit(T.failed == 0 and 0 or 1)
end

return T
