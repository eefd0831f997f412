-- plugins/jinpu_stats/workforce.lua - the rule pack of the workforce dataset:
-- the graduate-talent subsidy must be self-consistent.  Each rule says why
-- in `reason`.
local O = require("jinpu_stats.obs")

local grads = { "graduates_benefited" }
local years = { "subsidy_payout_years" }
local doctor = { "subsidy_per_graduate", subject = "doctor" }
local bachelor = { "subsidy_per_graduate", subject = "bachelor" }

return O.pack("workforce", "workforce programmes: the graduate subsidy and the blue-collar plan", {
  O.order {
    name = "workforce.subsidy_by_degree",
    order = { doctor, { "subsidy_per_graduate", subject = "master" }, bachelor },
    reason = "the policy pays more for a higher degree: doctor > master > bachelor",
  },
  O.between {
    name = "workforce.subsidy_funds_paid",
    what = "between all beneficiaries paid a year's bachelor subsidy and all paid a year's doctor subsidy",
    figure = { "subsidy_funds_paid" }, refs = { grads, bachelor, doctor, years },
    low = function(n, b, _, y) return O.div(O.mul(n, b), y) end,
    high = function(n, _, d, y) return O.div(O.mul(n, d), y) end,
    reason = "each beneficiary receives a fifth of the subsidy of their degree a year, so one year's payments "
      .. "lie between what the graduates would get if all held bachelor's and if all held doctor's degrees "
      .. "(363 x 50000 / 5 = 3.63M <= paid <= 363 x 200000 / 5 = 14.52M CNY)",
  },
  O.part {
    name = "workforce.firms_within_graduates",
    part = { "firms_benefited" }, whole = grads,
    reason = "a firm benefits through the graduates it employs, so no more firms than graduates benefit",
  },
  {
    name = "workforce.payout_years_band", field = "value", where = "indicator == 'subsidy_payout_years'",
    minimum = 1, maximum = 10,
    reason = "living subsidies for graduates are paid over one to a few years; beyond ten a figure is misread",
  },
})
