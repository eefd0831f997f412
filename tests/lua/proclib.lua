-- proclib.lua - helpers for tests that run jinpu as a separate process
-- (the sandbox, plugins): quoting, running, reading and writing files, and
-- checks that are cases of their own.
--
--   local P = require("proclib")
--   P.sh(s)  P.run(cmd) -> exit status  P.slurp(path) -> text | nil
--   P.write(path, text)  P.tmpdir() -> a new empty directory
--   P.check(t, cond, name, detail)   one case named `name` (a fixed text);
--                                    `detail` is printed only when it fails
local P = {}

function P.sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function P.run(cmd)
  local _, how, code = os.execute(cmd)
  return how == "exit" and code or 128 + code
end

function P.slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function P.write(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

function P.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(P.run("mkdir -p " .. P.sh(dir)) == 0)
  return dir
end

function P.check(t, cond, name, detail)
  t.case(name, function() t.ok(cond, detail and (name .. ": " .. detail) or name) end)
end

return P
