-- Validation with quarantine: check an incoming table, keep the rows that
-- pass, set the others aside with the reasons, and say where each problem is.
--   jinpu run lua/examples/quarantine.lua  (from the repository's top directory)
local jp = require("jinpu")

-- The incoming file has a cell that is not a number (line 4), a missing
-- output written as '—' (line 5), a negative area, a misspelt crop, a county
-- code that is not in the list and a figure written as printed (约130000).
-- Read it as it is (a column with a bad cell stays text) and let validation
-- say which cells are not of the type they should be.
local path = "lua/examples/data/intake.csv"
local intake = jp.read_csv(path, { null = { "—", "-" } })
local counties = jp.read_csv("lua/examples/data/counties.csv")

local report = intake:validate({
  year = { required = true, minimum = 2000, maximum = 2030 },
  crop = { required = true, enum = { "cherry", "apple", "pear", "grape" } },
  area_mu = { type = "number", required = true, minimum = 0 },
  output_t = { type = "number", required = true, minimum = 0 },
  { name = "known_county", foreign_key = { fields = "county_code",
      reference = { dataset = "counties", fields = "code" } } },
}, { datasets = { counties = counties }, pack = false })

print(report)                                  -- every problem: file:line, row, field, rule
local held = report:quarantine()               -- the failing rows, with _row, _line, _rules
print(held:select("_line", "county_code", "crop", "_rules"))

-- The rows that pass: those whose row number is not among the quarantined.
local good = intake:mutate{ _row = "row_number()" }:join(held:select("_row"), "_row", "anti")
                   :drop("_row")
print(string.format("%d rows pass, %d quarantined", #good, #held))

local dir = os.getenv("TMPDIR") or "/tmp"
good:write_csv(dir .. "/intake_clean.csv")
held:write_csv(dir .. "/intake_quarantine.csv")
