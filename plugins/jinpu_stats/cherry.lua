-- plugins/jinpu_stats/cherry.lua - the rule pack of the cherry dataset: what a
-- horticulture economist would check in the figures of a sweet-cherry
-- district.  Each rule says why in `reason`; the bands are wide on purpose:
-- they catch a figure read in the wrong unit or magnitude (万 dropped or
-- doubled, 元 for 万元), not an unusual but real year.
local O = require("jinpu_stats.obs")

return O.pack("cherry", "sweet cherry industry: yield, price and value per area, rural income", {
  O.ratio {
    name = "cherry.yield_per_mu", what = "annual output per mu of planted area", unit = "t/mu",
    num = { "annual_output" }, den = { "planted_area" }, min = 0.1, max = 3,
    reason = "mature sweet-cherry orchards in Liaoning yield roughly 0.5-1.5 t per mu; a district average "
      .. "(young trees included) outside 0.1-3 t/mu means an output or area in the wrong magnitude",
  },
  O.ratio {
    name = "cherry.price_per_tonne", what = "output value per tonne", unit = "CNY/t",
    num = { "output_value" }, den = { "annual_output" }, min = 10000, max = 150000,
    reason = "sweet cherries sell for roughly 20-60 CNY/kg at the farm gate and the industry's output value "
      .. "adds processing and sales; outside 10-150 CNY/kg the value or the output is misread",
  },
  O.ratio {
    name = "cherry.value_per_mu", what = "output value per mu of planted area", unit = "CNY/mu",
    num = { "output_value" }, den = { "planted_area" }, min = 2000, max = 150000,
    reason = "a mu of cherries grosses some 10-40 thousand CNY a year; 2-150 thousand CNY/mu bounds what any "
      .. "orchard, processing included, can produce",
  },
  O.ratio {
    name = "cherry.jobs_per_mu", what = "jobs per mu of planted area", unit = "person/mu",
    num = { "jobs_created" }, den = { "planted_area" }, min = 0.02, max = 5,
    reason = "cherry growing is labour-intensive (hand picking) but a mu (667 m2) does not employ more than "
      .. "a few people, nor fewer than one per 50 mu",
  },
  {
    name = "cherry.rural_income_band", field = "value", where = "indicator == 'rural_income_per_capita'",
    minimum = 5000, maximum = 100000,
    reason = "annual disposable income per rural resident was 18931 CNY in China in 2021 and below 40000 CNY "
      .. "in every province; 5000-100000 CNY catches a 万元 figure stored as 元 or the reverse",
  },
})
