-- plugins/chart/svg.lua - the small things an SVG chart needs: escaping,
-- text widths for Latin and CJK text, numbers as people print them (万/亿 or
-- k/M/B), tick steps, colours, and the fill patterns that mark qualified
-- figures.  No drawing decisions live here (draw.lua).
local M = {}

-- Fonts with CJK glyphs first where they exist, then generic ones: a label
-- in Chinese renders on Linux, macOS and Windows alike.
M.FONT = "'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','PingFang SC',"
  .. "'Hiragino Sans GB','Microsoft YaHei','Helvetica Neue',Arial,sans-serif"

-- Colour-blind-safe palette (Okabe-Ito), darkest first.
M.PALETTE = { "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000" }

function M.esc(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
    ["'"] = "&#39;" }))
end

-- Width of text at font size `size`: CJK and full-width characters are one
-- em, Latin letters and digits a little over half.
function M.text_width(s, size)
  local w = 0
  for _, c in utf8.codes(tostring(s)) do
    if c >= 0x2E80 then
      w = w + 1.0
    elseif c >= 0x41 and c <= 0x5A then
      w = w + 0.66
    elseif c == 0x20 or c == 0x2E or c == 0x2C or c == 0x3A then
      w = w + 0.3
    elseif c < 0x80 then
      w = w + 0.56
    else
      w = w + 0.62
    end
  end
  return w * size
end

-- Cut text to fit `width` pixels, with an ellipsis.
function M.fit(s, size, width)
  s = tostring(s)
  if M.text_width(s, size) <= width then return s end
  local out, w = {}, M.text_width("…", size)
  for _, c in utf8.codes(s) do
    local ch = utf8.char(c)
    local cw = M.text_width(ch, size)
    if w + cw > width then break end
    out[#out + 1] = ch
    w = w + cw
  end
  return table.concat(out) .. "…"
end

-- Up to `digits` significant digits, without trailing zeros.
local function short(v, digits)
  local s = string.format("%." .. digits .. "g", v)
  if s:find("e") then s = string.format("%.0f", v) end
  return s
end

-- 148000 -> "14.8万", 257630000000 -> "2576.3亿" (zh), or "148k", "257.6B" (si).
function M.number(v, mode)
  if v ~= v then return "–" end
  local a = math.abs(v)
  local sign = v < 0 and "-" or ""
  if mode == "zh" then
    if a >= 1e8 then return sign .. short(a / 1e8, 5) .. "亿" end
    if a >= 1e4 then return sign .. short(a / 1e4, 5) .. "万" end
  elseif mode ~= "plain" then
    if a >= 1e9 then return sign .. short(a / 1e9, 4) .. "B" end
    if a >= 1e6 then return sign .. short(a / 1e6, 4) .. "M" end
    if a >= 1e4 then return sign .. short(a / 1e3, 4) .. "k" end
  end
  if a == math.floor(a) then return sign .. string.format("%.0f", a) end
  return sign .. short(a, 4)
end

-- How a qualifier is written before a figure.
M.QUAL_TEXT = {
  zh = { exact = "", approx = "约", at_least = "≥", more_than = ">", at_most = "≤", less_than = "<" },
  other = { exact = "", approx = "~", at_least = "≥", more_than = ">", at_most = "≤", less_than = "<" },
}

-- What the marks mean, for the legend.
M.QUAL_KIND = { exact = "exact", approx = "approx", at_least = "lower", more_than = "lower", at_most = "upper",
                less_than = "upper" }

-- A step of 1, 2 or 5 x 10^k giving about `n` ticks up to `max`.
function M.nice_step(max, n)
  if max <= 0 then return 1 end
  local raw = max / (n or 5)
  local mag = 10 ^ math.floor(math.log(raw, 10))
  for _, m in ipairs({ 1, 2, 2.5, 5, 10 }) do
    if raw <= m * mag then return m * mag end
  end
  return 10 * mag
end

-- The <defs> of a chart: per colour, a hatch (approximate figures) and a
-- fade (bounds: the bar's open end).  ids start with `id` (unique per chart,
-- since several charts may share one HTML page).
function M.defs(id, ncolours)
  local out = { "<defs>" }
  for i = 1, ncolours do
    local c = M.PALETTE[(i - 1) % #M.PALETTE + 1]
    out[#out + 1] = string.format(
      '<pattern id="%s-h%d" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
      .. '<rect width="6" height="6" fill="%s" fill-opacity="0.18"/>'
      .. '<line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="2.4"/></pattern>', id, i, c, c)
    out[#out + 1] = string.format(
      '<linearGradient id="%s-v%d" x1="0" y1="1" x2="0" y2="0"><stop offset="0" stop-color="%s"/>'
      .. '<stop offset="0.7" stop-color="%s"/><stop offset="1" stop-color="%s" stop-opacity="0.12"/></linearGradient>',
      id, i, c, c, c)
    out[#out + 1] = string.format(
      '<linearGradient id="%s-r%d" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="%s"/>'
      .. '<stop offset="0.7" stop-color="%s"/><stop offset="1" stop-color="%s" stop-opacity="0.12"/></linearGradient>',
      id, i, c, c, c)
  end
  out[#out + 1] = "</defs>"
  return table.concat(out)
end

function M.colour(i)
  return M.PALETTE[(i - 1) % #M.PALETTE + 1]
end

return M
