-- Plain Lua 5.4 peer: what an analyst writes without a data library.
-- A quote-aware CSV splitter (RFC 4180 fields; records do not span lines in
-- this data), tonumber(), and tables keyed by strings.
-- usage: lua5.4 plain.lua W1|W3 IN OUT
local work, src, dst = arg[1], arg[2], arg[3]
local byte, find, sub, gsub, format = string.byte, string.find, string.sub, string.gsub, string.format
local concat, tonumber = table.concat, tonumber
local QUOTE = byte('"')

-- Fields of one line into `out` (reused); returns the count.
local function split(line, out)
  local n, pos, len = 0, 1, #line
  repeat
    n = n + 1
    if byte(line, pos) == QUOTE then
      local parts, i = {}, pos + 1
      while true do
        local q = find(line, '"', i, true)
        if not q then error("unterminated quoted field: " .. line) end
        parts[#parts + 1] = sub(line, i, q - 1)
        if byte(line, q + 1) == QUOTE then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          pos = q + 2 -- past the quote and the comma
          break
        end
      end
      out[n] = concat(parts)
    else
      local comma = find(line, ",", pos, true)
      if comma then
        out[n] = sub(line, pos, comma - 1)
        pos = comma + 1
      else
        out[n] = sub(line, pos)
        pos = len + 2
      end
    end
  until pos > len + 1
  return n
end

local function quote(s)
  if find(s, '[",\r\n]') then return '"' .. gsub(s, '"', '""') .. '"' end
  return s
end

local input = assert(io.open(src, "rb"))
local header = input:read("l")
local names, col = {}, {}
for i = 1, split(header, names) do col[names[i]] = i end
local F = {}

if work == "W1" then
  local ci_year, ci_dist, ci_area, ci_out = col.year, col.district, col.area_mu, col.output_t
  local groups, order = {}, {}
  for line in input:lines() do
    split(line, F)
    local out_t = tonumber(F[ci_out])
    if out_t > 456.0 then
      local key = F[ci_dist] .. "\0" .. F[ci_year]
      local g = groups[key]
      if not g then
        g = { district = F[ci_dist], year = tonumber(F[ci_year]), n = 0, sum = 0.0, ysum = 0.0 }
        groups[key] = g
        order[#order + 1] = g
      end
      g.n = g.n + 1
      g.sum = g.sum + out_t
      g.ysum = g.ysum + out_t / tonumber(F[ci_area])
    end
  end
  table.sort(order, function(a, b)
    if a.district ~= b.district then return a.district < b.district end
    return a.year < b.year
  end)
  local out = assert(io.open(dst, "wb"))
  out:write("district,year,n,sum_output_t,mean_yield\n")
  for _, g in ipairs(order) do
    out:write(format("%s,%d,%d,%.17g,%.17g\n", quote(g.district), g.year, g.n, g.sum, g.ysum / g.n))
  end
  assert(out:close())
elseif work == "W3" then
  local ci, sum = col.output_t, 0.0
  for line in input:lines() do
    split(line, F)
    sum = sum + tonumber(F[ci])
  end
  local out = assert(io.open(dst, "wb"))
  out:write(format("%.6f\n", sum))
  assert(out:close())
else
  error("unknown workload " .. tostring(work))
end
