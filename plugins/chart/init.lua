-- plugins/chart/init.lua - ds:chart{ kind =, x =, y =, group =, facet =, title =, path = ... }
--
-- Turns the rows of a dataset into a chart model and draws it as SVG
-- (draw.lua): categories from `x`, values from the number field `y` with
-- their qualifiers, one series per value of `group`, one panel (with its
-- own scale) per value of `facet`.  Returns the SVG text; with `path`,
-- also writes it there (atomically: a temporary file renamed over it).
local jp = require("jinpu")
local draw = require("chart.draw")

local KNOWN = { kind = true, x = true, y = true, group = true, facet = true, title = true, subtitle = true,
                note = true, path = true, width = true, columns = true, magnitudes = true, unit = true,
                id = true, sort = true }
local KINDS = { bar = true, hbar = true, line = true }

local counter = 0

local function fail(msg) error("chart: " .. msg, 0) end

local function field_of(ds, opts, key, required)
  local name = opts[key]
  if name == nil then
    if required then fail("option '" .. key .. "' (a field name) is needed") end
    return nil
  end
  if type(name) ~= "string" then fail("option '" .. key .. "' must be a field name") end
  for _, n in ipairs(ds:names()) do
    if n == name then return name end
  end
  fail("no field '" .. name .. "' (fields: " .. table.concat(ds:names(), ", ") .. ")")
end

local function text_of(v)
  if v == nil then return "" end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.0f", v) end
  return tostring(v)
end

-- A short id for the chart's patterns, stable for the same chart.
local function chart_id(opts, title)
  if opts.id then return tostring(opts.id):gsub("[^%w_-]", "") end
  counter = counter + 1
  local h = 5381
  for i = 1, #title do h = (h * 33 + title:byte(i)) % 4294967296 end
  return string.format("jc%x%d", h, counter)
end

local function model(ds, opts)
  for k in pairs(opts) do
    if not KNOWN[k] then
      local names = {}
      for n in pairs(KNOWN) do names[#names + 1] = n end
      table.sort(names)
      fail("unknown option '" .. tostring(k) .. "' (options: " .. table.concat(names, ", ") .. ")")
    end
  end
  local kind = opts.kind or "bar"
  if not KINDS[kind] then fail("kind must be \"bar\", \"hbar\" or \"line\", not " .. tostring(kind)) end
  local x = field_of(ds, opts, "x", true)
  local y = field_of(ds, opts, "y", true)
  local group = field_of(ds, opts, "group", false)
  local facet = field_of(ds, opts, "facet", false)
  local ytype
  for _, f in ipairs(ds:schema().fields) do
    if f.name == y then ytype = f.type end
  end
  if ytype ~= "number" and ytype ~= "integer" then fail("field '" .. y .. "' is " .. tostring(ytype) .. ", not a number") end
  local mode = opts.magnitudes or "si"
  if mode ~= "zh" and mode ~= "si" and mode ~= "plain" then fail("magnitudes must be \"zh\", \"si\" or \"plain\"") end
  local width = opts.width or 760
  if type(width) ~= "number" or width < 200 or width > 4000 then fail("width must be a number from 200 to 4000") end
  local s = ds:schema()
  local title = opts.title or s.title or s.name or "chart"
  local yunit = opts.unit or ds:column(y):unit()
  local unit_field
  for _, f in ipairs(s.fields) do
    if f.name == y then unit_field = f.unit_field end
  end

  local m = { kind = kind, title = tostring(title), subtitle = opts.subtitle and tostring(opts.subtitle),
              note = opts.note and tostring(opts.note), width = width, mode = mode, columns = opts.columns,
              series = {}, panels = {} }
  m.id = chart_id(opts, m.title)
  local series_index, panel_index = {}, {}
  for r, i in ds:rows() do
    local v = r[y]
    if v ~= nil then
      local sname = group and text_of(r[group]) or (y)
      local si = series_index[sname]
      if not si then
        m.series[#m.series + 1] = sname
        si = #m.series
        series_index[sname] = si
      end
      local pname = facet and text_of(r[facet]) or ""
      local p = panel_index[pname]
      if not p then
        local unit = yunit
        if facet and unit_field == facet then unit = pname end
        p = { title = facet and pname or nil, unit = unit, cats = {}, cells = {} }
        if facet and unit_field == facet then p.title = nil end
        m.panels[#m.panels + 1] = p
        panel_index[pname] = p
      end
      local cat = text_of(r[x])
      if not p.cells[cat] then
        p.cats[#p.cats + 1] = cat
        p.cells[cat] = {}
      end
      if p.cells[cat][si] then
        fail(string.format("two rows for %s = '%s'%s (row %d); give a group or facet, or filter first", x, cat,
          group and (" in " .. group .. " '" .. sname .. "'") or "", i))
      end
      p.cells[cat][si] = { v = v, q = jp.qualifier(r, y) }
    end
  end
  if #m.panels == 0 then fail("no row has a value in '" .. y .. "'") end
  if opts.sort == "desc" or opts.sort == "asc" then
    for _, p in ipairs(m.panels) do
      local function val(c) local t = p.cells[c][1]; return t and t.v or -math.huge end
      table.sort(p.cats, function(a, b)
        if opts.sort == "desc" then return val(a) > val(b) end
        return val(a) < val(b)
      end)
    end
  elseif opts.sort ~= nil then
    fail("sort must be \"asc\" or \"desc\"")
  end
  return m
end

local function write_atomic(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("chart: cannot write " .. path .. ": " .. tostring(err), 0) end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    error("chart: cannot write " .. path .. ": " .. tostring(werr or cerr), 0)
  end
  local moved, merr = os.rename(tmp, path)
  if not moved then
    os.remove(tmp)
    error("chart: cannot write " .. path .. ": " .. tostring(merr), 0)
  end
end

jp.register_verb("chart", function(ds, opts)
  if type(opts) ~= "table" then fail("expected a table of options: ds:chart{ x = ..., y = ... }") end
  local svg = draw.svg(model(ds, opts))
  if opts.path ~= nil then
    if type(opts.path) ~= "string" then fail("path must be a file name") end
    write_atomic(opts.path, svg)
  end
  return svg
end)
