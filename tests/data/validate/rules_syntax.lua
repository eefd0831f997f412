return {
  { name = "x", expr = "share <= 100" ,,
}
