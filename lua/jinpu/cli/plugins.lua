-- jinpu plugins [--check] | info NAME | new NAME [--c] [--dir DIR] | test [NAME]
--
-- Lists the plugins found (and why any was refused), shows one, writes a
-- scaffold that passes its own test, and runs the plugins' tests.  The
-- host (lua/jinpu/plugins.lua) does the work; this module only talks.
local jp = require("jinpu")
local args = require("jinpu.cli.args")
local scaffold = require("jinpu.scaffold")

local usage = [[
usage: jinpu plugins [--check]          list the plugins found, where, and their state
       jinpu plugins info NAME          a plugin's manifest: what it provides, its permissions
       jinpu plugins new NAME [--c] [--dir DIR]
                                        write a working plugin (Lua, or C with --c) to DIR/NAME
       jinpu plugins test [NAME]        run the plugins' own tests (tests/*.lua in their folders)
Plugins are found in --plugins DIR, $JINPU_PLUGIN_PATH, the user's data
directory and the shipped plugins, first name wins; --no-plugins (or
JINPU_NO_PLUGINS=1) keeps only the shipped ones.  docs/plugins.md has more.
--check loads every plugin (running its code) and exits 1 when one is refused.]]

local H = jp._plugins

local function err(msg)
  io.stderr:write("jinpu plugins: " .. msg .. "\n")
end

-- A compile check refuses a plugin whose init.lua does not even parse, so
-- the list shows "init.lua:2: ..." without running anything.
local function listing(check)
  local list = jp.plugins()
  local bad = 0
  for _, p in ipairs(list) do
    if p.state == "not loaded yet" then
      local ok, why = (check and H.load or H.syntax)(p.name)
      if not ok then p.state, p.reason = "refused", why end
      if ok and check then p.state = "ok" end
    end
  end
  -- a user whose plugin is missing from the list must see why
  local _, third_party = H.search()
  local off = not third_party
    and "third-party plugins are off (--no-plugins or JINPU_NO_PLUGINS): only the shipped ones are listed"
  if #list == 0 then
    print("no plugins found")
    if off then print(off) end
    return 0
  end
  local w = { 4, 7, 5 }
  for _, p in ipairs(list) do
    w[1] = math.max(w[1], utf8.len(p.name) or #p.name)
    w[2] = math.max(w[2], #(p.version or "-"))
    w[3] = math.max(w[3], #p.state)
  end
  local fmt = "%-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %s"
  print(string.format(fmt, "name", "version", "state", "where"))
  for _, p in ipairs(list) do
    print(string.format(fmt, p.name, p.version or "-", p.state, p.dir .. " (" .. p.source .. ")"))
  end
  for _, p in ipairs(list) do
    if p.state == "refused" then
      bad = bad + 1
      print(string.format("%s refused: %s", p.name, p.reason))
    elseif p.state == "shadowed" then
      print(string.format("%s in %s is shadowed by %s", p.name, p.dir, p.shadowed_by))
    end
  end
  if off then print(off) end
  return (check and bad > 0) and 1 or 0
end

local function find(name)
  for _, p in ipairs(jp.plugins()) do
    if p.name == name and p.state ~= "shadowed" then return p end
  end
end

local function info(name)
  local p = name and find(name)
  if not p then
    err(name and ("no plugin named '" .. name .. "'") or "info needs a plugin name")
    return 2
  end
  if p.state == "not loaded yet" then
    local ok, why = H.syntax(p.name)
    if not ok then p.state, p.reason = "refused", why end
  end
  print(string.format("%s %s - %s", p.name, p.version or "?", p.description or ""))
  print("  folder:      " .. p.dir .. " (" .. p.source .. ")")
  print("  state:       " .. p.state .. (p.reason and (": " .. p.reason) or ""))
  print("  plugin API:  " .. tostring(p.api or "?"))
  if p.library then print("  library:     " .. p.library) end
  if p.license then print("  license:     " .. p.license) end
  print("  permissions: " .. (#p.permissions > 0 and table.concat(p.permissions, ", ") or "none"))
  print("  provides:")
  for _, kind in ipairs({ "formats", "verbs", "rules", "commands", "units", "schemas" }) do
    local names = p.provides[kind]
    if #names > 0 then
      local shown = {}
      for i, n in ipairs(names) do
        shown[i] = kind == "formats" and (n .. " (" .. table.concat(p.extensions[n] or {}, " ") .. ")") or n
      end
      print(string.format("    %-9s %s", kind .. ":", table.concat(shown, ", ")))
    end
  end
  for _, q in ipairs(jp.plugins()) do
    if q.name == p.name and q.state == "shadowed" then print("  shadows:     " .. q.dir) end
  end
  return 0
end

-- ---- plugins test ------------------------------------------------------------------

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local _, how, code = os.execute(cmd)
  if how == "exit" then return code end
  return 128 + (code or 0)
end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  os.remove(path)
  return s
end

-- The options a child jinpu needs to see the plugin under test first.
local function discovery_args(p)
  local search, third_party = H.search()
  if p.source == "shipped" and not third_party then return "--no-plugins" end
  local parent = p.dir:match("^(.*)/[^/]+$") or "."
  local out = { "--plugins " .. sh(parent) }
  for _, s in ipairs(search) do
    if s.source == "--plugins" and s.dir ~= parent then out[#out + 1] = "--plugins " .. sh(s.dir) end
  end
  return table.concat(out, " ")
end

local function test_one(p, exe, totals)
  local files = {}
  local dirs = H.listdir(p.dir) or {}
  local has_tests = false
  for _, d in ipairs(dirs) do has_tests = has_tests or d == "tests" end
  if has_tests then
    local ls = io.popen("ls " .. sh(p.dir .. "/tests"))
    for f in ls:lines() do
      if f:match("%.lua$") then files[#files + 1] = f end
    end
    ls:close()
  end
  if #files == 0 then
    print(string.format("# %s: no tests (tests/*.lua)", p.name))
    return
  end
  table.sort(files)
  if p.library and H.kind(p.dir .. "/Makefile") == "file" then
    local log = os.tmpname()
    if run("make -s -C " .. sh(p.dir) .. " >" .. sh(log) .. " 2>&1") ~= 0 then
      totals.seq = totals.seq + 1
      print(string.format("not ok %d - %s: make failed\n#   %s", totals.seq, p.name,
        read_all(log):gsub("\n", "\n#   ")))
      totals.failed = totals.failed + 1
      return
    end
    read_all(log)
  end
  for _, f in ipairs(files) do
    local out = os.tmpname()
    local cmd = string.format("cd %s && %s %s run tests/%s >%s 2>&1", sh(p.dir), sh(exe), discovery_args(p), sh(f),
      sh(out))
    local code = run(cmd)
    local text = read_all(out)
    local passed, failed = text:match("# passed (%d+) failed (%d+)")
    passed, failed = tonumber(passed) or 0, tonumber(failed) or 0
    if code ~= 0 and failed == 0 then failed = 1 end
    if failed > 0 then totals.failed = totals.failed + 1 else totals.passed = totals.passed + 1 end
    totals.seq = totals.seq + 1
    if failed > 0 then
      print(string.format("not ok %d - %s tests/%s (exit %d)", totals.seq, p.name, f, code))
      for line in text:gmatch("[^\n]+") do
        if not line:match("^ok ") then print("#   " .. line) end
      end
    else
      print(string.format("ok %d - %s tests/%s (%d checks)", totals.seq, p.name, f, passed))
    end
  end
end

local function test(name)
  local exe = H.exe()
  if not exe then
    err("cannot find the jinpu binary to run the tests with")
    return 3
  end
  local totals = { passed = 0, failed = 0, seq = 0 }
  local any = false
  for _, p in ipairs(jp.plugins()) do
    if p.state ~= "shadowed" and (not name or p.name == name) then
      any = true
      if p.state == "refused" then
        totals.seq = totals.seq + 1
        print(string.format("not ok %d - %s: refused: %s", totals.seq, p.name, p.reason))
        totals.failed = totals.failed + 1
      else
        test_one(p, exe, totals)
      end
    end
  end
  if name and not any then
    err("no plugin named '" .. name .. "'")
    return 2
  end
  print(string.format("# passed %d failed %d", totals.passed, totals.failed))
  return totals.failed == 0 and 0 or 1
end

return function(argv)
  local sub = argv[1]
  if sub == "info" or sub == "test" or sub == "new" then
    local rest = { table.unpack(argv, 2) }
    local spec = sub == "new" and { { "--c", key = "c" }, { "--dir", key = "dir", value = "directory" } } or {}
    local opts, names = args.parse("plugins " .. sub, rest, usage, spec)
    if not opts then return names end
    if #names > 1 then
      err(sub .. " takes one name")
      return 2
    end
    if sub == "info" then return info(names[1]) end
    if sub == "test" then return test(names[1]) end
    if not names[1] then
      err("new needs a plugin name")
      return 2
    end
    return scaffold(names[1], opts.dir or ".", opts.c)
  end
  local opts, rest = args.parse("plugins", argv, usage, { { "--check", key = "check" } })
  if not opts then return rest end
  if #rest > 0 then
    err("unknown subcommand '" .. rest[1] .. "'\n" .. usage)
    return 2
  end
  return listing(opts.check)
end
