-- A validation report printed whole: jinpu run validate.lua FILE eager|lazy
-- tests/cli/validate_stream.t compares the loaded file's output with the
-- streamed one's at many batch sizes.
local jp = require("jinpu")
local ds = jp.read_csv(arg[1], { lazy = arg[2] ~= "eager" })
if arg[3] then ds = ds:filter(arg[3]) end
local report = ds:validate({
  id = { required = true, unique = true, minimum = 0 },
  code = { enum = { "a", "b", "c", "d", "e", "f", "g" } },
  value = { required = true, minimum = 0, maximum = 450 },
  name = { maxLength = 12, pattern = "n[0-9]+", unique = true },
  ratio = { minimum = 0.5, type = "integer" },
  year = { maximum = 2025 },
  "ratio <= 9",
  { expr = "year >= 2003", where = "code == 'a'", name = "early", mostly = 0.99 },
  { unique_key = { "code", "year" }, name = "pair", severity = "warning" },
  { field = "note", maxLength = 3, where = "year > 2020" },
}, { name = "vt" })
print(report:text())
print(report:json())
print(tostring(report))
print(report.rows, #report, report.ok)
for _, e in ipairs(report.errors) do
  print(e.row, e.line, e.field, e.rule, e.first_row, e.message)
end
local q = report:quarantine(true)
print(#q, table.concat(q:names(), ","))
