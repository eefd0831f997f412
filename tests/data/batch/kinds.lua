-- A batch job whose behaviour is named by its input's file name (the
-- lower-case letters the job key starts with): ok, fail, invalid, loop,
-- block, oom, crash, exit, stall, limits, and the sandbox's refusals exec, popen,
-- loadlib, steal, deface, meddle.  tests/cli/batch*.t run it.
local helper = require("helper")
local input, out = arg[1], arg[2]
local key = input:match("([^/]+)%.[^./]*$")
local kind = key:match("^%l+")

local function write(name, text)
  local f = assert(io.open(out .. "/" .. name, "w"))
  f:write(text)
  f:close()
end

-- the output directory is the job's own and empty: nothing of another job
local probe = io.open(out .. "/result.txt")
if probe then error("the output directory is not empty") end

if kind == "ok" then
  local f = assert(io.open(input))
  local content = f:read("a")
  f:close()
  write("result.txt", helper.describe(input, content, { table.unpack(arg, 3) }))
  print("ok " .. key)
elseif kind == "fail" then
  write("half.txt", "half")
  error("cannot use " .. input .. ": no column 'x'")
elseif kind == "invalid" then
  write("half.txt", "half")
  io.stderr:write("row 3, field 'x': 'abc' is not a number\n")
  os.exit(1)
elseif kind == "loop" then
  write("half.txt", "half")
  while true do end
elseif kind == "block" then
  write("half.txt", "half")
  os.execute("sleep 60")
elseif kind == "oom" then
  write("half.txt", "half")
  local s = "x"
  while true do s = s .. s end
elseif kind == "crash" then
  write("half.txt", "half")
  local pid = io.open("/proc/self/stat"):read("n")
  os.execute("kill -SEGV " .. pid)
  os.execute("sleep 10")
elseif kind == "exit" then
  os.exit(7)
elseif kind == "stall" then
  -- says it started (in the job file's folder, its working directory), then waits to be stopped
  write("half.txt", "half")
  local f = assert(io.open("started." .. key, "w"))
  f:close()
  -- the sleep's pid, so that the test checks this job's process, not any "sleep 60" on the machine
  os.execute("sleep 60 & echo $! > sleeper." .. key .. "; wait")
elseif kind == "limits" then
  -- what the runner gave this process: environment and address-space limit
  local f = assert(io.open("/proc/self/limits"))
  local as = f:read("a"):match("Max address space +(%S+)")
  f:close()
  write("result.txt", string.format("memory %s\nseconds %s\naddress space %s\ntmp %s\n",
    os.getenv("JINPU_MAX_MEMORY"), os.getenv("JINPU_MAX_SECONDS"), as,
    os.getenv("TMPDIR"):match("/%.jinpu/tmp/[^/]+%-%d+%-%x+/tmp%d+$") and "private" or os.getenv("TMPDIR")))
elseif kind == "exec" then
  assert(os.execute("true"))
  write("result.txt", "ran a command\n")
elseif kind == "popen" then
  local p = assert(io.popen("echo hi"))
  write("result.txt", p:read("a"))
  p:close()
elseif kind == "loadlib" then
  local f = assert(package.loadlib("libc.so.6", "puts"))
  write("result.txt", tostring(f))
elseif kind == "steal" then
  local f = assert(io.open("/etc/passwd"))
  write("result.txt", f:read("l"))
  f:close()
elseif kind == "deface" then
  -- the job file's folder is readable, not writable
  local f = assert(io.open("kinds.lua", "a"))
  f:write("-- defaced\n")
  f:close()
  write("result.txt", "defaced\n")
elseif kind == "meddle" then
  debug.sethook(function() end, "l")
  write("result.txt", "meddled\n")
else
  error("unknown kind '" .. kind .. "'")
end
