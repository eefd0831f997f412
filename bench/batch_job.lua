-- bench/batch_job.lua - one small job of the BATCH benchmark (bench/batch.sh):
-- a county-sized CSV in, its filtered group table out, as an analyst's
-- cleaning script would do it.
--
-- usage: jinpu run bench/batch_job.lua IN.csv OUTDIR
local jp = require("jinpu")

local input, outdir = arg[1], arg[2]
assert(input and outdir, "usage: jinpu run batch_job.lua IN.csv OUTDIR")
jp.read_csv(input)
  :filter("output_t > 456.0")
  :mutate{ yield = "output_t / area_mu" }
  :group_by("district")
  :agg{ { "n", jp.count() }, { "output_t", jp.sum("output_t") }, { "yield", jp.mean("yield") } }
  :sort("district")
  :write_csv(outdir .. "/districts.csv")
