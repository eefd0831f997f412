-- lua/jinpu/report.lua - the bundled report over datasets/.
--
--   jinpu run lua/jinpu/report.lua [DATASETS_DIR] [OUT_DIR]
--   (also: require("jinpu.report").run{ dir = ..., out = ... })
--
-- Loads the four datasets drawn from the article, derives the indicators an
-- analyst would want (cherry value per tonne and per mu, subsidy totals by
-- degree, patents per high-tech firm, ...), keeping track of what the
-- qualifiers allow one to say about each derived figure, and prints a
-- readable report; then exports the archive and writes OUT/report.html, a
-- self-contained page with a chart per dataset (the shipped chart plugin)
-- and the validation summary, and OUT/report.xlsx, a sheet per dataset (the
-- shipped xlsx plugin).
local jp = require("jinpu")

local M = {}

-- ---- figures with qualifiers -------------------------------------------------
-- A figure is { v = number, q = qualifier, unit = text }.  Arithmetic on
-- figures keeps what can still be said: a lower bound divided by an exact
-- figure is a lower bound; a lower bound divided by a lower bound is not a
-- bound at all (only an estimate).

local LOW = { at_least = true, more_than = true }
local HIGH = { at_most = true, less_than = true }
local FLIP = { at_least = "at_most", more_than = "less_than", at_most = "at_least",
               less_than = "more_than", approx = "approx", exact = "exact" }

local function fig(v, q, unit) return { v = v, q = q or "exact", unit = unit } end

-- q of a * b or a / b (b's direction is flipped when dividing)
local function combine(qa, qb)
  if qa == "exact" then return qb end
  if qb == "exact" then return qa end
  if (LOW[qa] and LOW[qb]) then return (qa == "more_than" or qb == "more_than") and "more_than" or "at_least" end
  if (HIGH[qa] and HIGH[qb]) then return (qa == "less_than" or qb == "less_than") and "less_than" or "at_most" end
  return "approx"
end

local function div(a, b, unit) return fig(a.v / b.v, combine(a.q, FLIP[b.q]), unit) end
local function mul(a, b, unit) return fig(a.v * b.v, combine(a.q, b.q), unit) end
local function scale(a, k, unit) return fig(a.v * k, a.q, unit or a.unit) end

local SYM = { exact = "", approx = "about ", at_least = "at least ", more_than = "more than ",
              at_most = "at most ", less_than = "less than " }

-- 2576.3 -> "2,576.3", 257630000000 -> "257,630,000,000", 0.946 -> "0.946"
local function group(int)
  return (int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

local function num(v)
  if v ~= v then return "n/a" end
  local a = math.abs(v)
  local s
  if v == math.floor(v) and a < 1e15 then
    s = string.format("%.0f", a)
  elseif a >= 1e5 then
    s = string.format("%.0f", a)
  elseif a >= 1000 then
    s = string.format("%.1f", a)
  elseif a >= 10 then
    s = string.format("%.1f", a)
  elseif a >= 1 then
    s = string.format("%.2f", a)
  else
    s = string.format("%.3g", a)
  end
  local int, frac = s:match("^(%d+)(.*)$")
  if int then s = group(int) .. frac end
  return (v < 0 and "-" or "") .. s
end

local function show(f)
  return SYM[f.q] .. num(f.v) .. ((f.unit and f.unit ~= "1") and (" " .. f.unit) or "")
end

-- ---- reading the observation tables -------------------------------------------

local function get(ds, indicator, subject)
  for r in ds:rows() do
    if r.indicator == indicator and (subject == nil or r.subject == subject) then
      return fig(r.value, jp.qualifier(r, "value"), r.unit)
    end
  end
  error(string.format("report: %s has no figure '%s'%s", ds:name() or "dataset", indicator,
    subject and (" for " .. subject) or ""), 2)
end

local function out(s) io.write(s, "\n") end

local function heading(s)
  out("")
  out(s)
  out(string.rep("=", #s:gsub("[\128-\191]", "")))
end

-- Derived figures are printed and also kept, so the report can export them.
local derived = {}

local function line(label, f, note)
  out(string.format("  %-50s %s%s", label, type(f) == "table" and show(f) or tostring(f),
    note and ("   (" .. note .. ")") or ""))
end

-- ---- sections --------------------------------------------------------------------

-- Print a derived figure and record it as a row of the `derived` dataset.
local function dline(id, label, f, note)
  line(label, f, note)
  derived[#derived + 1] = { id = id, label = label:gsub("^%s+", ""), f = f, note = note }
end

local function cherry_section(ds)
  heading("Sweet cherry industry")
  local area = get(ds, "planted_area")
  local output = get(ds, "annual_output")
  local value = get(ds, "output_value")
  local jobs = get(ds, "jobs_created")
  local income = get(ds, "rural_income_per_capita")
  line("planted area", area)
  line("", scale(area, jp.convert(1, "mu", "ha"), "ha"))
  line("annual output", output)
  line("output value", value)
  line("jobs", jobs)
  line("rural disposable income per person", income)
  out("  derived:")
  local per_t = div(value, output, "CNY/t")
  dline("cherry_value_per_t", "output value per tonne", per_t, "both figures are lower bounds: an estimate")
  line("  = per kilogram", scale(per_t, 1 / 1000, "CNY/kg"))
  dline("cherry_value_per_mu", "output value per mu", div(value, area, "CNY/mu"), "value is a lower bound")
  dline("cherry_yield_per_mu", "yield per mu", div(output, area, "t/mu"), "output is a lower bound")
  line("  = per hectare", scale(div(output, area), 15, "t/ha"))
  dline("cherry_value_per_job", "output value per job", div(value, jobs, "CNY/person"))
  return { value_per_t = per_t }
end

local function workforce_section(ds)
  heading("Workforce programmes")
  local years = get(ds, "subsidy_payout_years")
  local grads = get(ds, "graduates_benefited")
  local firms = get(ds, "firms_benefited")
  local paid = get(ds, "subsidy_funds_paid")
  out("  名校优才 living subsidy, paid over " .. num(years.v) .. " years:")
  local rows, per_year = {}, {}
  for _, degree in ipairs({ "doctor", "master", "bachelor" }) do
    local s = get(ds, "subsidy_per_graduate", degree)
    per_year[degree] = s.v / years.v
    rows[#rows + 1] = {
      degree = degree,
      total_cny = s.v,
      per_year_cny = s.v / years.v,
      per_month_cny = math.floor(s.v / years.v / 12 * 100 + 0.5) / 100,
      ["if_all_" .. "363"] = s.v * grads.v,
    }
  end
  local t = jp.dataset{
    name = "subsidy_by_degree",
    title = "名校优才 living subsidy by degree, derived from the workforce dataset",
    source = "derived by lua/jinpu/report.lua from datasets/workforce.yaml",
    fields = {
      { name = "degree", type = "string" },
      { name = "total_cny", type = "number", unit = "CNY" },
      { name = "per_year_cny", type = "number", unit = "CNY" },
      { name = "per_month_cny", type = "number", unit = "CNY" },
      { name = "if_all_363", type = "number", unit = "CNY" },
    },
    rows = rows,
  }
  io.write((tostring(t):gsub("^[^\n]*\n", ""):gsub("([^\n]*)\n", "    %1\n")))
  line("graduates benefited", grads)
  line("firms benefited", firms)
  dline("graduates_per_firm", "graduates per firm", div(grads, firms, "person/firm"))
  line("funds paid this year", paid)
  local low, high = grads.v * per_year.bachelor, grads.v * per_year.doctor
  line("if all held bachelor's (one year's payment)", fig(low, "exact", "CNY"))
  line("if all held doctorates (one year's payment)", fig(high, "exact", "CNY"))
  dline("subsidy_paid_per_graduate", "average paid per graduate this year", div(paid, grads, "CNY/person"))
  local ok = paid.v >= low and paid.v <= high
  out("  check: funds paid lie between the two bounds ... " .. (ok and "yes" or "NO"))
  M.tables = M.tables or {}
  M.tables.subsidy_by_degree = t
  out("  深耕蓝领 blue-collar plan:")
  line("competition participants", get(ds, "competition_participants"))
  line("skill-talent pool", get(ds, "skill_talent_pool_members"))
  line("Jinpu craftsman stars", get(ds, "craftsmen_selected", "jinpu_craftsman_star"))
  line("Jinpu skilled craftsmen", get(ds, "craftsmen_selected", "jinpu_skilled_craftsman"))
  line("innovation results (cumulative)", get(ds, "innovation_results"))
  return { subsidy_bounds_ok = ok }
end

local function ip_section(ds)
  heading("Intellectual property and firms")
  local patents = get(ds, "valid_invention_patents")
  local per10k = get(ds, "invention_patents_per_10k_people")
  local high_value = get(ds, "high_value_invention_patents")
  local hightech = get(ds, "firms", "high_tech")
  local above = get(ds, "firms", "industrial_above_scale")
  line("valid trademark registrations", get(ds, "valid_trademark_registrations"))
  line("valid invention patents", patents)
  line("invention patents per 10k people", per10k)
  line("high-value invention patents", high_value)
  out("  derived:")
  dline("patents_per_high_tech_firm", "patents per high-tech firm", div(patents, hightech, "item/firm"))
  dline("high_value_patent_share", "high-value share of patents", scale(div(high_value, patents), 100, "percent"))
  local pop = scale(div(patents, per10k), 1e4, "person")
  pop.q = "approx" -- the ratio is printed to 0.1
  dline("implied_population", "population implied by the per-10k ratio", pop, "patents / ratio")
  dline("high_tech_per_industrial_firm", "high-tech firms per industrial firm above scale", div(hightech, above, "1"))
  out("  firms by category:")
  local firms = {}
  for r in ds:rows() do
    if r.indicator == "firms" then
      firms[#firms + 1] = { category = r.subject, firms = r.value, qualifier = jp.qualifier(r, "value") }
    end
  end
  table.sort(firms, function(a, b) return a.firms > b.firms end)
  for _, f in ipairs(firms) do
    line("  " .. f.category, fig(f.firms, f.qualifier, "firm"))
  end
end

local function economy_section(ds)
  heading("The economy")
  local gdp = get(ds, "gdp")
  local area = get(ds, "area")
  local ind = get(ds, "industrial_output_above_scale")
  local lead = get(ds, "leading_industries_output")
  local share = get(ds, "leading_industries_output_share")
  local trade = get(ds, "foreign_trade")
  line("GDP 2021", scale(gdp, 1e-8, "100M CNY"))
  line("  growth", get(ds, "gdp_growth"))
  line("fixed-asset investment 2021", scale(get(ds, "fixed_asset_investment"), 1e-8, "100M CNY"))
  line("industrial output above scale", scale(ind, 1e-8, "100M CNY"))
  line("FDI actually used", get(ds, "fdi_utilised"))
  line("foreign trade", scale(trade, 1e-8, "100M CNY"))
  out("  derived:")
  dline("gdp_per_km2", "GDP per km2", div(gdp, area, "CNY/km2"))
  local computed = scale(div(lead, ind), 100, "percent")
  dline("leading_industries_share_computed", "leading industries' share (computed)", computed, "printed: " .. num(share.v) .. "%")
  dline("trade_to_gdp", "foreign trade / GDP", scale(div(trade, gdp), 100, "percent"))
  local started = get(ds, "projects_started")
  local inv = get(ds, "projects_started_investment")
  dline("investment_per_project_started", "investment per project started (Jan-Aug 2022)", div(inv, started, "CNY/project"))
  local new = get(ds, "market_entities_new")
  local total = get(ds, "market_entities_total")
  dline("new_market_entity_share", "new market entities / all (Jan-Sep 2022)", scale(div(new, total), 100, "percent"))
  return { share_computed = computed.v, share_printed = share.v }
end

-- ---- the derived figures as a dataset -------------------------------------------

local function derived_dataset()
  local rows = {}
  for i, d in ipairs(derived) do
    local sym = ({ exact = "", approx = "~", at_least = ">=", more_than = ">", at_most = "<=",
                   less_than = "<" })[d.f.q]
    rows[i] = { indicator = d.id, label = d.label, value = sym .. string.format("%.17g", d.f.v),
                unit = d.f.unit or "1", note = d.note }
  end
  return jp.dataset{
    name = "derived",
    title = "Indicators derived from the bundled datasets",
    source = "computed by lua/jinpu/report.lua from datasets/*.yaml",
    notes = { "A qualifier on a derived value says what the inputs' qualifiers allow: a lower bound divided by an exact figure is a lower bound; two lower bounds divided give only an estimate (approx)." },
    fields = {
      { name = "indicator", type = "string", constraints = { required = true, unique = true } },
      { name = "label", type = "string" },
      { name = "value", type = "number", unit_field = "unit" },
      { name = "unit", type = "string" },
      { name = "note", type = "string" },
    },
    rows = rows,
    primary_key = "indicator",
  }
end

-- ---- validation and export ------------------------------------------------------

local function validation_section(ds, names)
  heading("Validation (schemas and the domain rule packs)")
  local ok_mod, V = pcall(require, "jinpu.validate")
  if not ok_mod then
    out("  validation is not available: " .. tostring(V))
    return false
  end
  local _, ok, text = V.bundled(ds, names)
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do out("  " .. l) end
  return ok
end

local function export_section(list, outdir)
  heading("Export")
  os.execute("mkdir -p '" .. outdir:gsub("'", "'\\''") .. "'")
  local path = outdir .. "/jinpu-report.tar.gz"
  jp.export(path, list)
  local ok, problems = jp.verify_archive(path)
  local a = jp.open_archive(path)
  out("  wrote " .. path)
  for _, f in ipairs(a:files()) do
    out(string.format("    %-44s %10d bytes  sha256 %s...", f.path or f.name, f.size or 0,
      (f.sha256 or ""):sub(1, 16)))
  end
  out("  verify: " .. (ok and "intact (sizes and SHA-256 of every file match the manifest)" or
    ("FAILED: " .. table.concat(problems or {}, "; "))))
  local same = 0
  for _, d in ipairs(list) do
    if a:load(d:name()):equals(d) then same = same + 1 end
  end
  a:close()
  out(string.format("  round trip: %d of %d datasets load back equal in every cell and schema field",
    same, #list))
  return ok and same == #list, path
end

-- ---- the page: demo-out/report.html -------------------------------------------------
-- One self-contained page (no network: styles inline, charts as inline SVG
-- from the shipped chart plugin) with a chart per dataset and the
-- validation summary.

local function html_esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- The article's words for a figure without the figure: "大樱桃种植面积14.8万亩"
-- -> "大樱桃种植面积"; qualifier words at the end go too.  Falls back on
-- the indicator's name when nothing is left.
local TRAILING = { "突破", "超过", "超", "达到", "达", "约", "近", "逾", "过", "共", "为", "累计", "，", "、", "：" }
local function short_label(r)
  local s = tostring(r.label or "")
  s = s:gsub("^%d+年", ""):gsub("^%d+月", "")
  s = s:match("^([^%d]*)") or ""
  for _, w in ipairs(TRAILING) do
    if s:sub(1, #w) == w then s = s:sub(#w + 1) end
  end
  s = s:gsub("^[,%.;: ]+", "")
  local changed = true
  while changed do
    changed = false
    for _, w in ipairs(TRAILING) do
      if #s > #w and s:sub(-#w) == w then
        s = s:sub(1, -#w - 1)
        changed = true
      end
    end
  end
  if utf8.len(s) == nil or utf8.len(s) < 3 then
    s = r.indicator .. (r.subject and (" / " .. r.subject) or "")
  end
  return s
end

-- The rows of `units` in a dataset, labelled for a chart (the subject or
-- the period is added where a label repeats); values keep their qualifiers
-- (written as figures: ">140000", "~1140000000").
local SYM = { exact = "", approx = "~", at_least = ">=", more_than = ">", at_most = "<=", less_than = "<" }
local function chart_rows(d, units)
  local want, count, rows = {}, {}, {}
  for _, u in ipairs(units) do want[u] = true end
  for r in d:rows() do
    if want[r.unit] and r.value ~= nil then
      local key = r.unit .. "|" .. short_label(r)
      count[key] = (count[key] or 0) + 1
    end
  end
  local seen = {}
  for r in d:rows() do
    if want[r.unit] and r.value ~= nil then
      local name = short_label(r)
      if count[r.unit .. "|" .. name] > 1 then
        name = name .. (r.subject and (" · " .. r.subject) or "")
        if seen[r.unit .. "|" .. name] then name = name .. " (" .. tostring(r.period) .. ")" end
      end
      seen[r.unit .. "|" .. name] = true
      rows[#rows + 1] = { name = name, unit = r.unit,
                          value = SYM[jp.qualifier(r, "value")] .. string.format("%.17g", r.value) }
    end
  end
  return jp.dataset{ name = d:name(), rows = rows,
    fields = { { name = "name", type = "string" }, { name = "value", type = "number", unit_field = "unit" },
               { name = "unit", type = "string" } } }
end

-- Which units to chart for each dataset: the ones with several figures
-- that compare (counts, money, rates), one panel each.
local CHARTS = {
  cherry = { units = { "mu", "t", "CNY", "person", "CNY/person" }, columns = 2,
             subtitle = "每个数字一个面板 · one panel per figure, each on its own scale" },
  ip = { units = { "firm", "item" }, columns = 1, subtitle = "企业与知识产权 · firms by category, patents and trademarks" },
  workforce = { units = { "CNY/person", "person", "firm" }, columns = 1,
                subtitle = "人才补贴与蓝领计划 · the graduate subsidy and the blue-collar plan" },
  economy = { units = { "CNY", "percent" }, columns = 1,
              subtitle = "金额与增速 · amounts (元) and growth rates (%)" },
}

local function chart_of(d)
  local spec = CHARTS[d:name()]
  if not spec then return nil, "no chart for this dataset" end
  local rows = chart_rows(d, spec.units)
  if #rows == 0 then return nil, "no figures to chart" end
  local ok, svg = pcall(function()
    return rows:chart{ kind = "hbar", x = "name", y = "value", facet = "unit", magnitudes = "zh",
                       title = d:schema().title, subtitle = spec.subtitle, columns = spec.columns,
                       width = 900, id = "c-" .. d:name() }
  end)
  if not ok then return nil, jp.error_message(svg) end
  return svg
end

local PAGE_STYLE = [[
body { font-family: 'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei','PingFang SC','Microsoft YaHei',
       'Helvetica Neue',Arial,sans-serif; color: #1f2933; background: #f4f5f7; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px; }
p.lead { color: #5b6570; margin: 0 0 16px; }
section { background: #fff; border: 1px solid #e3e6ea; border-radius: 6px; padding: 16px; margin: 16px 0; }
section svg { max-width: 100%; height: auto; display: block; }
.meta { color: #5b6570; font-size: 13px; margin: 4px 0 10px; }
table { border-collapse: collapse; font-size: 14px; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e6ea; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1b7f3b; font-weight: 600; } .bad { color: #b3261e; font-weight: 600; }
pre { white-space: pre-wrap; font-size: 12.5px; background: #f4f5f7; padding: 10px; border-radius: 4px; }
]]

local function html_section(ds, names, outdir)
  local V = require("jinpu.validate")
  local reports, all_ok, text = V.bundled(ds, names)
  local by_name = {}
  for _, r in ipairs(reports) do by_name[r.dataset] = r end
  local h = {}
  local function add(s) h[#h + 1] = s end
  add("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">")
  add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
  add("<title>金普新区 · Jinpu New Area - jinpu report</title><style>" .. PAGE_STYLE .. "</style></head><body><main>")
  add("<h1>大连金普新区 · Dalian Jinpu New Area</h1>")
  add("<p class=\"lead\">Every figure of the 2022 report, typed and checked by jinpu " .. html_esc(jp.version)
    .. ". Bounds are drawn as bounds: a bar that fades under an arrow is a lower bound (“余”, “突破”, “以上”), a "
    .. "hatched one an approximate figure (“约”).</p>")
  add("<h2>Validation</h2><section><table><tr><th>dataset</th><th>verdict</th><th class=\"n\">rules</th>"
    .. "<th class=\"n\">errors</th><th class=\"n\">warnings</th></tr>")
  for _, n in ipairs(names) do
    local r = by_name[n]
    if r then
      local c = r.counts
      local verdict = c.rule_errors > 0 and "rule errors" or (c.errors > 0 and "failed" or "valid")
      add(string.format("<tr><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
        .. "<td class=\"n\">%d</td></tr>", html_esc(n), verdict == "valid" and "ok" or "bad", verdict, c.rules,
        c.errors, c.warnings))
    end
  end
  add("</table><pre>" .. html_esc(text) .. "</pre></section>")
  local charted = 0
  for _, n in ipairs(names) do
    local d = ds[n]
    local s = d:schema()
    add("<h2>" .. html_esc(s.title or n) .. "</h2><section>")
    add("<div class=\"meta\">" .. html_esc(n) .. " · " .. #d .. " figures · source: " .. html_esc(s.source or "?") .. "</div>")
    local svg, why = chart_of(d)
    if svg then
      add(svg)
      charted = charted + 1
    else
      add("<p class=\"bad\">no chart: " .. html_esc(why) .. "</p>")
    end
    add("</section>")
  end
  add("</main></body></html>\n")
  local path = outdir .. "/report.html"
  local f = assert(io.open(path .. ".tmp", "wb"))
  f:write(table.concat(h, "\n"))
  assert(f:close())
  assert(os.rename(path .. ".tmp", path))
  return path, charted, all_ok
end

-- ---- main --------------------------------------------------------------------------

function M.run(opts)
  opts = opts or {}
  local dir = opts.dir or "datasets"
  local outdir = opts.out or "demo-out"
  local names = { "cherry", "ip", "workforce", "economy" }
  local ds = {}
  derived = {}
  out("jinpu report - Dalian Jinpu New Area, from the bundled datasets")
  local summary = {}
  for _, n in ipairs(names) do
    local d = jp.load(dir .. "/" .. n .. ".yaml")
    ds[n] = d
    local q = d:column("value"):qualified()
    summary[#summary + 1] = { dataset = n, figures = #d, qualified = q, title = d:schema().title }
  end
  out("")
  io.write((tostring(jp.dataset{
    name = "datasets",
    fields = { { name = "dataset", type = "string" }, { name = "figures", type = "integer" },
               { name = "qualified", type = "integer" }, { name = "title", type = "string" } },
    rows = summary,
  }):gsub("^[^\n]*\n", "")))
  local results = {}
  results.cherry = cherry_section(ds.cherry)
  results.workforce = workforce_section(ds.workforce)
  ip_section(ds.ip)
  results.economy = economy_section(ds.economy)
  local d = derived_dataset()
  results.derived = d
  results.valid = validation_section(ds, names)
  if opts.export ~= false then
    local list = { ds.cherry, ds.ip, ds.workforce, ds.economy, d, M.tables.subsidy_by_degree }
    results.exported, results.archive = export_section(list, outdir)
    local path, charted = html_section(ds, names, outdir)
    out("  wrote " .. path .. string.format(" (%d charts, the validation summary)", charted))
    results.html, results.charted = path, charted
    -- the workbook: the xlsx plugin, one sheet per dataset
    local xlsx = outdir .. "/report.xlsx"
    local ok, err = pcall(jp.export, xlsx, list)
    out(ok and ("  wrote " .. xlsx .. string.format(" (%d sheets)", #list))
      or ("  report.xlsx NOT written: " .. jp.error_message(err)))
    results.xlsx = ok and xlsx or nil
  end
  out("")
  local good = results.valid and results.exported ~= false and (opts.export == false or results.xlsx ~= nil)
  out(good and "report: all checks passed" or "report: SOME CHECKS FAILED")
  return ds, results, good
end

-- run as a script: jinpu run lua/jinpu/report.lua [DIR] [OUT]
if arg and arg[0] and arg[0]:match("report%.lua$") then
  local _, _, good = M.run{ dir = arg[1], out = arg[2] }
  if not good then os.exit(1) end
end

return M
