-- lua/jinpu/scaffold.lua - `jinpu plugins new NAME [--c] [--dir DIR]`:
-- writes a plugin that works and passes its own test as generated, to be
-- edited from there.  A Lua plugin gets a verb and a file format; a C
-- plugin (--c) the same verb in C against include/jinpu.h, with a Makefile.
local jp = require("jinpu")

local function fill(text, name)
  return (text:gsub("NAME", name))
end

local LUA_MANIFEST = [[
# plugin.yaml - read by jinpu before any code runs: what the plugin
# provides, which plugin API it needs, what it may do (docs/plugins.md).
name: NAME
version: 0.1.0
description: TODO - one line saying what NAME does
jinpu: 1
provides:
  verbs: [NAME]
  formats:
    - name: NAME
      extensions: [.NAME]
permissions: [read, write]
]]

local LUA_INIT = [[
-- init.lua - runs when a script first uses ds:NAME(...) or a .NAME file.
local jp = require("jinpu")

-- ds:NAME(field [, factor]) -> a copy of ds whose `field` is multiplied by
-- factor (default 2); qualifiers and nulls are kept.
jp.register_verb("NAME", function(ds, field, factor)
  assert(type(field) == "string", "NAME: which field?")
  factor = factor or 2
  return ds:mutate{ [field] = field .. " * " .. tostring(factor) }
end)

-- .NAME files: one "key: value" line per figure ("area: 14.8万").
jp.register_format{
  name = "NAME",
  extensions = { ".NAME" },
  read = function(path)
    local rows, n = {}, 0
    for line in io.lines(path) do
      n = n + 1
      if line:match("%S") and not line:match("^%s*#") then
        local key, value = line:match("^%s*([^:]-)%s*:%s*(.-)%s*$")
        if not key or key == "" then error(path .. ":" .. n .. ": expected 'key: value'", 0) end
        rows[#rows + 1] = { key = key, value = value }
      end
    end
    local name = path:match("([^/]+)%.[^./]+$") or "NAME"
    return jp.dataset{ name = name, rows = rows,
      fields = { { name = "key", type = "string" }, { name = "value", type = "number" } } }
  end,
  write = function(ds, path)
    local f = assert(io.open(path, "w"))
    for r in ds:rows() do f:write(r.key, ": ", tostring(r.value), "\n") end
    assert(f:close())
  end,
}
]]

local LUA_TEST = [[
-- tests/test_NAME.lua - run by `jinpu plugins test NAME`.
local T = require("jinpu.test")
local jp = require("jinpu")

local ds = jp.dataset{ name = "t", columns = { key = { "a", "b" }, value = { 1.5, 20000 } } }
T.eq(ds:NAME("value"):column("value"):totable(), { 3, 40000 }, "the verb doubles")
T.eq(ds:NAME("value", 10):column("value"):totable(), { 15, 200000 }, "with a factor")

local path = os.tmpname() .. ".NAME"
ds:write(path)
local back = jp.load(path)
T.eq(#back, 2, "the format reads back what it wrote")
T.eq(back:column("value"):totable(), { 1.5, 20000 }, "values")
os.remove(path)
os.remove(path:sub(1, -#".NAME" - 1))

T.done()
]]

local function write(path, text)
  local f, err = io.open(path, "w")
  if not f then error(err, 0) end
  f:write(text)
  assert(f:close())
end

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

return function(name, dir, c)
  if type(name) ~= "string" or not name:match("^[a-z][a-z0-9_]*$") then
    io.stderr:write("jinpu plugins new: a plugin name must match [a-z][a-z0-9_]* (got " .. tostring(name) .. ")\n")
    return 2
  end
  local root = dir .. "/" .. name
  if jp._plugins.kind(root) then
    io.stderr:write("jinpu plugins new: " .. root .. " exists already\n")
    return 2
  end
  if not jp._plugins.kind(dir) then
    io.stderr:write("jinpu plugins new: " .. dir .. " is not a directory\n")
    return 2
  end
  local ok, err = pcall(function()
    assert(os.execute("mkdir -p " .. sh(root .. "/tests")), "cannot create " .. root)
    if c then
      local okc, C = pcall(require, "jinpu.scaffold_c")
      if not okc then error("this jinpu cannot write C plugins", 0) end
      local inc = jp._plugins.include_dir() or "/usr/local/include"
      for file, text in pairs(C.files) do
        write(root .. "/" .. fill(file, name), (fill(text, name):gsub("@INCLUDE@", inc)))
      end
    else
      write(root .. "/plugin.yaml", fill(LUA_MANIFEST, name))
      write(root .. "/init.lua", fill(LUA_INIT, name))
      write(root .. "/tests/test_" .. name .. ".lua", fill(LUA_TEST, name))
    end
  end)
  if not ok then
    io.stderr:write("jinpu plugins new: " .. jp.error_message(err) .. "\n")
    return 3
  end
  print("wrote " .. root .. (c and " (a C plugin: make -C " .. root .. " builds it)" or ""))
  print("try:   jinpu --plugins " .. dir .. " plugins test " .. name)
  return 0
end
