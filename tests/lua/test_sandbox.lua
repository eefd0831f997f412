-- The script sandbox (`jinpu run --sandbox`): every refused call, escapes
-- through symlinks and "..", coroutines, pcall, load with an environment of
-- its own, bytecode, the methods of io handles, and the bindings that open
-- files.  Each case runs a small script in its own sandboxed jinpu process
-- and looks at its exit status and messages.
local t = require("testlib")
local P_ = require("proclib")
local sh, run, slurp, write = P_.sh, P_.run, P_.slurp, P_.write
-- each check is a case of its own, named by a fixed text (the same in every
-- build); what was seen is printed only when it fails
local function check(cond, name, detail) P_.check(t, cond, name, detail) end
local function check_eq(got, want, name) t.case(name, function() t.eq(got, want, name) end) end


local JINPU = os.getenv("JINPU") or "./jinpu"
local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end

local dir = os.tmpname()
os.remove(dir)
assert(run("mkdir -p " .. sh(dir) .. "/job/in " .. sh(dir) .. "/job/out " .. sh(dir) .. "/job/tmp "
  .. sh(dir) .. "/outside") == 0)
local job = dir .. "/job"
write(dir .. "/outside/secret.txt", "secret\n")
write(dir .. "/outside/mod.lua", "return 'outside module'\n")
write(job .. "/in/data.csv", "crop,area\ncherry,148000\n")
write(job .. "/helper.lua", "return 'helper here'\n")
assert(run("ln -s " .. sh(dir .. "/outside/secret.txt") .. " " .. sh(job .. "/in/link_out")) == 0)
assert(run("ln -s " .. sh(job .. "/in/data.csv") .. " " .. sh(job .. "/in/link_in")) == 0)
assert(run("ln -s " .. sh(dir .. "/outside") .. " " .. sh(job .. "/out/dir_out")) == 0)
assert(run("ln -s " .. sh(dir .. "/outside/created.txt") .. " " .. sh(job .. "/out/dangling")) == 0)

-- Run `code` as job/script.lua in the sandbox; returns exit status, stdout, stderr.
local n = 0
local function sandboxed(code, o)
  o = o or {}
  n = n + 1
  local script = job .. "/s" .. n .. ".lua"
  write(script, code)
  local cmd = { "cd", sh(dir), "&&" }
  cmd[#cmd + 1] = o.tmpdir == false and "env -u TMPDIR" or ("TMPDIR=" .. sh(o.tmpdir or job .. "/tmp"))
  cmd[#cmd + 1] = sh(JINPU) .. " run"
  if not o.plain then cmd[#cmd + 1] = "--sandbox" end
  for _, r in ipairs(o.read or {}) do cmd[#cmd + 1] = "--allow-read " .. sh(r) end
  for _, w in ipairs(o.write or {}) do cmd[#cmd + 1] = "--allow-write " .. sh(w) end
  cmd[#cmd + 1] = sh(script)
  for _, a in ipairs(o.args or {}) do cmd[#cmd + 1] = sh(a) end
  cmd[#cmd + 1] = ">" .. sh(dir .. "/stdout") .. " 2>" .. sh(dir .. "/stderr")
  local rc = run(table.concat(cmd, " "))
  return rc, slurp(dir .. "/stdout"), slurp(dir .. "/stderr")
end

-- A refusal: exit 3, the message names the call, and the path when given.
local function refused(code, call, path, o, msg)
  local rc, _, err = sandboxed(code, o)
  local ok = rc == 3 and err:find(call, 1, true) and (not path or err:find("'" .. path .. "'", 1, true))
  check(ok, (msg or call) .. " is refused", "exit " .. rc .. ": " .. err:sub(1, 300))
  return err
end
local function allowed(code, want, o, msg)
  local rc, out, err = sandboxed(code, o)
  check(rc == 0 and (not want or out:find(want, 1, true)),
    (msg or code) .. " runs", "exit " .. rc .. ": " .. out:sub(1, 200) .. err:sub(1, 300))
end

local secret = dir .. "/outside/secret.txt"

-- ---- reading -----------------------------------------------------------------------

refused("io.open(" .. string.format("%q", secret) .. ")", "io.open", secret)
local e = refused("local f = io.open(" .. string.format("%q", secret) .. ")", "io.open", secret, nil,
  "the message names the script line")
check(e:find("s%d+%.lua:1:"), "the refusal names the script and line", e)
check(e:find("the sandboxed script may not read", 1, true), "the refusal names the principal", e)
refused("for l in io.lines(" .. string.format("%q", secret) .. ") do end", "io.lines", secret)
refused("io.input(" .. string.format("%q", secret) .. ")", "io.input", secret)
refused("dofile(" .. string.format("%q", dir .. "/outside/mod.lua") .. ")", "dofile")
refused("loadfile(" .. string.format("%q", dir .. "/outside/mod.lua") .. ")", "loadfile")
refused("package.path = " .. string.format("%q", dir .. "/outside/?.lua") .. "; require('mod')", "require",
  dir .. "/outside/mod.lua")
allowed("print(io.open('job/in/data.csv'):read('l'))", "crop,area", nil, "the script's folder is readable")
allowed("package.path = 'job/?.lua'; print(require('helper'))", "helper here", nil,
  "require of a file in the script's folder")
allowed("print(dofile('job/helper.lua'))", "helper here")
allowed("print(io.open(arg[1]):read('l'))", "secret", { args = { secret } },
  "an ARG naming an existing file is readable")
allowed("print(io.open(" .. string.format("%q", secret) .. "):read('l'))", "secret",
  { read = { dir .. "/outside" } }, "--allow-read adds a root")
refused("jp.load(" .. string.format("%q", secret) .. ")", "jp.load", secret)
refused("jp.read_csv(" .. string.format("%q", secret) .. ")", "jp.read_csv", secret)
refused("jp.open_archive(" .. string.format("%q", dir .. "/outside/a.tar.gz") .. ")", "jp.open_archive")
refused("jp.verify_archive(" .. string.format("%q", dir .. "/outside/a.tar.gz") .. ")", "jp.verify_archive")
allowed("print(#jp.read_csv('job/in/data.csv'))", "1", nil, "jp.read_csv inside a root")

-- ---- escapes -------------------------------------------------------------------------

e = refused("io.open('job/in/link_out')", "io.open", "job/in/link_out", nil, "a symlink out of a root")
check(e:find("resolves to '" .. secret .. "'", 1, true), "the message says where the link goes", e)
allowed("print(io.open('job/in/link_in'):read('l'))", "crop,area", nil, "a symlink staying inside")
refused("io.open('job/in/../../outside/secret.txt')", "io.open", nil, nil, "'..' out of a root")
allowed("print(io.open('job/in/../in/./data.csv'):read('l'))", "crop,area", nil, "'..' staying inside")
refused("io.open('job/out/dir_out/secret.txt')", "io.open", nil, { write = { job .. "/out" } },
  "a symlinked directory out of a write root")
refused("io.open('job/out/dangling', 'w'):write('x')", "io.open", nil, { write = { job .. "/out" } },
  "a dangling symlink pointing out of a write root")
check(not exists(dir .. "/outside/created.txt"), "the dangling link's target was not created")
refused("io.open('job/out/dir_out/../../outside/x', 'w')", "io.open", nil, { write = { job .. "/out" } },
  "'..' after a symlinked directory")
refused("io.open('job/in/nothere/../../../outside/secret.txt')", "io.open", nil, nil,
  "'..' through a directory that does not exist")

-- ---- writing -------------------------------------------------------------------------

refused("io.open('job/in/new.txt', 'w')", "io.open", "job/in/new.txt", nil, "readable is not writable")
check(not exists(job .. "/in/new.txt"), "nothing was created")
refused("io.open('job/in/data.csv', 'r+')", "io.open", nil, nil, "r+ is a write")
refused("io.open('job/in/data.csv', 'a')", "io.open", nil, nil, "append is a write")
refused("io.output('job/in/o.txt')", "io.output", "job/in/o.txt")
refused("os.remove('job/in/data.csv')", "os.remove", "job/in/data.csv")
refused("os.rename('job/tmp/a', 'job/in/b')", "os.rename", "job/in/b", nil, "os.rename checks its target")
refused("os.rename('job/in/data.csv', 'job/tmp/b')", "os.rename", "job/in/data.csv", nil,
  "os.rename checks its source")
check(exists(job .. "/in/data.csv"), "the input is still there")
allowed("local f = assert(io.open('job/tmp/w.txt', 'w')); f:write('hi'); f:close(); print('ok')", "ok", nil,
  "$TMPDIR is writable")
allowed("local f = assert(io.open(arg[1] .. '/r.txt', 'w')); f:close(); os.rename(arg[1] .. '/r.txt', arg[1] .. '/s.txt');"
  .. " print(os.remove(arg[1] .. '/s.txt'))", "true", { write = { job .. "/out" }, args = { job .. "/out" } },
  "--allow-write: create, rename, remove")
refused("io.open('job/tmp/w.txt', 'w')", "io.open", nil, { tmpdir = false }, "no writable root without TMPDIR")
allowed("local n = os.tmpname(); print(n:sub(1, #arg[1]) == arg[1]); os.remove(n)", "true",
  { args = { job .. "/tmp" } }, "os.tmpname names a file in $TMPDIR")
refused("os.tmpname()", "os.tmpname", nil, { tmpdir = false }, "os.tmpname without a writable $TMPDIR")
allowed("local f = io.tmpfile(); f:write('abc'); f:seek('set'); print(f:read('a')); f:close()", "abc", nil,
  "io.tmpfile in $TMPDIR")
refused("io.tmpfile()", "io.tmpfile", nil, { tmpdir = false })
refused("jp.dataset{ columns = { x = {1} } }:write_csv('job/in/x.csv')", "ds:write_csv", "job/in/x.csv")
refused("jp.dataset{ columns = { x = {1} } }:write_yaml('job/in/x.yaml')", "ds:write_yaml")
refused("jp.dataset{ columns = { x = {1} } }:write('job/in/x.csv')", "ds:write")
refused("jp.export('job/in/x.tar.gz', { jp.dataset{ name = 'x', columns = { x = {1} } } })", "jp.export")
allowed("jp.export('job/tmp/x.tar.gz', { jp.dataset{ name = 'x', columns = { x = {1} } } });"
  .. " print(jp.open_archive('job/tmp/x.tar.gz'):verify())", "true", nil, "export and read back in $TMPDIR")

-- ---- commands, native code, debug ------------------------------------------------------

refused("os.execute('touch job/tmp/ran')", "os.execute", nil, nil)
check(not exists(job .. "/tmp/ran"), "the command did not run")
refused("os.execute()", "os.execute", nil, nil, "os.execute() probing for a shell")
refused("io.popen('echo hi')", "io.popen")
refused("package.loadlib('libc.so.6', '*')", "package.loadlib")
allowed("print(#package.searchers, package.cpath == '')", "2\ttrue", nil, "no C searchers")
allowed("print(debug.getinfo, debug.sethook, debug.getupvalue, debug.getregistry, debug.setmetatable,"
  .. " package.loaded.debug == debug)", "nil\tnil\tnil\tnil\tnil\ttrue", nil, "debug is traceback only")
allowed("print(type(debug.traceback('x')))", "string", nil, "debug.traceback works")
allowed("print(os.getenv('TMPDIR') ~= nil)", "true", nil, "os.getenv is allowed")
do
  local rc = sandboxed("os.exit(1)")
  check_eq(rc, 1, "os.exit keeps its status in the sandbox (a batch job's 'invalid')")
end

-- ---- pcall, coroutines, load ------------------------------------------------------------

allowed("local ok, err = pcall(io.open, " .. string.format("%q", secret) .. ");"
  .. " print(ok, (err:find('may not read', 1, true)))", "false\t", nil, "pcall catches the refusal, nothing more")
refused("local co = coroutine.wrap(function() return io.open(" .. string.format("%q", secret) .. ") end); co()",
  "io.open", secret, nil, "inside coroutine.wrap")
allowed("local co = coroutine.create(function() return io.open(" .. string.format("%q", secret) .. ") end);"
  .. " local ok, err = coroutine.resume(co); print(ok, err:find('may not read', 1, true) ~= nil)",
  "false\ttrue", nil, "inside coroutine.resume")
allowed("local co = coroutine.create(function() coroutine.yield(1); return pcall(os.execute, 'true') end);"
  .. " coroutine.resume(co); print(coroutine.resume(co))", "true\tfalse", nil, "after a yield")
refused("load('return io.open(...)', 'x', 't', { io = io })(" .. string.format("%q", secret) .. ")", "io.open",
  secret, nil, "load with an environment of its own")
refused("local env = setmetatable({}, { __index = _G }); load('io.open(\"" .. secret .. "\")', 'x', 't', env)()",
  "io.open", secret, nil, "load with an inheriting environment")
allowed("print(load(string.dump(function() return 1 end)))", "binary chunks are refused", nil,
  "string.dump output does not load")
allowed("local s, done = string.dump(function() return 1 end), false;"
  .. " print(load(function() if done then return nil end done = true return s end))", "attempt to load a binary chunk",
  nil, "bytecode through a reader function")
allowed("print(load(string.dump(function() return 1 end), 'b', 'b'))", "binary chunks are refused", nil,
  "mode 'b' does not help")
allowed("local f = io.open('job/tmp/bc.luac', 'wb'); f:write(string.dump(function() return 1 end)); f:close();"
  .. " print(loadfile('job/tmp/bc.luac'))", "attempt to load a binary chunk", nil, "loadfile of bytecode")
refused("local f = io.open('job/tmp/bc2.luac', 'wb'); f:write(string.dump(function() return 1 end)); f:close();"
  .. " dofile('job/tmp/bc2.luac')", "binary chunk", nil, "dofile of bytecode")

-- ---- io handles -------------------------------------------------------------------------

-- Every method reachable from a handle's metatable, called with a path,
-- never opens it.
allowed([[
local mt = getmetatable(io.stdout)
local opened = false
for k, f in pairs(mt.__index) do
  if type(f) == "function" and k ~= "close" then
    local ok, r = pcall(f, io.stdin, "]] .. secret .. [[")
    if ok and r and type(r) ~= "number" and io.type(r) == "file" then opened = true end
    if ok and type(r) == "function" then
      local ok2, line = pcall(r)
      if ok2 and line == "secret" then opened = true end
    end
  end
end
print("opened", opened)
]], "opened\tfalse", nil, "the methods of io handles open nothing")
allowed("local h = io.output(); getmetatable(h).__index.write(h, 'via mt\\n')", "via mt", nil,
  "an existing handle's methods still work")
refused("getmetatable(io.stdout).__index.open = nil; io.open(" .. string.format("%q", secret) .. ")", "io.open",
  secret, nil, "changing the handle metatable changes nothing")

-- ---- the command line ---------------------------------------------------------------------

do
  local rc, _, err = sandboxed("print(1)", { plain = true, write = { job .. "/out" } })
  check(rc == 2 and err:find("need --sandbox", 1, true), "--allow-write without --sandbox is a usage error", err)
  rc, _, err = sandboxed("print(1)", { read = { dir .. "/nothere" } })
  check(rc == 2 and err:find("nothere", 1, true), "a root that does not exist is a usage error", err)
  rc = run(sh(JINPU) .. " run --sandbox --frobnicate x.lua 2>/dev/null")
  check_eq(rc, 2, "an unknown run option is a usage error")
  rc = run("cd " .. sh(dir) .. " && " .. sh(JINPU) .. " run --sandbox --allow-read=outside job/s1.lua >/dev/null 2>&1")
  check_eq(rc, 0, "--allow-read=PATH form is accepted")
  local out
  rc, out = sandboxed("print(os.execute('true'))", { plain = true })
  check(rc == 0 and out:find("true"), "without --sandbox nothing changes")
  rc, out = sandboxed("local s = jp.sandboxed(); print(s.write[1] == arg[1], #s.read)", { args = { job .. "/tmp" } })
  check(rc == 0 and out:find("^true"), "jp.sandboxed() lists the roots", out)
end

os.execute("rm -rf " .. sh(dir))
t.done()
