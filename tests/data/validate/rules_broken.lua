-- Malformed rules: each must be reported as a rule error, naming the rule.
return {
  share = { minimun = 0 },
  region = { pattern = "[a-" },
  { name = "raises", check = function(row) return row.nosuch.x end },
  { name = "no_compile", expr = "share <=" },
}
