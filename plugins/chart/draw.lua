-- plugins/chart/draw.lua - lays out and draws a chart model as SVG text.
--
-- The model (built by init.lua from a dataset):
--   { kind = "bar" | "hbar" | "line", title, subtitle, note, width, mode,
--     series = { name, ... },                       -- colours in this order
--     panels = { { title, unit, cats = { label, ... },
--                  cells = { [cat] = { [series] = { v = number, q = qualifier } } } } } }
-- A panel has its own scale (small multiples: one panel per unit, say).
-- Qualified figures are drawn so that nobody reads a bound as a value: a
-- lower bound ("more than", "at least") is a bar whose far end fades out
-- under an arrow, an upper bound a pale dashed bar, an approximate figure a
-- hatched bar; on lines, triangles and hollow circles.  The legend says so,
-- for the marks the chart uses.
local S = require("chart.svg")

local M = {}

local FS = { title = 18, subtitle = 12.5, label = 12, tick = 11, value = 11, legend = 12, panel = 13 }
local GREY, LIGHT, INK = "#5b6570", "#e3e6ea", "#1f2933"

local function out_writer()
  local buf = {}
  local w = {}
  function w.add(fmt, ...) buf[#buf + 1] = select("#", ...) > 0 and string.format(fmt, ...) or fmt end
  function w.text(x, y, s, size, attrs)
    buf[#buf + 1] = string.format('<text x="%.1f" y="%.1f" font-size="%.1f"%s>%s</text>', x, y, size,
      attrs and (" " .. attrs) or "", S.esc(s))
  end
  function w.result() return table.concat(buf, "\n") end
  return w
end

-- The domain [lo, hi] of a panel, padded to tick steps, always with 0.
local function domain(panel, nseries)
  local lo, hi = 0, 0
  for _, cat in ipairs(panel.cats) do
    for s = 1, nseries do
      local c = panel.cells[cat][s]
      if c then lo, hi = math.min(lo, c.v), math.max(hi, c.v) end
    end
  end
  local step = S.nice_step(math.max(hi - lo, 1e-300), 5)
  if hi == lo then hi = lo + 1; step = S.nice_step(1, 5) end
  hi = math.ceil(hi / step - 1e-9) * step
  lo = math.floor(lo / step + 1e-9) * step
  return lo, hi, step
end

local function value_text(c, mode)
  local q = S.QUAL_TEXT[mode == "zh" and "zh" or "other"][c.q] or ""
  return q .. S.number(c.v, mode)
end

-- One bar (vertical when `vertical`), its fill and its mark by qualifier.
local function bar(w, id, si, c, x, y, bw, bh, vertical, negative)
  local col = S.colour(si)
  local kind = S.QUAL_KIND[c.q] or "exact"
  if kind == "approx" then
    w.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#%s-h%d)" stroke="%s" stroke-width="1"/>',
      x, y, bw, bh, id, si, col)
  elseif kind == "lower" then
    w.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#%s-%s%d)"/>', x, y, bw, bh, id,
      vertical and "v" or "r", si)
    -- the open end: an arrow past the bar's end, pointing on
    if vertical then
      local cx, ty = x + bw / 2, negative and (y + bh + 3) or (y - 3)
      local d = negative and 1 or -1
      w.add('<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1f" fill="none" stroke="%s" stroke-width="1.8"/>',
        cx - 5, ty, cx, ty + 6 * d, cx + 5, ty, col)
    else
      local cy, tx = y + bh / 2, x + bw + 3
      w.add('<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1f" fill="none" stroke="%s" stroke-width="1.8"/>',
        tx, cy - 5, tx + 6, cy, tx, cy + 5, col)
    end
  elseif kind == "upper" then
    w.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.35" stroke="%s" '
      .. 'stroke-width="1.2" stroke-dasharray="4 3"/>', x, y, bw, bh, col, col)
  else
    w.add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>', x, y, bw, bh, col)
  end
end

-- A point of a line chart: filled circle, hollow circle, triangle up/down.
local function point(w, si, c, x, y)
  local col = S.colour(si)
  local kind = S.QUAL_KIND[c.q] or "exact"
  if kind == "approx" then
    w.add('<circle cx="%.1f" cy="%.1f" r="4.5" fill="#fff" stroke="%s" stroke-width="2"/>', x, y, col)
  elseif kind == "lower" then
    w.add('<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="%s"/>', x - 5.5, y + 4, x, y - 6, x + 5.5, y + 4, col)
  elseif kind == "upper" then
    w.add('<path d="M%.1f %.1fL%.1f %.1fL%.1f %.1fZ" fill="#fff" stroke="%s" stroke-width="1.6"/>', x - 5.5,
      y - 4, x, y + 6, x + 5.5, y - 4, col)
  else
    w.add('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>', x, y, col)
  end
end

local function panel_title(w, p, x, y)
  local t = p.title or ""
  if p.unit and p.unit ~= "" and p.unit ~= p.title then t = t .. (t ~= "" and "  " or "") .. "(" .. p.unit .. ")" end
  if t ~= "" then w.text(x, y, t, FS.panel, 'font-weight="600" fill="' .. INK .. '"') end
  return t ~= "" and 20 or 0
end

-- ---- horizontal bars -----------------------------------------------------------------

local function hbar_height(p, nseries)
  return 20 + #p.cats * (nseries * 18 + 10) + 30
end

local function hbar_panel(w, m, p, x0, y0, pw)
  local ns = #m.series
  local top = y0 + panel_title(w, p, x0, y0 + 14)
  local lw = 0
  for _, cat in ipairs(p.cats) do lw = math.max(lw, S.text_width(cat, FS.label)) end
  lw = math.min(lw + 14, pw * 0.42)
  local vx0, vx1 = x0 + lw, x0 + pw - 78 -- room for value labels
  local lo, hi, step = domain(p, ns)
  local function X(v) return vx0 + (v - lo) / (hi - lo) * (vx1 - vx0) end
  local rows_h = #p.cats * (ns * 18 + 10)
  local ybot = top + rows_h
  for t = lo, hi + step / 2, step do
    local x = X(t)
    w.add('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%s"/>', x, top, x, ybot,
      math.abs(t) < step / 2 and "#9aa5b1" or LIGHT, math.abs(t) < step / 2 and "1.2" or "1")
    w.text(x, ybot + 15, S.number(t, m.mode), FS.tick, 'text-anchor="middle" fill="' .. GREY .. '"')
  end
  local y = top + 5
  for _, cat in ipairs(p.cats) do
    local gh = ns * 18
    w.text(vx0 - 8, y + gh / 2 + 4, S.fit(cat, FS.label, lw - 10), FS.label, 'text-anchor="end" fill="' .. INK .. '"')
    for s = 1, ns do
      local c = p.cells[cat][s]
      if c then
        local xa, xb = X(math.min(0, c.v)), X(math.max(0, c.v))
        bar(w, m.id, s, c, xa, y + (s - 1) * 18, math.max(xb - xa, 1), 15, false, c.v < 0)
        local lx = (c.v < 0 and xa - 4 or xb + ((S.QUAL_KIND[c.q] == "lower") and 14 or 5))
        w.text(lx, y + (s - 1) * 18 + 11.5, value_text(c, m.mode), FS.value,
          (c.v < 0 and 'text-anchor="end" ' or "") .. 'fill="' .. INK .. '"')
      end
    end
    y = y + gh + 10
  end
end

-- ---- vertical bars and lines -------------------------------------------------------------

local PLOT_H = 220

-- Category labels under the axis: straight when they fit, else slanted;
-- returns the height they need.
local function x_labels(p, band)
  local widest = 0
  for _, cat in ipairs(p.cats) do widest = math.max(widest, S.text_width(cat, FS.label)) end
  if widest <= band - 4 then return 22, false end
  return math.min(widest, 150) * 0.64 + 18, true
end

local function vert_height(p, pw)
  local band = (pw - 60) / math.max(#p.cats, 1)
  local lh = x_labels(p, band)
  return 20 + PLOT_H + lh + 12
end

local function vert_panel(w, m, p, x0, y0, pw)
  local ns = #m.series
  local top = y0 + panel_title(w, p, x0, y0 + 14) + 8
  local lo, hi, step = domain(p, ns)
  local ax = x0 + 52
  local band = (x0 + pw - ax) / math.max(#p.cats, 1)
  local function Y(v) return top + PLOT_H - (v - lo) / (hi - lo) * PLOT_H end
  for t = lo, hi + step / 2, step do
    local yy = Y(t)
    w.add('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>', ax, yy, x0 + pw, yy,
      math.abs(t) < step / 2 and "#9aa5b1" or LIGHT)
    w.text(ax - 6, yy + 4, S.number(t, m.mode), FS.tick, 'text-anchor="end" fill="' .. GREY .. '"')
  end
  local _, slanted = x_labels(p, band)
  for i, cat in ipairs(p.cats) do
    local cx = ax + (i - 0.5) * band
    local ly = top + PLOT_H + 16
    if slanted then
      w.add('<text x="%.1f" y="%.1f" font-size="%.1f" text-anchor="end" fill="%s" transform="rotate(-40 %.1f %.1f)">%s</text>',
        cx + 4, ly, FS.label, INK, cx + 4, ly, S.esc(S.fit(cat, FS.label, 150)))
    else
      w.text(cx, ly, cat, FS.label, 'text-anchor="middle" fill="' .. INK .. '"')
    end
  end
  if m.kind == "line" then
    for s = 1, ns do
      local pts = {}
      for i, cat in ipairs(p.cats) do
        local c = p.cells[cat][s]
        if c then pts[#pts + 1] = string.format("%.1f,%.1f", ax + (i - 0.5) * band, Y(c.v))
        elseif #pts > 0 then
          w.add('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>', table.concat(pts, " "), S.colour(s))
          pts = {}
        end
      end
      if #pts > 1 then
        w.add('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>', table.concat(pts, " "), S.colour(s))
      end
      for i, cat in ipairs(p.cats) do
        local c = p.cells[cat][s]
        if c then
          local x, yy = ax + (i - 0.5) * band, Y(c.v)
          point(w, s, c, x, yy)
          if #p.cats * ns <= 16 then
            w.text(x, yy - 10, value_text(c, m.mode), FS.value, 'text-anchor="middle" fill="' .. INK .. '"')
          end
        end
      end
    end
  else
    local gw = math.min(band * 0.72, 28 * ns + 8)
    local bw = gw / ns
    for i, cat in ipairs(p.cats) do
      local gx = ax + (i - 0.5) * band - gw / 2
      for s = 1, ns do
        local c = p.cells[cat][s]
        if c then
          local ya, yb = Y(math.max(0, c.v)), Y(math.min(0, c.v))
          local bx = gx + (s - 1) * bw
          bar(w, m.id, s, c, bx + 1, ya, bw - 2, math.max(yb - ya, 1), true, c.v < 0)
          local ty = c.v < 0 and yb + 13 or ya - ((S.QUAL_KIND[c.q] == "lower") and 13 or 4)
          if #p.cats * ns <= 14 then
            w.text(bx + bw / 2, ty, value_text(c, m.mode), FS.value, 'text-anchor="middle" fill="' .. INK .. '"')
          end
        end
      end
    end
  end
end

-- ---- the legend -----------------------------------------------------------------------------

local QUAL_LEGEND = {
  lower = "more than / at least: the bar is a lower bound (open end)",
  upper = "at most / less than: an upper bound (pale, dashed)",
  approx = "about: an approximate figure (hatched)",
}
local QUAL_LEGEND_LINE = {
  lower = "more than / at least (a lower bound)",
  upper = "at most / less than (an upper bound)",
  approx = "about (approximate)",
}

-- Legend items: series (when more than one) and the qualifier marks used.
local function legend_items(m)
  local items = {}
  if #m.series > 1 then
    for i, s in ipairs(m.series) do items[#items + 1] = { kind = "series", i = i, text = s } end
  end
  local used = {}
  for _, p in ipairs(m.panels) do
    for _, cat in ipairs(p.cats) do
      for s = 1, #m.series do
        local c = p.cells[cat][s]
        if c then used[S.QUAL_KIND[c.q] or "exact"] = true end
      end
    end
  end
  for _, k in ipairs({ "lower", "upper", "approx" }) do
    if used[k] then
      items[#items + 1] = { kind = k, text = m.kind == "line" and QUAL_LEGEND_LINE[k] or QUAL_LEGEND[k] }
    end
  end
  return items
end

local function legend(w, m, items, x0, y0, width)
  local x, y = x0, y0
  for _, it in ipairs(items) do
    local tw = S.text_width(it.text, FS.legend) + 28
    if x + tw > x0 + width and x > x0 then x, y = x0, y + 20 end
    if it.kind == "series" then
      w.add('<rect x="%.1f" y="%.1f" width="14" height="12" fill="%s"/>', x, y - 10, S.colour(it.i))
    elseif m.kind == "line" then
      point(w, 1, { q = it.kind == "lower" and "more_than" or it.kind == "upper" and "at_most" or "approx" }, x + 7, y - 4)
    else
      bar(w, m.id, 1, { q = it.kind == "lower" and "more_than" or it.kind == "upper" and "at_most" or "approx" },
        x, y - 11, 14, 13, false, false)
    end
    local tx = x + ((it.kind == "lower" and m.kind ~= "line") and 32 or 22)
    w.text(tx, y, it.text, FS.legend, 'fill="' .. INK .. '"')
    x = tx + tw - 8
  end
  return y - y0 + 20
end

-- ---- the chart ------------------------------------------------------------------------------

function M.svg(m)
  local W = m.width
  local cols = m.columns or (#m.panels > 1 and 2 or 1)
  cols = math.max(1, math.min(cols, #m.panels))
  local gap = 28
  local pw = (W - 2 * 20 - (cols - 1) * gap) / cols
  local body = out_writer()
  -- header
  local y = 30
  body.text(20, y, m.title or "", FS.title, 'font-weight="700" fill="' .. INK .. '"')
  if m.subtitle then
    y = y + 20
    body.text(20, y, m.subtitle, FS.subtitle, 'fill="' .. GREY .. '"')
  end
  y = y + 26
  local items = legend_items(m)
  if #items > 0 then y = y + legend(body, m, items, 20, y, W - 40) + 6 end
  -- panels, row by row
  for r = 0, math.ceil(#m.panels / cols) - 1 do
    local rowh = 0
    for c = 1, cols do
      local p = m.panels[r * cols + c]
      if p then
        local h = m.kind == "hbar" and hbar_height(p, #m.series) or vert_height(p, pw)
        rowh = math.max(rowh, h)
      end
    end
    for c = 1, cols do
      local p = m.panels[r * cols + c]
      if p then
        local x0 = 20 + (c - 1) * (pw + gap)
        if m.kind == "hbar" then hbar_panel(body, m, p, x0, y, pw) else vert_panel(body, m, p, x0, y, pw) end
      end
    end
    y = y + rowh + 12
  end
  if m.note then
    body.text(20, y + 4, m.note, FS.tick, 'fill="' .. GREY .. '"')
    y = y + 16
  end
  local H = math.ceil(y + 8)
  local head = string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
    .. 'font-family="%s" role="img" aria-label="%s">', W, H, W, H, S.FONT, S.esc(m.title or "chart"))
  return table.concat({ head, "<title>" .. S.esc(m.title or "chart") .. "</title>", S.defs(m.id, math.max(#m.series, 1)),
    string.format('<rect width="%d" height="%d" fill="#ffffff"/>', W, H), body.result(), "</svg>" }, "\n") .. "\n"
end

return M
