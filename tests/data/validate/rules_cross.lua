-- A cross-dataset rule: what people were paid in a year lies within a
-- fifth of their degree's subsidy, looked up in the degrees dataset.
return {
  datasets = {
    people = {
      {
        name = "paid_within_subsidy", needs = { "degrees" },
        reason = "a year's payment is a fifth of the degree's subsidy",
        dataset = function(ds, ctx)
          local amount = {}
          for r in ctx.datasets.degrees:rows() do amount[r.degree] = r.amount end
          local out = {}
          for r, i in ds:rows() do
            local a = amount[r.degree]
            if a and r.paid and r.paid > a / 5 then
              out[#out + 1] = { row = i, field = "paid",
                message = string.format("%g is more than a fifth of %g", r.paid, a) }
            end
          end
          return out
        end,
      },
    },
  },
}
