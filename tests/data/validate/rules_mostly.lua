-- One share in three may be off: a tolerated rule gives warnings only.
return {
  { name = "share_pct", expr = "share <= 100", mostly = 0.6 },
  datasets = { other = { { expr = "nosuch > 1" } } },
}
