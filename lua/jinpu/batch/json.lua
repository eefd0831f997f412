-- lua/jinpu/batch/json.lua - the JSON of batch records: summaries, timings,
-- job state and events.
--
-- Writing is by hand, field by field, so that the key order and the layout
-- never depend on a hash table's order: records of the same facts are the
-- same bytes.  Reading is a small strict decoder for those records (and any
-- JSON): objects become tables, arrays lists, null nil, integers integers.
local jp = require("jinpu")

local M = {}

local quote = jp._json_string

-- A JSON value for a Lua string, integer, float, boolean or nil.
function M.value(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return string.format("%.6g", v)
  end
  if t == "boolean" then return v and "true" or "false" end
  if v == nil then return "null" end
  error("json.value: cannot write a " .. t)
end

-- {"k1": v1, "k2": v2} from a list {k1, v1, k2, v2, ...} written in that
-- order; a pair whose value is nil is left out.  Values are JSON text
-- already (use M.value for plain values).
function M.object(pairs_list, sep)
  local out, n = {}, 0
  local i = 1
  while pairs_list[i] ~= nil do -- keys are never nil; values may be (holes)
    local v = pairs_list[i + 1]
    if v ~= nil then
      n = n + 1
      out[n] = quote(pairs_list[i]) .. ": " .. v
    end
    i = i + 2
  end
  return "{" .. table.concat(out, sep or ", ") .. "}"
end

-- [v1, v2] of JSON texts.
function M.array(list)
  return "[" .. table.concat(list, ", ") .. "]"
end

-- ---- reading --------------------------------------------------------------------

local decode_value

local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function fail(s, i, what)
  local line = select(2, s:sub(1, i):gsub("\n", "")) + 1
  error({ json_error = string.format("line %d: %s", line, what) }, 0)
end

local function skip(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local function decode_string(s, i)
  -- i is at the opening quote
  local j = i + 1
  local parts, n = {}, 0
  while true do
    local k = s:find('["\\%c]', j)
    if not k then fail(s, i, "unterminated string") end
    local c = s:sub(k, k)
    if k > j then
      n = n + 1
      parts[n] = s:sub(j, k - 1)
    end
    if c == '"' then return table.concat(parts), k + 1 end
    if c ~= "\\" then fail(s, k, "control character in a string") end
    local e = s:sub(k + 1, k + 1)
    if e == "u" then
      local hex = s:match("^%x%x%x%x", k + 2)
      if not hex then fail(s, k, "bad \\u escape") end
      local cp = tonumber(hex, 16)
      j = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF then
        local lo = s:match("^\\u(%x%x%x%x)", j)
        local l = lo and tonumber(lo, 16)
        if l and l >= 0xDC00 and l <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (l - 0xDC00)
          j = j + 6
        else
          cp = 0xFFFD
        end
      elseif cp >= 0xDC00 and cp <= 0xDFFF then
        cp = 0xFFFD
      end
      n = n + 1
      parts[n] = utf8.char(cp)
    else
      local r = escapes[e]
      if not r then fail(s, k, "bad escape \\" .. e) end
      n = n + 1
      parts[n] = r
      j = k + 2
    end
  end
end

function decode_value(s, i, depth)
  if depth > 64 then fail(s, i, "nested too deeply") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then fail(s, i, "expected a key") end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then fail(s, i, "expected ':'") end
      obj[k], i = decode_value(s, i + 1, depth + 1)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "}" then return obj, i + 1 end
      if c ~= "," then fail(s, i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local arr, n = {}, 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return arr, i + 1 end
    while true do
      n = n + 1
      arr[n], i = decode_value(s, i, depth + 1)
      i = skip(s, i)
      c = s:sub(i, i)
      if c == "]" then return arr, i + 1 end
      if c ~= "," then fail(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif s:find("^true", i) then
    return true, i + 4
  elseif s:find("^false", i) then
    return false, i + 5
  elseif s:find("^null", i) then
    return nil, i + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not num or num == "" or num == "-" then fail(s, i, "unexpected character") end
    local v = tonumber(num) -- "12" is an integer, "1.5" and "1e3" floats
    if v == nil then fail(s, i, "bad number '" .. num .. "'") end
    return v, i + #num
  end
end

-- Decode one JSON text: value | nil, "line N: what".
function M.decode(s)
  local ok, v, i = pcall(decode_value, s, 1, 0)
  if not ok then
    if type(v) == "table" and v.json_error then return nil, v.json_error end
    error(v, 0)
  end
  i = skip(s, i)
  if i <= #s then return nil, "line " .. (select(2, s:sub(1, i):gsub("\n", "")) + 1) .. ": text after the value" end
  return v
end

return M
