-- Rules for loose.csv: types the reader could not infer, and a share.
return {
  output_t = { type = "number", required = true },
  year = { type = "integer", minimum = 2000 },
  { name = "share_pct", expr = "share <= 100", reason = "a share is at most the whole" },
}
