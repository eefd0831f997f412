-- lua/jinpu/base.lua - the Lua half of the jinpu module.
--
-- Runs once when `jinpu` is opened, with the module table (built in C) as
-- its argument, and adds what reads better in Lua than in C: small helpers
-- over rows and messages.  Bulk work stays in C.
local jp = ...

local M = jp._dataset_methods

-- An error message without the position inside jinpu's own embedded code
-- ("lua/jinpu/cli/info.lua:12: "), which means nothing to the user.
function jp.error_message(e)
  local s = tostring(e)
  s = s:gsub("^lua/jinpu/[%w_/%.]+:%d+: ", "")
  return s
end

-- Does row r match every key = value of `match`?
local function matches(r, match)
  for k, v in pairs(match) do
    if r[k] ~= v then return false end
  end
  return true
end

-- A key of `match` that is not a field is a misspelling, not a row that
-- never matches: say so, with the closest field.
local function check_match(ds, what, match)
  if type(match) ~= "table" then error(what .. ": expected a table of field = value", 3) end
  local names = ds:names()
  local have = {}
  for _, n in ipairs(names) do have[n] = true end
  for k in pairs(match) do
    if not have[k] then
      local near = type(k) == "string" and jp.suggest(k, names)
      local n = ds:name()
      error(string.format("%s: no field '%s' in %s%s", what, tostring(k),
        (n and n ~= "") and ("dataset '" .. n .. "'") or "the dataset",
        near and (" (did you mean '" .. near .. "'?)") or ""), 3)
    end
  end
end

-- ds:find{ indicator = "gdp" } -> the first row (a table) matching all the
-- given fields, and its 1-based index; nil when none does.
function M.find(ds, match)
  check_match(ds, "find", match)
  for r, i in ds:rows() do
    if matches(r, match) then return r, i end
  end
  return nil
end

-- ds:find_all{...} -> a list of row tables matching all the given fields.
function M.find_all(ds, match)
  check_match(ds, "find_all", match)
  local out = {}
  for r in ds:rows() do
    if matches(r, match) then out[#out + 1] = r end
  end
  return out
end

-- ds:totable() -> a list of row tables (for small datasets).
function M.totable(ds)
  local out = {}
  for r in ds:rows() do out[#out + 1] = r end
  return out
end

return jp
