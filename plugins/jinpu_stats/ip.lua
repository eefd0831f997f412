-- plugins/jinpu_stats/ip.lua - the rule pack of the ip dataset (intellectual
-- property and firm counts): parts within wholes and what the per-10k
-- ratio implies.  Each rule says why in `reason`.
local O = require("jinpu_stats.obs")

return O.pack("ip", "intellectual property and firm counts", {
  O.part {
    name = "ip.high_value_within_valid",
    part = { "high_value_invention_patents" }, whole = { "valid_invention_patents" },
    reason = "high-value invention patents are counted among the valid invention patents",
  },
  O.part {
    name = "ip.patent_firms_within_patents",
    part = { "firms", subject = "invention_patent_holders" }, whole = { "valid_invention_patents" },
    reason = "every firm counted as holding invention patents holds at least one, so there are no more "
      .. "such firms than valid invention patents",
  },
  O.ratio {
    name = "ip.implied_population", what = "population implied by patents and patents per 10k people",
    unit = "person", num = { "valid_invention_patents" }, den = { "invention_patents_per_10k_people" },
    factor = 10000, min = 100000, max = 10000000,
    reason = "the ratio is patents per 10 000 residents, so the two figures imply the population; a "
      .. "national-level new area has between about 0.1 and 10 million residents (Pudong, the largest, 5.7 million)",
  },
  O.band {
    name = "ip.implied_density", what = "residents per km2 implied by the patent ratio and the area",
    unit = "person/km2",
    refs = { { "valid_invention_patents" }, { "invention_patents_per_10k_people" }, { "area", dataset = "economy" } },
    of = function(patents, per10k, area) return O.div(O.scale(O.div(patents, per10k), 10000), area) end,
    min = 50, max = 20000,
    reason = "the population the patent ratio implies, spread over the area's land, must be a density found "
      .. "in Chinese districts: from about 50 (rural counties) to 20000 per km2 (old city cores)",
  },
})
