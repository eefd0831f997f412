-- plugins/jinpu_stats/economy.lua - the rule pack of the economy dataset:
-- parts within wholes, shares that agree with their parts, and ratios an
-- economist would call impossible for a district.  Each rule says why in
-- `reason`.
local O = require("jinpu_stats.obs")

local y2021 = "2021"
local gdp = { "gdp", period = y2021 }
local industry = { "industrial_output_above_scale", period = y2021 }
local leading = { "leading_industries_output", period = y2021 }

return O.pack("economy", "economic indicators: GDP, investment, industry, trade, market entities", {
  O.part {
    name = "economy.leading_within_industry", part = leading, whole = industry,
    reason = "the five leading industrial clusters are part of above-scale industry: their output "
      .. "cannot exceed its total",
  },
  O.share {
    name = "economy.leading_share_agrees",
    share = { "leading_industries_output_share", period = y2021 }, part = leading, whole = industry,
    slack = 0.1,
    reason = "the printed share (79.8%) must equal output of the leading clusters over above-scale "
      .. "industrial output, up to the rounding of a share printed to one decimal",
  },
  O.part {
    name = "economy.new_within_total_entities",
    part = { "market_entities_new" }, whole = { "market_entities_total" },
    reason = "market entities registered this year are among those existing at the end of the period",
  },
  {
    name = "economy.gdp_growth_band", field = "value", where = "indicator == 'gdp_growth'",
    minimum = -20, maximum = 30,
    reason = "real GDP growth of a district beyond -20..30 percent in a year has not been recorded outside "
      .. "wars and disasters; such a figure is a level read as a rate or a misplaced decimal",
  },
  O.ratio {
    name = "economy.investment_to_gdp", what = "fixed-asset investment over GDP",
    num = { "fixed_asset_investment", period = y2021 }, den = gdp, min = 0.02, max = 2,
    reason = "fixed-asset investment of Chinese districts runs at 20-120 percent of GDP; outside 2-200 "
      .. "percent one of the two is in the wrong magnitude",
  },
  O.ratio {
    name = "economy.trade_to_gdp", what = "foreign trade over GDP",
    num = { "foreign_trade", period = y2021 }, den = gdp, min = 0.01, max = 5,
    reason = "trade of a port district can exceed its GDP (Shenzhen's is about 1.2 times) but not by five "
      .. "times; below 1 percent the area would not be a free-trade zone",
  },
  O.ratio {
    name = "economy.industry_to_gdp", what = "above-scale industrial output over GDP",
    num = industry, den = gdp, min = 0.1, max = 5,
    reason = "gross industrial output counts intermediate inputs and is typically 1-3 times the industrial "
      .. "value added; for a manufacturing district it is 0.1-5 times GDP",
  },
  O.ratio {
    name = "economy.investment_per_project", what = "investment per project started", unit = "CNY",
    num = { "projects_started_investment" }, den = { "projects_started" }, min = 1e6, max = 1e11,
    reason = "projects listed by a district's investment drive cost from millions to tens of billions of CNY",
  },
  O.ratio {
    name = "economy.output_per_above_scale_firm", what = "output per above-scale industrial firm",
    unit = "CNY", num = industry, den = { "firms", subject = "industrial_above_scale", dataset = "ip" },
    min = 1e7, max = 1e10,
    reason = "above-scale industrial firms are, by the statistical definition since 2011, those with "
      .. "annual revenue of 20 million CNY or more, so their average output is not below about 10 million; "
      .. "above 10 billion each the firm count or the output is misread",
  },
})
