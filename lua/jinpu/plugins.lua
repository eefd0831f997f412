-- lua/jinpu/plugins.lua - the plugin host: discovery, manifests, lazy
-- loading, the registration API, and what a refused plugin leaves behind.
--
-- Run once by the binding (src/bind/lua_plugin.c) with the `jinpu` module
-- and a table of private C helpers P; not reachable with require.  A
-- manifest (plugin.yaml) is read, never executed: what a plugin provides is
-- known before any of its code runs, and a plugin is loaded when one of its
-- names is first used (units excepted: see jpl_plugin.h).  Plugin code runs
-- in an environment of its own, as its own principal (lua_policy.c), and
-- every registration is checked against the manifest.  Nothing a plugin
-- does - a bad manifest, a syntax error, an error at load time, an
-- undeclared registration - raises out of discovery: the plugin is refused
-- with its reason, and using a name it would have provided says so.
local jp, P = ...

local H = { API = jp.api_version, list = {}, by_name = {}, nformats = 0 }

local KINDS = { "formats", "verbs", "rules", "commands", "units", "schemas" }
local KIND_ONE = { formats = "format", verbs = "verb", rules = "rule pack", commands = "command",
                   units = "unit", schemas = "schema" }
local PERMS = { read = true, write = true, exec = true, env = true }
local MANIFEST_KEYS = { name = true, version = true, description = true, jinpu = true, provides = true,
                        permissions = true, library = true, license = true, homepage = true, authors = true }

-- name -> plugin record, per kind (declared names; the winner of a clash)
H.index = {}
for _, k in ipairs(KINDS) do H.index[k] = {} end
H.ext = {}        -- ".xlsx" -> declared format name
H.formats = {}    -- registered formats: name -> { plugin=, read=, write=, export=, extensions= }
H.commands = {}   -- registered commands: name -> function
H.schemas = {}    -- registered schemas: name -> field list

local methods = jp._dataset_methods

-- What jinpu has without plugins: names a plugin may not take.
local builtin = { verbs = {}, formats = {}, ext = {}, commands = { plugins = true, run = true, help = true,
  version = true, batch = true } }
for k in pairs(methods) do builtin.verbs[k] = true end
for name, exts in pairs(P.core_formats()) do
  builtin.formats[name] = true
  for _, e in ipairs(exts) do builtin.ext[e:lower()] = true end
end
for k in pairs(package.preload) do
  local c = k:match("^jinpu%.cli%.([%w_]+)$")
  if c then builtin.commands[c] = true end
end

local function plain_find(s, sub) return s:find(sub, 1, true) end

-- A message without the plugin's folder in front of its file names.
local function relative(p, msg)
  msg = jp.error_message(msg)
  local prefix = p.dir .. "/"
  local out, i = {}, 1
  while true do
    local a, b = plain_find(msg:sub(i), prefix)
    if not a then out[#out + 1] = msg:sub(i); break end
    out[#out + 1] = msg:sub(i, i + a - 2)
    i = i + b
  end
  return table.concat(out)
end

local function describe(p)
  return string.format("plugin '%s' (%s)", p.name, p.dir)
end

local function refuse(p, why)
  p.state = "refused"
  p.reason = relative(p, why)
  return nil, p.reason
end

local function refused_error(p, level)
  error(describe(p) .. " was refused: " .. p.reason, level)
end

-- ---- the manifest ------------------------------------------------------------------

local function semver(v)
  if type(v) ~= "string" then return false end
  local core, rest = v:match("^(%d+%.%d+%.%d+)(.*)$")
  if not core then return false end
  for part in core:gmatch("%d+") do
    if #part > 1 and part:sub(1, 1) == "0" then return false end
  end
  return rest == "" or rest:match("^%-[%w%.%-]+$") or rest:match("^%+[%w%.%-]+$")
    or rest:match("^%-[%w%.%-]+%+[%w%.%-]+$")
end

local NAME_RE = "^[a-z][a-z0-9_]*$"

-- Read and check plugin.yaml; fills p.  Returns true, or false and
-- "plugin.yaml:LINE: why".
local function read_manifest(p)
  local ok, doc, pos = pcall(P.yaml, p.dir .. "/plugin.yaml", "plugin.yaml")
  if not ok then return false, doc end
  local function at(t, key) return "plugin.yaml:" .. ((pos[t] or {})[key] or (pos[t] or {})[0] or 1) .. ": " end
  if type(doc) ~= "table" then return false, "plugin.yaml:1: the manifest must be a mapping (name: ..., version: ...)" end
  local keys = {}
  for k in pairs(doc) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    if not MANIFEST_KEYS[k] then
      return false, at(doc, k) .. "unknown key '" .. tostring(k)
        .. "' (known: name, version, description, jinpu, provides, permissions, library, license, homepage, authors)"
    end
  end
  -- provides first: a plugin refused for another reason still claims its
  -- names, so that using one says why
  local prov = doc.provides
  if type(prov) ~= "table" then return false, at(doc, "provides") .. "provides: what the plugin registers, by kind" end
  local n = 0
  for k in pairs(prov) do
    if not KIND_ONE[k] then
      return false, at(prov, k) .. "unknown kind '" .. tostring(k) .. "' (" .. table.concat(KINDS, ", ") .. ")"
    end
  end
  p.provides = {}
  p.format_ext = {}
  for _, kind in ipairs(KINDS) do
    local list = prov[kind]
    p.provides[kind] = {}
    if list ~= nil then
      if type(list) ~= "table" then return false, at(prov, kind) .. kind .. " must be a list" end
      for i, item in ipairs(list) do
        local name, exts = item, nil
        if kind == "formats" and type(item) == "table" then
          name, exts = item.name, item.extensions
          if type(exts) == "string" then exts = { exts } end
          if type(exts) ~= "table" or #exts == 0 then
            return false, at(item, "extensions") .. "format '" .. tostring(name) .. "': extensions must list "
              .. "file name endings such as .xlsx"
          end
        end
        local re = kind == "units" and "^[^%s/]+$" or (kind == "commands" and "^[a-z][a-z0-9_-]*$" or NAME_RE)
        if type(name) ~= "string" or not name:match(re) then
          return false, at(list, i) .. "a " .. KIND_ONE[kind] .. " name must match " .. re:sub(2, -2)
            .. " (got " .. tostring(name) .. ")"
        end
        if kind == "formats" then
          exts = exts or { "." .. name }
          local clean = {}
          for j, e in ipairs(exts) do
            if type(e) ~= "string" or not e:match("^%.[%w_.%-]+$") then
              return false, at(list, i) .. "format '" .. name .. "': extension " .. j .. " must look like .xlsx"
            end
            clean[j] = e:lower()
          end
          p.format_ext[name] = clean
        end
        p.provides[kind][#p.provides[kind] + 1] = name
        n = n + 1
      end
    end
  end
  if n == 0 then return false, at(doc, "provides") .. "the plugin provides nothing" end
  if type(doc.name) ~= "string" or not doc.name:match(NAME_RE) then
    return false, at(doc, "name") .. "name must match [a-z][a-z0-9_]* (got " .. tostring(doc.name) .. ")"
  end
  if doc.name ~= p.folder then
    return false, at(doc, "name") .. "the plugin is named '" .. doc.name .. "' but its folder is '" .. p.folder .. "'"
  end
  p.name = doc.name
  if type(doc.version) ~= "string" or not semver(doc.version) then
    return false, at(doc, "version") .. "version must be a semantic version such as 1.0.0 (got "
      .. tostring(doc.version) .. ")"
  end
  p.version = doc.version
  if type(doc.description) ~= "string" or doc.description == "" then
    return false, at(doc, "description") .. "description: one line saying what the plugin does"
  end
  p.description = doc.description
  for _, k in ipairs({ "license", "homepage" }) do
    if doc[k] ~= nil and type(doc[k]) ~= "string" then return false, at(doc, k) .. k .. " must be text" end
    p[k] = doc[k]
  end
  -- the API version: refuse what this jinpu does not have, naming both
  if math.type(doc.jinpu) ~= "integer" then
    return false, at(doc, "jinpu") .. "jinpu: the plugin API version the plugin needs (this jinpu has "
      .. H.API .. ")"
  end
  p.api = doc.jinpu
  if doc.jinpu ~= H.API then
    return false, at(doc, "jinpu") .. string.format(
      "the plugin needs plugin API %d, but jinpu %s has plugin API %d", doc.jinpu, jp.version, H.API)
  end
  -- permissions
  local perms = doc.permissions
  if perms == nil then perms = {} end
  if type(perms) ~= "table" then return false, at(doc, "permissions") .. "permissions must be a list" end
  p.permissions = {}
  for i, v in ipairs(perms) do
    if not PERMS[v] then
      return false, at(perms, i) .. "unknown permission '" .. tostring(v) .. "' (read, write, exec, env)"
    end
    p.permissions[#p.permissions + 1] = v
  end
  -- library
  if doc.library ~= nil then
    local lib = doc.library
    if type(lib) ~= "string" or lib == "" or lib:sub(1, 1) == "/" or plain_find(lib, "..") then
      return false, at(doc, "library") .. "library must name a file inside the plugin's folder"
    end
    p.library = lib
  end
  p.has_init = P.kind(p.dir .. "/init.lua") == "file"
  if not p.has_init and not p.library then
    return false, "plugin.yaml:1: the plugin has neither init.lua nor a library"
  end
  return true
end

-- Is `name` of `kind` jinpu's own?
local function is_builtin(kind, name)
  if kind == "verbs" then return builtin.verbs[name] end
  if kind == "formats" then return builtin.formats[name] end
  if kind == "commands" then return builtin.commands[name] end
  if kind == "units" then return jp.unit(name) ~= nil end
  return false
end

-- Take the plugin's declared names in the indexes; a clash with jinpu or
-- an earlier plugin refuses it (its other names still point to it, so
-- using them says why).
local function claim(p)
  local clash
  for _, kind in ipairs(KINDS) do
    for _, name in ipairs(p.provides[kind]) do
      local owner = H.index[kind][name]
      if is_builtin(kind, name) then
        clash = clash or string.format("plugin.yaml: %s '%s' is built into jinpu", KIND_ONE[kind], name)
      elseif owner and owner ~= p then
        clash = clash or string.format("plugin.yaml: %s '%s' is already provided by %s", KIND_ONE[kind], name,
          describe(owner))
      else
        H.index[kind][name] = p
      end
    end
  end
  for name, exts in pairs(p.format_ext) do
    for _, e in ipairs(exts) do
      if builtin.ext[e] then
        clash = clash or string.format("plugin.yaml: format '%s': extension %s belongs to a built-in format", name, e)
      elseif H.ext[e] and H.index.formats[H.ext[e]] ~= p then
        clash = clash or string.format("plugin.yaml: format '%s': extension %s is already taken by %s", name, e,
          describe(H.index.formats[H.ext[e]]))
      else
        H.ext[e] = name
      end
    end
    H.nformats = H.nformats + 1
  end
  if clash and p.state ~= "refused" then return refuse(p, clash) end
  return true
end

-- ---- discovery ---------------------------------------------------------------------

local function discover(src, folder)
  local dir = src.dir .. "/" .. folder
  if P.kind(dir .. "/plugin.yaml") ~= "file" then return end
  local p = { folder = folder, name = folder, dir = dir, source = src.source, provides = {}, permissions = {},
              format_ext = {} }
  H.list[#H.list + 1] = p
  local first = H.by_name[folder]
  if first then
    p.state, p.shadowed_by = "shadowed", first
    pcall(read_manifest, p)
    return
  end
  H.by_name[folder] = p
  local ok, why = read_manifest(p)
  if not ok then
    refuse(p, why)
    if next(p.provides) then claim(p) end
    return
  end
  p.state = "found"
  claim(p)
end

function H.init(search, third_party)
  H.third_party = third_party
  H.search = search
  for _, src in ipairs(search) do
    local names = P.listdir(src.dir)
    for _, folder in ipairs(names or {}) do discover(src, folder) end
  end
  -- units resolve inside the core, where nothing can be loaded on demand
  for _, p in ipairs(H.list) do
    if p.state == "found" and #p.provides.units > 0 then pcall(H.ensure, p) end
  end
end

-- C plugins: the binding loads the library (lua_cplugin.c) when there is one.
function H.load_library(p, api)
  if not P.dlopen then return false, "this jinpu cannot load C plugins" end
  local ok, err = pcall(P.dlopen, p, api)
  if not ok then return false, err end
  return true
end

-- ---- loading ---------------------------------------------------------------------------

local EMBEDDED_OK = { ["jinpu.validate"] = true, ["jinpu.test"] = true }

-- A copy of `v` with every function replaced by wrap(fn) (rule packs hold
-- functions the validator calls: they must run as the plugin).
local function wrap_deep(v, wrap, seen)
  if type(v) == "function" then return wrap(v) end
  if type(v) ~= "table" or jp.is_dataset(v) then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local out = {}
  seen[v] = out
  for k, x in pairs(v) do out[k] = wrap_deep(x, wrap, seen) end
  return setmetatable(out, getmetatable(v))
end

local function declared(p, kind, name)
  for _, n in ipairs(p.provides[kind]) do
    if n == name then return true end
  end
  return false
end

-- Datasets a plugin function returns carry its name and version (unless
-- it hands back the dataset it was given).
local function stamp_results(p, self, ...)
  local n = select("#", ...)
  if n == 0 then return end
  if n == 1 then
    local r = ...
    if jp.is_dataset(r) and not rawequal(r, self) then return P.stamp(r, p.name, p.version) end
    return r
  end
  local t = table.pack(...)
  for i = 1, t.n do
    if jp.is_dataset(t[i]) and not rawequal(t[i], self) then t[i] = P.stamp(t[i], p.name, p.version) end
  end
  return table.unpack(t, 1, t.n)
end

local function check_fn(who, what, f)
  if type(f) ~= "function" then error(who .. ": " .. what .. " must be a function, not a " .. type(f), 3) end
end

-- The registration functions, for plugin p (nil: the script itself, which
-- declares nothing and runs as itself).  Registrations are collected in
-- `staged` and applied once the plugin has loaded completely.
local function registrar(p, staged)
  local R = {}
  staged.seen = {}
  local function need(kind, name, who)
    if type(name) ~= "string" or name == "" then error(who .. ": the name must be a non-empty string", 3) end
    if p and not declared(p, kind, name) then
      error(string.format("%s: %s '%s' is not declared in plugin.yaml (provides: %s)", who, KIND_ONE[kind], name,
        kind), 3)
    end
    staged.seen[kind] = staged.seen[kind] or {}
    staged.seen[kind][name] = true
    if not p and (is_builtin(kind, name) or H.index[kind][name]) then
      error(string.format("%s: %s '%s' is already taken", who, KIND_ONE[kind], name), 3)
    end
  end
  local function as_plugin(fn)
    if not p then return fn end
    return P.wrap(p.principal, fn)
  end
  function R.register_verb(name, fn)
    need("verbs", name, "register_verb")
    check_fn("register_verb", "the verb", fn)
    local f = as_plugin(fn)
    staged[#staged + 1] = function()
      rawset(methods, name, p and function(self, ...) return stamp_results(p, self, f(self, ...)) end or f)
    end
  end
  function R.register_format(spec)
    if type(spec) ~= "table" then error("register_format: expected a table { name =, extensions =, read =, write = }", 2) end
    local name = spec.name
    need("formats", name, "register_format")
    for _, k in ipairs({ "read", "write", "export" }) do
      if spec[k] ~= nil then check_fn("register_format", k, spec[k]) end
    end
    if not (spec.read or spec.write or spec.export) then
      error("register_format: format '" .. name .. "' has none of read, write, export", 2)
    end
    local exts = spec.extensions or (p and p.format_ext[name]) or { "." .. name }
    if type(exts) == "string" then exts = { exts } end
    local clean = {}
    for i, e in ipairs(exts) do
      if type(e) ~= "string" or not e:match("^%.[%w_.%-]+$") then
        error("register_format: extension " .. i .. " must look like .xlsx", 2)
      end
      e = e:lower()
      if p then
        local ok = false
        for _, d in ipairs(p.format_ext[name]) do ok = ok or d == e end
        if not ok then
          error("register_format: extension " .. e .. " of format '" .. name .. "' is not declared in plugin.yaml", 2)
        end
      elseif builtin.ext[e] or H.ext[e] then
        error("register_format: extension " .. e .. " is already taken", 2)
      end
      clean[i] = e
    end
    local f = { name = name, plugin = p, extensions = clean, description = spec.description,
                read = spec.read and as_plugin(spec.read), write = spec.write and as_plugin(spec.write),
                export = spec.export and as_plugin(spec.export) }
    staged[#staged + 1] = function()
      H.formats[name] = f
      if not p then
        for _, e in ipairs(clean) do H.ext[e] = name end
        H.nformats = H.nformats + 1
      end
    end
  end
  function R.register_rules(name, pack)
    need("rules", name, "register_rules")
    if type(pack) ~= "table" then error("register_rules: the pack must be a table { rules = ... }", 2) end
    local wrapped = p and wrap_deep(pack, as_plugin) or pack
    staged[#staged + 1] = function() require("jinpu.validate").register_pack(name, wrapped) end
  end
  function R.register_command(name, fn)
    need("commands", name, "register_command")
    check_fn("register_command", "the command", fn)
    local f = as_plugin(fn)
    staged[#staged + 1] = function() H.commands[name] = f end
  end
  function R.register_schema(name, fields)
    need("schemas", name, "register_schema")
    if type(fields) ~= "table" then error("register_schema: the schema must be a list of fields", 2) end
    local copy = wrap_deep(fields, function(x) return x end)
    if copy.name == nil then copy.name = name end
    staged[#staged + 1] = function() H.schemas[name] = copy end
  end
  function R.register_unit(spec)
    if type(spec) ~= "table" then error("register_unit: expected a table { name =, dimension =, scale = }", 2) end
    need("units", spec.name, "register_unit")
    local ok, err = pcall(jp._check_unit, spec)
    if not ok then error("register_unit: " .. jp.error_message(err), 2) end
    staged[#staged + 1] = function() jp._register_unit(spec) end
  end
  return R
end

-- The plugin's own `require`: "jinpu" (its registration view), its own
-- modules as "<name>.<module>", the standard library, jinpu.validate.
local function make_require(p, env, api)
  local cache = {}
  local libs = { string = env.string, table = env.table, math = env.math, utf8 = env.utf8,
                 coroutine = env.coroutine, io = env.io, os = env.os, debug = env.debug }
  return function(name)
    if type(name) ~= "string" then error("require: module name must be a string", 2) end
    if name == "jinpu" then return api end
    if libs[name] then return libs[name] end
    if EMBEDDED_OK[name] or name:match("^jinpu%.rules%.") then return require(name) end
    local mod = name:match("^" .. p.name .. "%.([%w_%.]+)$")
    if not mod then
      error(string.format("module '%s' not found (plugin '%s' requires its own modules as '%s.<module>')",
        name, p.name, p.name), 2)
    end
    if cache[mod] ~= nil then return cache[mod] end
    local rel = mod:gsub("%.", "/")
    local path = p.dir .. "/" .. rel .. ".lua"
    if P.kind(path) ~= "file" then path = p.dir .. "/" .. rel .. "/init.lua" end
    local chunk, err = P.loadfile(path, env, "@" .. path)
    if not chunk then
      if P.kind(path) ~= "file" then err = "module '" .. name .. "' not found in " .. p.dir end
      error(err, 2)
    end
    local r = chunk(name, path)
    if r == nil then r = true end
    cache[mod] = r
    return r
  end
end

-- Which declared names did the plugin register?  Registration functions
-- record them in staged.seen[kind][name].
local function missing_registrations(p, seen)
  for _, kind in ipairs(KINDS) do
    for _, name in ipairs(p.provides[kind]) do
      if not (seen[kind] and seen[kind][name]) then
        return string.format("plugin.yaml declares %s '%s' but the plugin did not register it", KIND_ONE[kind], name)
      end
    end
  end
end

local function load_plugin(p)
  p.principal = P.principal(p.name, p.permissions)
  local env = {}
  P.fill_env(env, p.principal)
  local staged = {}
  local api = setmetatable(registrar(p, staged), { __index = jp })
  env.jinpu, env.jp = api, api
  env.require = make_require(p, env, api)
  p.env = env
  if p.library then
    local ok, err = H.load_library(p, api)
    if not ok then return false, err end
  end
  if p.has_init then
    local chunk, err = P.loadfile(p.dir .. "/init.lua", env, "@" .. p.dir .. "/init.lua")
    if not chunk then return false, err end
    local ok, res = pcall(P.call, p.principal, chunk)
    if not ok then return false, res end
  end
  local missing = missing_registrations(p, staged.seen)
  if missing then return false, missing end
  return true, staged
end

-- Load p if it is not loaded; raise (at `level`) when it is refused.
function H.ensure(p, level)
  if p.state == "ok" or p.state == "loading" then return p end
  if p.state == "refused" then refused_error(p, (level or 1) + 1) end
  if p.state == "shadowed" then return H.ensure(p.shadowed_by, level) end
  p.state = "loading"
  local staged
  local ok, res = pcall(function()
    local okl, r = load_plugin(p)
    if not okl then error(r, 0) end
    return r
  end)
  if ok then
    staged = res
    for _, apply in ipairs(staged) do apply() end
    p.state = "ok"
    return p
  end
  refuse(p, res)
  refused_error(p, (level or 1) + 1)
end

-- ---- lookups ----------------------------------------------------------------------------

-- The plugin that provides `name` of `kind`, loaded (nil when none).
function H.provider(kind, name, level)
  local p = H.index[kind] and H.index[kind][name]
  if not p then return nil end
  return H.ensure(p, (level or 1) + 1)
end

-- A refused plugin whose manifest could not even be read claims nothing;
-- a name equal to its folder name is probably its.
local function unreadable_hint(name)
  local p = H.by_name[name]
  if p and p.state == "refused" and next(p.provides) == nil then return p end
end

function H.verb(name)
  if type(name) ~= "string" then return nil end
  local p = H.index.verbs[name] or unreadable_hint(name)
  if not p then return nil end
  H.ensure(p, 3)
  return rawget(methods, name)
end

setmetatable(methods, { __index = function(_, k) return H.verb(k) end })

-- For "attempt to call a nil value (method 'NAME')": a near method name
-- (of datasets, grouped datasets, columns, strings, or a plugin's verbs),
-- else that third-party plugins are off when they are.  nil: no hint.
function H.method_hint(name)
  local names, seen = {}, {}
  local function add(t)
    for k, v in pairs(t or {}) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and not seen[k] and type(v) == "function" then
        seen[k] = true
        names[#names + 1] = k
      end
    end
  end
  add(methods)
  add(jp._group_methods)
  add(jp._column_methods)
  add(string)
  for k in pairs(H.index.verbs) do if not seen[k] then seen[k] = true; names[#names + 1] = k end end
  table.sort(names)
  local near = jp.suggest(name, names)
  if near and near ~= name then return "did you mean '" .. near .. "'?" end
  if not H.third_party then
    return "third-party plugins are off (--no-plugins or JINPU_NO_PLUGINS), so no plugin provides it"
  end
  return nil
end

function H.command(name)
  local p = H.index.commands[name] or unreadable_hint(name)
  if not p then return H.commands[name] end
  H.ensure(p, 2)
  return H.commands[name]
end

function H.schema(name)
  local p = H.index.schemas[name]
  if p then H.ensure(p, 2) end
  local s = H.schemas[name]
  if not s then
    local names = {}
    for n in pairs(H.index.schemas) do names[#names + 1] = n end
    for n in pairs(H.schemas) do if not H.index.schemas[n] then names[#names + 1] = n end end
    table.sort(names)
    error(string.format("no schema named '%s'%s", name,
      #names > 0 and (" (named schemas: " .. table.concat(names, ", ") .. ")") or " (no plugin provides schemas)"), 0)
  end
  return s
end

-- The format for a path (by explicit name or by its ending), or nil when
-- the core's registry should handle it.
local function format_for(path, format)
  local name = format
  if not name then
    local lower, best, blen = path:lower(), nil, 0
    for e, n in pairs(H.ext) do
      if #e > blen and #e < #lower and lower:sub(-#e) == e then best, blen = n, #e end
    end
    if not best then return nil end
    for e in pairs(builtin.ext) do
      if #e > blen and #e < #lower and lower:sub(-#e) == e then return nil end
    end
    name = best
  end
  local p = H.index.formats[name]
  if p then H.ensure(p, 4) end
  return H.formats[name]
end

function H.resolve(path, format, op)
  local f = format_for(path, format)
  if not f then return nil end
  local p = f.plugin
  local label = "format '" .. f.name .. "'" .. (p and (" (plugin '" .. p.name .. "')") or "")
  if op == "read" then
    if not f.read then error(label .. " cannot read " .. path, 0) end
    return function(file, opts)
      opts = opts or {}
      -- cell_errors asks the core's text readers for the cells that were not
      -- of their type; a plugin's reader makes typed data or fails, so it has
      -- none to give and never sees the option
      local cells = opts.cell_errors
      if cells ~= nil then
        local o = {}
        for k, v in pairs(opts) do if k ~= "cell_errors" then o[k] = v end end
        opts = o
      end
      local ds = f.read(file, opts)
      if not jp.is_dataset(ds) then error(label .. ": read returned a " .. type(ds) .. ", not a dataset", 0) end
      if p then ds = P.stamp(ds, p.name, p.version) end
      if cells then return ds, {} end
      return ds
    end
  elseif op == "write" then
    if not f.write then error(label .. " cannot write " .. path, 0) end
    return function(ds, file, opts) f.write(ds, file, opts or {}); return ds end
  else
    if not (f.export or f.write) then error(label .. " cannot write " .. path, 0) end
    return function(list, file, opts)
      if f.export then
        f.export(list, file, opts or {})
      elseif #list == 1 then
        f.write(list[1], file, opts or {})
      else
        error(label .. " writes one dataset per file; " .. #list .. " were given", 0)
      end
      return file
    end
  end
end

-- ---- what scripts and the command line see ---------------------------------------------

local function public(p)
  local t = { name = p.name, version = p.version, description = p.description, dir = p.dir, source = p.source,
              state = p.state == "found" and "not loaded yet" or p.state, reason = p.reason,
              shadowed_by = p.shadowed_by and p.shadowed_by.dir, api = p.api, library = p.library,
              license = p.license, homepage = p.homepage, provides = {}, permissions = {}, tests = {} }
  for _, k in ipairs(KINDS) do
    t.provides[k] = {}
    for i, n in ipairs((p.provides or {})[k] or {}) do t.provides[k][i] = n end
  end
  t.extensions = {}
  for n, exts in pairs(p.format_ext or {}) do t.extensions[n] = { table.unpack(exts) } end
  for i, v in ipairs(p.permissions or {}) do t.permissions[i] = v end
  return t
end

-- jp.plugins() -> the plugins found, in discovery order (shadowed ones too)
function jp.plugins()
  local out = {}
  for i, p in ipairs(H.list) do out[i] = public(p) end
  return out
end

-- Internal helpers for `jinpu plugins` (the command module).
jp._plugins = {
  -- load a plugin now (compile-only with check = "syntax"): ok, reason
  load = function(name)
    local p = H.by_name[name]
    if not p then return nil, "no plugin named '" .. tostring(name) .. "'" end
    local ok, err = pcall(H.ensure, p)
    if ok then return true end
    return false, p.reason or jp.error_message(err)
  end,
  -- does init.lua compile?  (runs nothing)
  syntax = function(name)
    local p = H.by_name[name]
    if not p or p.state ~= "found" or not p.has_init then return true end
    local chunk, err = P.loadfile(p.dir .. "/init.lua", {}, "@" .. p.dir .. "/init.lua")
    if chunk then return true end
    return refuse(p, err) and false, p.reason
  end,
  search = function()
    local out = {}
    for i, s in ipairs(H.search or {}) do out[i] = { dir = s.dir, source = s.source } end
    return out, H.third_party
  end,
  exe = P.exe,
  include_dir = P.include_dir,
  mtime = P.mtime,
  kind = P.kind,
  listdir = P.listdir,
  provenance = P.plugins_of,
}

-- jp.register_* for scripts: the same checks but no manifest, and the
-- functions run as the script.
do
  local staged = {}
  local R = registrar(nil, staged)
  for k, f in pairs(R) do
    jp[k] = function(...)
      f(...)
      for _, s in ipairs(staged) do s() end
      for i = #staged, 1, -1 do staged[i] = nil end
    end
  end
end

-- jp.formats() lists plugin formats too (declared ones, loaded or not).
do
  local core_formats = jp.formats
  function jp.formats()
    local out = core_formats()
    local names = {}
    for n in pairs(H.index.formats) do names[#names + 1] = n end
    for n in pairs(H.formats) do if not H.index.formats[n] then names[#names + 1] = n end end
    table.sort(names)
    for _, n in ipairs(names) do
      local p, f = H.index.formats[n], H.formats[n]
      out[#out + 1] = { name = n, plugin = p and p.name, extensions = f and f.extensions or (p and p.format_ext[n]),
                        description = f and f.description, read = f and f.read ~= nil or nil,
                        write = f and (f.write ~= nil or f.export ~= nil) or nil }
    end
    return out
  end
end

-- jp._need(kind, name): load the plugin providing it; true when one does.
function jp._need(kind, name)
  return H.provider(kind, name, 2) ~= nil
end

return H
