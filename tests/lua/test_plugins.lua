-- The plugin host: each kind of registration, each way of being broken,
-- permissions, discovery order and shadowing, --no-plugins, lazy loading,
-- provenance in archives.  Plugins are written by the test into temporary
-- directories and used from separate jinpu processes.
local t = require("testlib")
local P_ = require("proclib")
local sh, run, slurp, write = P_.sh, P_.run, P_.slurp, P_.write
-- each check is a case of its own, named by a fixed text (the same in every
-- build); what was seen is printed only when it fails
local function check(cond, name, detail) P_.check(t, cond, name, detail) end
local function check_eq(got, want, name) t.case(name, function() t.eq(got, want, name) end) end


local JINPU = os.getenv("JINPU") or "./jinpu"

local dir = os.tmpname()
os.remove(dir)
local function mkdir(p) assert(run("mkdir -p " .. sh(p)) == 0) end
mkdir(dir)

-- plugin(root, name, manifest, files): write root/name/plugin.yaml and files
local function plugin(root, name, manifest, files)
  mkdir(root .. "/" .. name)
  write(root .. "/" .. name .. "/plugin.yaml", manifest)
  for f, text in pairs(files or {}) do
    local sub = f:match("^(.*)/[^/]+$")
    if sub then mkdir(root .. "/" .. name .. "/" .. sub) end
    write(root .. "/" .. name .. "/" .. f, text)
  end
end

local function manifest(name, provides, extra)
  return "name: " .. name .. "\nversion: 1.2.3\ndescription: test plugin " .. name .. "\njinpu: 1\nprovides:\n"
    .. provides .. (extra or "")
end

-- jinpu [opts] -e code / args; returns status, stdout, stderr
local function jinpu(args, env)
  local cmd = "cd " .. sh(dir) .. " && " .. (env or "") .. " " .. sh(JINPU) .. " " .. args
    .. " >" .. sh(dir .. "/out") .. " 2>" .. sh(dir .. "/err") .. " </dev/null"
  local code = run(cmd)
  return code, slurp(dir .. "/out") or "", slurp(dir .. "/err") or ""
end
local function lua(plugins, code, env)
  local opts = {}
  for _, p in ipairs(plugins) do opts[#opts + 1] = "--plugins " .. sh(p) end
  write(dir .. "/script.lua", code)
  return jinpu(table.concat(opts, " ") .. " run script.lua", env)
end
local function expect(plugins, code, want, msg, env)
  local rc, out, err = lua(plugins, code, env)
  check(rc == 0 and out:find(want, 1, true) ~= nil, msg, "exit " .. rc .. ": " .. out:sub(1, 300) .. err:sub(1, 400))
end
local function expect_error(plugins, code, want, msg, env)
  local rc, out, err = lua(plugins, code, env)
  check(rc == 3 and err:find(want, 1, true) ~= nil, msg, "exit " .. rc .. ": " .. out:sub(1, 200) .. err:sub(1, 400))
  return err
end

-- ---- a plugin registering every kind ---------------------------------------------------

local A = dir .. "/a"
plugin(A, "kinds", manifest("kinds", [[
  verbs: [kdouble]
  formats:
    - name: kline
      extensions: [.kline, .kl]
  rules: [krules]
  commands: [kcmd]
  units: [kunit]
  schemas: [kschema]
]], "permissions: [read, write]\n"), {
  ["init.lua"] = [[
local jp = require("jinpu")
local util = require("kinds.util")
LEAK = "leaked"
string.kinds_added = true
jp.register_verb("kdouble", function(ds, f) return ds:mutate{ [f] = f .. " * 2" } end)
jp.register_format{ name = "kline", extensions = { ".kline", ".kl" },
  read = function(path, opts)
    assert(opts.cell_errors == nil, "a plugin reader was given the core's cell_errors option")
    local rows = {}
    for l in io.lines(path) do rows[#rows + 1] = { v = util.num(l) } end
    return jp.dataset{ name = opts.name or "kline", fields = { { name = "v", type = "number" } }, rows = rows }
  end,
  write = function(ds, path)
    local f = assert(io.open(path, "w"))
    for r in ds:rows() do f:write(tostring(r.v), "\n") end
    f:close()
  end,
  export = function(list, path)
    local f = assert(io.open(path, "w"))
    for _, ds in ipairs(list) do f:write("# ", ds:name() or "?", " ", #ds, "\n") end
    f:close()
  end }
jp.register_rules("krules", { rules = { { name = "kr.small", field = "v", maximum = 10 },
  { name = "kr.fn", check = function(r) return r.v ~= 7, "seven" end } } })
jp.register_command("kcmd", function(args) print("kcmd:" .. table.concat(args, ",")) return 7 end)
jp.register_unit{ name = "kunit", dimension = "mass", scale = 50, aliases = { "k担" } }
jp.register_schema("kschema", { { name = "x", type = "integer", constraints = { minimum = 0 } },
  { name = "opt", type = "string" } })
]],
  ["util.lua"] = "return { num = function(s) return tonumber(s) end }\n",
})
write(dir .. "/d.kline", "1\n2\n3\n")

expect({ A }, [[
local ds = jp.load("d.kline")
print("rows", #ds, ds:column("v"):sum())
print("doubled", ds:kdouble("v"):column("v"):sum())
]], "rows\t3\t6.0", "a plugin format is picked by extension by jp.load")
expect({ A }, [[print(jp.load("d.kline"):kdouble("v"):column("v"):sum())]], "12.0", "a plugin verb becomes ds:name()")
expect({ A }, [[print(jp.load("d.kline", { name = "given" }):name())]], "given", "the reader gets the options")
expect({ A }, [[local ds, bad = jp.load("d.kline", { cell_errors = true }) print("cells", #ds, type(bad), bad and #bad)]],
  "cells\t3\ttable\t0", "cell_errors = true: a plugin's reader has none, and jp.load says so with an empty list")
expect({ A }, [[jp.dataset{ columns = { v = { 4, 5 } } }:write("w.kl"); print((io.open("w.kl"):read("a"):gsub("\n", " ")))]],
  "4 5", "ds:write picks the plugin format by its second extension")
expect({ A }, [[print(table.concat(jp._plugins.provenance(jp.load("d.kline"):kdouble("v")), ";"))]],
  "kinds 1.2.3", "datasets a plugin produced carry its name and version")
expect({ A }, [[local ds = jp.dataset{ columns = { v = { 1 } } }
print(#jp._plugins.provenance(ds), #jp._plugins.provenance(ds:head(1)))]], "0\t0",
  "datasets it did not touch carry nothing")
do
  local rc = jinpu("--plugins " .. sh(A) .. " export -o t.tar.gz d.kline")
  local man = io.popen("tar xzf " .. sh(dir .. "/t.tar.gz") .. " -O t/manifest.yaml 2>&1"):read("a")
  check(rc == 0 and man:find('plugins:\n      - name: "kinds"\n        version: "1.2.3"', 1, true) ~= nil,
    "the archive manifest records the plugin that produced the dataset", man:sub(1, 400))
  rc = jinpu("--plugins " .. sh(A) .. " export -o all.kline d.kline t.tar.gz#kline")
  check(rc == 0 and slurp(dir .. "/all.kline") == "# kline 3\n# kline 3\n",
    "jinpu export -o OUT.ext gives every dataset to the format's export")
  local out
  rc, out = jinpu("--plugins " .. sh(A) .. " info d.kline")
  check(rc == 0 and out:find("rows 3, fields 1", 1, true) ~= nil, "jinpu info reads a plugin format", out)
  rc, out = jinpu("--plugins " .. sh(A) .. " validate d.kline")
  check(rc == 0 and out:find("valid", 1, true) ~= nil, "jinpu validate reads a plugin format", out)
end
expect({ A }, [[
local V = require("jinpu.validate")
local r = jp.dataset{ columns = { v = { 1, 7, 20 } } }:validate(nil, { pack = "krules" })
print(r.ok, r.counts.errors)
for _, e in ipairs(r.errors) do print(e.rule, e.row) end
]], "false\t2\nkr.small.maximum\t3\nkr.fn\t2", "a registered rule pack validates")
do
  local rc, out = jinpu("--plugins " .. sh(A) .. " kcmd x y")
  check(rc == 7 and out == "kcmd:x,y\n", "a plugin command: jinpu NAME ARGS, its exit status", rc .. " " .. out)
end
expect({ A }, [[print(jp.convert(2, "kunit", "kg"), jp.convert(1, "k担", "t"))]], "100.0\t0.05",
  "a registered unit converts")
write(dir .. "/s.csv", "x,extra\n5,a\n-1,b\n")
expect({ A }, [[local ds = jp.read_csv("s.csv", { schema = "kschema" })
print(ds:name(), ds:schema().fields[1].type, ds:validate().counts.errors)]], "kschema\tinteger\t1",
  "a named schema types a CSV (and leaves out the optional fields it lacks)")
expect_error({ A }, [[jp.read_csv("s.csv", { schema = "nosuch" })]], "no schema named 'nosuch' (named schemas: ",
  "an unknown schema name lists the known ones")
expect({ A }, [[print(LEAK, string.kinds_added, jp.load("d.kline") ~= nil, LEAK, string.kinds_added)]],
  "nil\tnil\ttrue\tnil\tnil", "a plugin's globals and library changes stay in its environment")
expect({ A }, [[
jp.register_verb("triple", function(ds, f) return ds:mutate{ [f] = f .. " * 3" } end)
print(jp.dataset{ columns = { v = { 2 } } }:triple("v"):column("v"):sum())]], "6", "a script registers its own verb")
expect_error({ A }, [[jp.register_verb("filter", function() end)]], "verb 'filter' is already taken",
  "a script cannot replace a built-in verb")

-- ---- lazy: nothing runs before a name is used ----------------------------------------------

local L = dir .. "/lazy"
plugin(L, "eager", manifest("eager", "  verbs: [eager_v]\n", "permissions: [write]\n"), {
  ["init.lua"] = "io.open(" .. string.format("%q", dir .. "/ran") .. ", 'w'):close()\n"
    .. "require('jinpu').register_verb('eager_v', function(ds) return ds end)\n",
})
do
  lua({ L }, "print(1)")
  jinpu("--plugins " .. sh(L) .. " plugins")
  jinpu("--plugins " .. sh(L) .. " plugins info eager")
  check(slurp(dir .. "/ran") == nil, "starting jinpu, listing and describing plugins run no plugin code")
  local _, out = lua({ L }, [[
local function state() for _, p in ipairs(jp.plugins()) do if p.name == "eager" then return p.state end end end
local before = state(); local _ = jp.dataset{ columns = { v = { 1 } } }:eager_v(); print(before, state())]])
  check(slurp(dir .. "/ran") ~= nil and out == "not loaded yet\tok\n", "the first use runs it", out)
end

-- ---- broken plugins ---------------------------------------------------------------------

local B = dir .. "/broken"
plugin(B, "yamlbad", "name: yamlbad\nversion: [1\n", { ["init.lua"] = "" })
plugin(B, "unknownkey", manifest("unknownkey", "  verbs: [uk]\n", "colour: blue\n"), { ["init.lua"] = "" })
plugin(B, "badversion", "name: badversion\nversion: 1.0\ndescription: x\njinpu: 1\nprovides:\n  verbs: [bv]\n",
  { ["init.lua"] = "" })
plugin(B, "wrongname", manifest("other", "  verbs: [wn]\n"), { ["init.lua"] = "" })
plugin(B, "futureapi", "name: futureapi\nversion: 2.0.0\ndescription: x\njinpu: 2\nprovides:\n  verbs: [fa]\n",
  { ["init.lua"] = "" })
plugin(B, "syntax", manifest("syntax", "  verbs: [syn]\n"), { ["init.lua"] = "local jp = require('jinpu')\nlocal = 3\n" })
plugin(B, "raises", manifest("raises", "  verbs: [rz]\n"),
  { ["init.lua"] = "local jp = require('jinpu')\n\nerror('boom at load')\n" })
plugin(B, "undeclared", manifest("undeclared", "  verbs: [ud]\n"), { ["init.lua"] = [[
local jp = require("jinpu")
jp.register_verb("ud", function(ds) return ds end)
jp.register_verb("sneaky", function(ds) return ds end)
]] })
plugin(B, "lazybones", manifest("lazybones", "  verbs: [lb1, lb2]\n"),
  { ["init.lua"] = "require('jinpu').register_verb('lb1', function(ds) return ds end)\n" })
plugin(B, "clash", manifest("clash", "  verbs: [filter]\n"), { ["init.lua"] = "" })
plugin(B, "noinit", manifest("noinit", "  verbs: [ni]\n"))
plugin(B, "badperm", manifest("badperm", "  verbs: [bp]\n", "permissions: [root]\n"), { ["init.lua"] = "" })
plugin(B, "nothing", "name: nothing\nversion: 1.0.0\ndescription: x\njinpu: 1\nprovides: {}\n", { ["init.lua"] = "" })
plugin(B, "fine", manifest("fine", "  verbs: [fine_v]\n"),
  { ["init.lua"] = "require('jinpu').register_verb('fine_v', function(ds) return ds:head(1) end)\n" })

do
  local rc, out = jinpu("--plugins " .. sh(B) .. " plugins")
  check_eq(rc, 0, "jinpu plugins lists broken plugins without failing")
  local function reason(name, want, msg)
    check(out:find(name .. " refused: " .. want, 1, true) ~= nil, msg, out)
  end
  reason("yamlbad", "plugin.yaml:3: did not find expected", "a YAML syntax error names the file and line")
  reason("unknownkey", "plugin.yaml:7: unknown key 'colour'", "an unknown manifest key")
  reason("badversion", "plugin.yaml:2: version must be a semantic version", "a bad version")
  reason("wrongname", "plugin.yaml:1: the plugin is named 'other' but its folder is 'wrongname'", "name and folder differ")
  reason("futureapi", "plugin.yaml:4: the plugin needs plugin API 2, but jinpu ", "a newer API, both versions named")
  check(out:find("has plugin API 1", 1, true) ~= nil, "the refusal names this jinpu's API version")
  reason("syntax", "init.lua:2:", "a syntax error in init.lua shows in the list without running it")
  reason("clash", "plugin.yaml: verb 'filter' is built into jinpu", "a name clash with a built-in")
  reason("noinit", "plugin.yaml:1: the plugin has neither init.lua nor a library", "nothing to load")
  reason("badperm", "plugin.yaml:7: unknown permission 'root'", "an unknown permission")
  reason("nothing", "plugin.yaml:5: the plugin provides nothing", "a plugin providing nothing")
  check(out:find("fine%s+1%.2%.3%s+not loaded yet") ~= nil, "a good plugin next to broken ones is listed as such")
  rc, out = jinpu("--plugins " .. sh(B) .. " plugins --check")
  check_eq(rc, 1, "plugins --check exits 1 when a plugin is refused")
  reason("raises", "init.lua:3: boom at load", "--check loads: a runtime error at load time")
  reason("undeclared", "init.lua:3: register_verb: verb 'sneaky' is not declared in plugin.yaml", "an undeclared registration")
  reason("lazybones", "plugin.yaml declares verb 'lb2' but the plugin did not register it", "a declared name never registered")
end
expect({ B }, [[print(#jp.dataset{ columns = { v = { 1, 2 } } }:fine_v(), #jp.load("]] .. dir .. [[/d.kline", { format = "csv", header = false }))]],
  "1\t3", "broken plugins take nothing else down: other plugins and built-ins work")
expect_error({ B }, [[jp.dataset{ columns = { v = { 1 } } }:rz()]],
  "plugin 'raises' (" .. B .. "/raises) was refused: init.lua:3: boom at load",
  "using a name of a plugin that fails to load names the plugin and why")
expect_error({ B }, [[jp.dataset{ columns = { v = { 1 } } }:bv()]], "plugin 'badversion'",
  "using a name of a plugin with a bad manifest names the plugin")
expect_error({ B }, [[jp.dataset{ columns = { v = { 1 } } }:yamlbad()]], "plugin 'yamlbad'",
  "a plugin whose manifest does not parse still explains its folder name")
expect({ B }, [[
local ok, err = pcall(function() return jp.dataset{ columns = { v = { 1 } } }:rz() end)
local ok2, err2 = pcall(function() return jp.dataset{ columns = { v = { 1 } } }:rz() end)
print(ok, ok2, err:gsub("^.-:%d+: ", "") == err2:gsub("^.-:%d+: ", ""), #jp.dataset{ columns = { v = { 1 } } }:fine_v())]], "false\tfalse\ttrue\t1",
  "a refused plugin stays refused, with the same reason, and jinpu goes on")
do
  local rc, out = jinpu("--plugins " .. sh(B) .. " -e 'print(42)'")
  check(rc == 0 and out == "42\n", "jinpu starts and runs with every broken plugin present")
end

-- ---- permissions ------------------------------------------------------------------------------

local Pm = dir .. "/perm"
local marker = dir .. "/marker"
local function perm_plugin(name, perms, body)
  plugin(Pm, name, manifest(name, "  verbs: [" .. name .. "_v]\n", perms and ("permissions: [" .. perms .. "]\n") or ""),
    { ["init.lua"] = "local jp = require('jinpu')\njp.register_verb('" .. name .. "_v', function(ds, a)\n" .. body
      .. "\nend)\n" })
end
perm_plugin("noexec", "read", "os.execute('touch " .. marker .. "') return ds")
perm_plugin("yesexec", "exec", "os.execute('touch " .. marker .. "') return ds")
perm_plugin("noenv", nil, "return os.getenv('HOME')")
perm_plugin("noread", nil, "return io.open(a):read('a')")
perm_plugin("noreadjp", nil, "return jp.load(a)")
perm_plugin("nowrite", "read", "io.open(a, 'w'):close() return ds")
perm_plugin("leak", "read", "return function(p) return io.open(p, 'w') end")
perm_plugin("quitter", "read,write,exec,env", "os.exit(0)")
perm_plugin("nodebug", "read,write,exec,env", "return debug.getinfo, debug.sethook, package, type(debug.traceback)")
perm_plugin("readall", "read", "return io.open(a):read('l')")
local ds0 = "jp.dataset{ columns = { v = { 1 } } }"
local e = expect_error({ Pm }, ds0 .. ":noexec_v()",
  "os.execute: plugin 'noexec' may not run commands or load native code (permission 'exec' is not declared in its plugin.yaml)",
  "a plugin without exec cannot run a command: the message names the plugin and the permission")
check(e:find("init.lua:3:", 1, true) ~= nil, "and where in the plugin", e)
check(slurp(marker) == nil, "nothing ran")
expect({ Pm }, ds0 .. ":yesexec_v(); print('ran')", "ran", "with exec, it runs")
check(slurp(marker) ~= nil, "the command ran")
os.remove(marker)
expect_error({ Pm }, ds0 .. ":noenv_v()", "os.getenv: plugin 'noenv' may not read environment variables",
  "env is a permission")
expect_error({ Pm }, ds0 .. ":noread_v('d.kline')", "io.open: plugin 'noread' may not read 'd.kline'",
  "read is a permission (io.open)")
expect_error({ Pm }, ds0 .. ":noreadjp_v('d.kline')", "jp.load: plugin 'noreadjp' may not read 'd.kline'",
  "read is a permission (jinpu's own file functions)")
expect_error({ Pm }, ds0 .. ":nowrite_v('x.txt')", "io.open: plugin 'nowrite' may not write 'x.txt'",
  "write is a permission")
expect_error({ Pm }, "local open = " .. ds0 .. ":leak_v(); open('leaked.txt')",
  "io.open: plugin 'leak' may not write 'leaked.txt'",
  "a plugin's library functions keep its limits when the script calls them later")
expect_error({ Pm }, ds0 .. ":quitter_v()", "os.exit: plugin 'quitter' may not end the process",
  "a plugin cannot end the process")
expect({ Pm }, "print(" .. ds0 .. ":nodebug_v())", "nil\tnil\tnil\tfunction",
  "a plugin has no debug library beyond traceback and no package table")
do
  write(dir .. "/secret.txt", "secret\n")
  local rc, _, err = jinpu("--plugins " .. sh(Pm) .. " run --sandbox script.lua")
  write(dir .. "/script.lua", ds0 .. ":yesexec_v()")
  rc, _, err = jinpu("--plugins " .. sh(Pm) .. " run --sandbox script.lua")
  check(rc == 3 and err:find("os.execute: the sandboxed script may not run commands", 1, true) ~= nil,
    "in the sandbox a plugin declaring exec still cannot run a command", err)
  mkdir(dir .. "/job")
  write(dir .. "/job/s.lua", ds0 .. ":readall_v(" .. string.format("%q", dir .. "/secret.txt") .. ")")
  rc, _, err = jinpu("--plugins " .. sh(Pm) .. " run --sandbox job/s.lua")
  check(rc == 3 and err:find("the sandboxed script may not read", 1, true) ~= nil,
    "a plugin's reads are checked against the sandbox's roots", err)
  write(dir .. "/job/s.lua", "print(" .. ds0 .. ":readall_v('job/s.lua'))")
  rc, _, err = jinpu("--plugins " .. sh(Pm) .. " run --sandbox job/s.lua")
  check(rc == 0, "inside the roots it reads", err)
end

-- ---- discovery order and shadowing -----------------------------------------------------------

local D1, D2, D3, X = dir .. "/d1", dir .. "/d2", dir .. "/d3", dir .. "/xdg"
local function which(root, tag)
  plugin(root, "dup", manifest("dup", "  verbs: [which]\n"),
    { ["init.lua"] = "require('jinpu').register_verb('which', function() return '" .. tag .. "' end)\n" })
end
which(D1, "d1")
which(D2, "d2")
which(D3, "d3")
which(X .. "/jinpu/plugins", "xdg")
local probe = "print(jp.dataset{ columns = { v = { 1 } } }:which())"
expect({ D1, D2 }, probe, "d1", "the first --plugins directory wins")
expect({ D2, D1 }, probe, "d2", "in the order given")
expect({ D2 }, probe, "d2", "--plugins comes before JINPU_PLUGIN_PATH", "JINPU_PLUGIN_PATH=" .. sh(D3 .. ":" .. D1))
expect({}, probe, "d3", "JINPU_PLUGIN_PATH in its order", "JINPU_PLUGIN_PATH=" .. sh(D3 .. ":" .. D1))
expect({}, probe, "d1", "an empty or missing entry of JINPU_PLUGIN_PATH is skipped",
  "JINPU_PLUGIN_PATH=" .. sh(":" .. dir .. "/none:" .. D1))
expect({}, probe, "d3", "JINPU_PLUGIN_PATH comes before the user's data directory",
  "XDG_DATA_HOME=" .. sh(X) .. " JINPU_PLUGIN_PATH=" .. sh(D3))
expect({}, probe, "xdg", "${XDG_DATA_HOME}/jinpu/plugins is searched", "XDG_DATA_HOME=" .. sh(X))
expect({}, probe, "xdg", "~/.local/share/jinpu/plugins without XDG_DATA_HOME",
  "HOME=" .. sh(dir .. "/home") .. " && mkdir -p " .. sh(dir .. "/home/.local/share/jinpu") .. " && ln -sfn "
  .. sh(X .. "/jinpu/plugins") .. " " .. sh(dir .. "/home/.local/share/jinpu/plugins") .. " && env -u XDG_DATA_HOME HOME="
  .. sh(dir .. "/home"))
do
  local rc, out = jinpu("--plugins " .. sh(D1) .. " --plugins " .. sh(D2) .. " plugins")
  check(rc == 0 and out:find("dup%s+1%.2%.3%s+shadowed%s+" .. D2:gsub("%p", "%%%0") .. "/dup") ~= nil
    and out:find("dup in " .. D2 .. "/dup is shadowed by " .. D1 .. "/dup", 1, true) ~= nil,
    "a shadowed plugin is listed as such", out)
  rc, out = jinpu("--plugins " .. sh(D1) .. " --plugins " .. sh(D2) .. " plugins info dup")
  check(rc == 0 and out:find("shadows:     " .. D2 .. "/dup", 1, true) ~= nil, "info names what it shadows", out)
end
do
  local rc, _, err = lua({ D1 }, probe, "JINPU_NO_PLUGINS=1")
  check(rc == 3 and err:find("method 'which'", 1, true) ~= nil, "JINPU_NO_PLUGINS=1 turns third-party plugins off")
  rc, _, err = jinpu("--no-plugins --plugins " .. sh(D1) .. " run script.lua", "JINPU_PLUGIN_PATH=" .. sh(D3))
  check(rc == 3 and err:find("method 'which'", 1, true) ~= nil, "--no-plugins turns them off", err)
  check(err:find("method 'which'); third-party plugins are off (--no-plugins or JINPU_NO_PLUGINS)", 1, true) ~= nil,
    "calling a plugin's verb with plugins off says they are off", err)
  rc, _, err = lua({}, 'local d = jp.dataset{ fields = { "x" }, rows = { { 1 } } }\nd:heda(2)\n')
  check(rc == 3 and err:find("(method 'heda'); did you mean 'head'?", 1, true) ~= nil,
    "a misspelt dataset method gets a suggestion", err)
  local out
  rc, out = jinpu("--no-plugins plugins")
  check(rc == 0 and out:find("jinpu_stats", 1, true) ~= nil and not out:find("dup", 1, true),
    "--no-plugins keeps the shipped plugins", out)
  check(out:find("third-party plugins are off (--no-plugins or JINPU_NO_PLUGINS)", 1, true) ~= nil,
    "--no-plugins: the list says third-party plugins are off", out)
  rc, out = jinpu("plugins")
  check(rc == 0 and not out:find("are off", 1, true), "and only then", out)
  rc, _, err = jinpu("--plugins " .. sh(dir .. "/nowhere") .. " -e 'print(1)'")
  check(rc == 2 and err:find("nowhere", 1, true) ~= nil, "--plugins of a missing directory is a usage error")
end

do
  mkdir(dir .. "/scaffold")
  local rc = jinpu("plugins new tally --dir scaffold")
  local rc2, out = jinpu("--plugins scaffold plugins test tally")
  check(rc == 0 and rc2 == 0 and out:find("ok 1 - tally tests/test_tally.lua", 1, true) ~= nil,
    "plugins new writes a Lua plugin that passes its own test", out)
  rc = jinpu("plugins new Bad-Name --dir scaffold")
  check(rc == 2, "plugins new refuses a name that is not [a-z][a-z0-9_]*")
  rc, out = jinpu("--plugins scaffold plugins info tally")
  check(rc == 0 and out:find("formats:  tally (.tally)", 1, true) ~= nil and out:find("permissions: read, write", 1, true) ~= nil,
    "plugins info shows what a plugin provides and its permissions", out)
end

if os.getenv("KEEP") then print(dir) else os.execute("rm -rf " .. sh(dir)) end
t.done()
