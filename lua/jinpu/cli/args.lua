-- lua/jinpu/cli/args.lua - the command line of the jinpu subcommands.
--
-- One parser for every command so that they all accept the same forms
-- (-o X, --output X, --output=X, "--" ending the options) and fail the same
-- way: "jinpu CMD: message", the usage text, exit status 2.
--
--   local opts, files = args.parse("export", argv, usage, {
--     { "-o", "--output", key = "out", value = "file" },
--     { "-l", "--level", key = "level", int = { 1, 9 } },
--     { "-q", "--quiet", key = "quiet" },                       -- a flag
--     { "--format", key = "format", choices = { "text", "json" } },
--     { "--rules", key = "rules", value = "file", many = true },
--     { "--max-size", key = "max_size", check = size, what = "a size such as 500M" },
--   })
--   if not opts then return files end   -- files is then the exit status
local M = {}

local function fail(cmd, usage, msg)
  io.stderr:write("jinpu " .. cmd .. ": " .. msg .. "\n" .. usage .. "\n")
  return nil, 2
end

-- Turn the text of an option's value into its value, or nil and why.
local function convert(o, name, v)
  if o.int then
    local n = math.tointeger(tonumber(v))
    local lo, hi = o.int[1], o.int[2]
    if not n or n < lo or (hi and n > hi) then
      return nil, name .. " needs a whole number " .. (hi and ("from " .. lo .. " to " .. hi) or (lo .. " or more"))
    end
    return n
  end
  if o.choices then
    for _, c in ipairs(o.choices) do
      if v == c then return v end
    end
    return nil, name .. " must be " .. table.concat(o.choices, " or ")
  end
  if o.check then
    local x = o.check(v)
    if x == nil then return nil, name .. " needs " .. (o.what or "a valid value") end
    return x
  end
  return v
end

function M.parse(cmd, argv, usage, spec)
  local by_name = {}
  for _, o in ipairs(spec) do
    for _, n in ipairs(o) do by_name[n] = o end
  end
  local opts, files = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      print(usage)
      return nil, 0
    elseif a == "--" then
      for k = i + 1, #argv do files[#files + 1] = argv[k] end
      break
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local o = by_name[name]
      if not o then
        local names = {}
        for n in pairs(by_name) do names[#names + 1] = n end
        table.sort(names)
        local near = require("jinpu").suggest(name, names)
        return fail(cmd, usage, "unknown option '" .. name .. "'" .. (near and (" (did you mean '" .. near .. "'?)") or ""))
      end
      local takes = o.value or o.int or o.choices or o.check
      local v = true
      if takes then
        v = inline
        if v == nil then
          v = argv[i + 1]
          if v == nil then
            return fail(cmd, usage, name .. " needs " .. (type(o.value) == "string" and ("a " .. o.value) or "a value"))
          end
          i = i + 1
        end
        local why
        v, why = convert(o, name, v)
        if v == nil then return fail(cmd, usage, why) end
      elseif inline ~= nil then
        return fail(cmd, usage, name .. " takes no value")
      end
      if o.many then
        opts[o.key] = opts[o.key] or {}
        table.insert(opts[o.key], v)
      else
        opts[o.key] = v
      end
    else
      files[#files + 1] = a
    end
    i = i + 1
  end
  return opts, files
end

-- "FILE#MEMBER" names one dataset of a file holding several (an archive,
-- a database): FILE, MEMBER when FILE exists and the whole name is not a
-- file itself; else the name and nil.
function M.member(name)
  local file, member = name:match("^(.-)#([^#/]+)$")
  if not file or file == "" then return name, nil end
  local whole = io.open(name, "rb")
  if whole then
    whole:close()
    return name, nil
  end
  local f = io.open(file, "rb")
  if not f then return name, nil end
  f:close()
  return file, member
end

-- A reader's "choose one with { member = "x" }" gains the command line's
-- spelling, FILE#x.
function M.member_hint(msg, file)
  local m = msg:match('choose one with { member = "([^"]*)" }')
  if not m then return msg end
  return msg .. " (on the command line: " .. file .. "#" .. m .. ")"
end

-- A usage error found after parsing (exit status 2).
function M.usage_error(cmd, usage, msg)
  return select(2, fail(cmd, usage, msg))
end

-- The usage error for a command given no operand.
function M.missing(cmd, usage, what)
  return select(2, fail(cmd, usage, "no " .. what .. " given"))
end

return M
