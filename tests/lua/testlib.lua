-- testlib.lua - cases and assertions for jinpu's Lua tests.
--
--   local t = require("testlib")
--   t.case("name", function()           -- one case: passes when none of its
--     t.ok(cond, msg)  t.eq(a, b, msg)  --   assertions failed and it raised
--     t.near(a, b, tol, msg)            --   nothing; counts once however
--     t.raises(fn, pattern, msg)        --   many assertions it ran
--   end)
--   t.done()                            -- prints "# passed N failed M", exits 1 on failure
--
-- An assertion outside any case counts once per source line (a line in a
-- loop is one item: it passes when it held every time). Output, read by
-- tests/run.sh: "ok 3 - name" / "not ok 3 - name" per case, "# ..." for why.
local t = {}

local SHOWN = 10          -- failed assertions printed per case or line
local seq, passed, failed = 0, 0, 0
local current             -- the running case: { name, failed, shown }
local lines = {}          -- assertions outside a case: "src:line" -> { fails }
local line_order = {}

local function report(ok, name)
  seq = seq + 1
  if ok then passed = passed + 1 else failed = failed + 1 end
  print(string.format("%sok %d - %s", ok and "" or "not ", seq, name))
end

-- the test file's line that called the assertion (level 4: record <- t.x <- caller)
local function where()
  local info = debug.getinfo(4, "Sl")
  return info.short_src, info.currentline or 0
end

-- jinpu's own test assertions compare and print values as plugin tests do
local JT = require("jinpu.test")
local show, deep_eq = JT.show, JT.same

local function record(cond, msg, detail)
  local src, line = where()
  local slot = current
  if not slot then
    local key = src .. ":" .. line
    slot = lines[key]
    if not slot then
      slot = { name = key, src = src, line = line, failed = 0, shown = 0 }
      lines[key] = slot
      line_order[#line_order + 1] = slot
    end
  end
  if not cond then
    slot.failed = slot.failed + 1
    slot.shown = slot.shown + 1
    if slot.shown <= SHOWN then
      print(string.format("# %s:%d: %s%s", src, line, msg or "", detail and (" -- " .. detail) or ""))
    end
  end
  return cond
end

function t.ok(cond, msg)
  return (record(cond and true or false, msg))
end

function t.eq(a, b, msg)
  return (record(deep_eq(a, b), msg, "got " .. show(a) .. ", expected " .. show(b)))
end

function t.near(a, b, tol, msg)
  tol = tol or 1e-9
  local ok = type(a) == "number" and type(b) == "number" and
    math.abs(a - b) <= tol * math.max(1, math.abs(b))
  return (record(ok, msg, "got " .. show(a) .. ", expected " .. show(b)))
end

function t.raises(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then return (record(false, msg, "no error raised")) end
  local s = tostring(err)
  if pattern and not s:find(pattern) then
    return (record(false, msg, "error " .. show(s) .. " does not match " .. show(pattern)))
  end
  return (record(true, msg))
end

-- Runs fn as one case; an error raised inside fails the case, and the file goes on.
function t.case(name, fn)
  assert(type(name) == "string" and type(fn) == "function", "t.case(name, function)")
  if current then error("t.case '" .. name .. "' inside case '" .. current.name .. "': cases do not nest", 2) end
  current = { name = name, failed = 0, shown = 0 }
  local ok, err = xpcall(fn, debug.traceback)
  local c = current
  current = nil
  if not ok then
    c.failed = c.failed + 1
    print("# " .. name .. ": raised " .. tostring(err):gsub("\n", "\n# "))
  end
  if c.shown > SHOWN then
    print(string.format("# ... and %d more failed assertions in this case", c.shown - SHOWN))
  end
  report(c.failed == 0, name)
end

function t.done()
  table.sort(line_order, function(a, b)
    if a.src ~= b.src then return a.src < b.src end
    return a.line < b.line
  end)
  for _, l in ipairs(line_order) do report(l.failed == 0, l.name) end
  print(string.format("# passed %d failed %d", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return t
