-- plugins/jinpu_stats/schemas.lua - the named schemas of the four domains.
--
-- Every domain's figures are an "observation" table: one row per printed
-- figure, with the figure's unit in its own column (docs/datasets.md).
-- `jp.read_csv("mine.csv", { schema = "cherry" })` types a user's own
-- table by these fields and names it after the domain, so `ds:validate()`
-- runs the domain's rule pack on it.  `label` and `section` (the article's
-- words and heading) are optional here: a user's table need not quote an
-- article.
local M = {}

local IDENT = "^[a-z][a-z0-9_]*$"

local DOMAINS = {
  cherry = {
    title = "Sweet cherry industry",
    indicators = "planted_area, annual_output, output_value, jobs_created, rural_income_per_capita",
  },
  economy = {
    title = "Economic indicators of a district",
    indicators = "gdp, gdp_growth, fixed_asset_investment, industrial_output_above_scale, "
      .. "leading_industries_output, leading_industries_output_share, foreign_trade, "
      .. "projects_started, projects_started_investment, market_entities_total, market_entities_new, area, ...",
  },
  ip = {
    title = "Intellectual property and firm counts",
    indicators = "valid_invention_patents, high_value_invention_patents, invention_patents_per_10k_people, "
      .. "trademarks, firms (subject: the category), ...",
  },
  workforce = {
    title = "Workforce programmes",
    indicators = "subsidy_per_graduate (subject: bachelor, master, doctor), subsidy_payout_years, "
      .. "graduates_benefited, firms_benefited, subsidy_funds_paid, ...",
  },
}

local function observation(domain, d)
  return {
    name = domain,
    title = d.title,
    { name = "indicator", type = "string", title = "Indicator",
      description = "What is measured, a snake_case identifier; the rule pack knows " .. d.indicators,
      constraints = { required = true, pattern = IDENT } },
    { name = "subject", type = "string", title = "Subject",
      description = "Who or what within the indicator; empty when the indicator does not repeat",
      constraints = { pattern = IDENT } },
    { name = "period", type = "period", title = "Period",
      description = "When the figure applies: 2022, 2022-01..2022-08, ..2021, cumulative",
      constraints = { required = true } },
    { name = "value", type = "number", title = "Value", unit_field = "unit",
      description = "The figure in the row's unit, as printed: 14.8万, >140000, ~1.14e9",
      constraints = { required = true, minimum = 0 } },
    { name = "unit", type = "string", title = "Unit", description = "The unit of value: mu, t, CNY, person, ...",
      constraints = { required = true } },
    { name = "label", type = "string", title = "Label", description = "The source's own words for the figure" },
    { name = "section", type = "string", title = "Section", description = "Where in the source" },
    { name = "note", type = "string", title = "Note", description = "How the figure was read" },
  }
end

for domain, d in pairs(DOMAINS) do M[domain] = observation(domain, d) end

return M
