-- Verbs over a lazy CSV file (one big enough to be read lazily): the same
-- answers as over the loaded file; errors found when the columns arrive
-- still name the verb and the token.
local t = require("testlib")
local jp = require("jinpu")

-- about 9 MB, over the lazy threshold
local path = os.tmpname()
do
  local f = assert(io.open(path, "w"))
  f:write("year,district,crop,area_mu,output_t,note\n")
  local ds = { "Lushun", "Jinzhou", "Pulandian", "Wafangdian" }
  local crops = { "cherry", "apple", "pear" }
  local buf = {}
  for i = 1, 150000 do
    buf[#buf + 1] = string.format("%d,%s,%s,%.2f,%s,\"note %d, padded to make the file larger........\"\n",
      2015 + i % 8, ds[(i // 8) % 4 + 1], crops[i % 3 + 1], 10 + i % 97, i % 11 == 0 and "" or string.format("%.3f", (i * 7) % 1000),
      i)
    if #buf == 5000 then f:write(table.concat(buf)); buf = {} end
  end
  f:write(table.concat(buf))
  f:close()
end

local function pipeline(src)
  return src:filter("output_t > 456.0")
    :mutate{ yield = "output_t / area_mu" }
    :group_by("district", "year")
    :agg{ n = jp.count(), s = jp.sum("output_t"), m = jp.mean("yield") }
    :sort("district", "year")
end

local lazy = jp.read_csv(path)
local eager = jp.read_csv(path, { lazy = false })
local a, b = pipeline(lazy), pipeline(eager)
t.case("expressions over a lazy file", function()
  t.eq(#a, 32, "4 districts x 8 years")
  t.ok(a:equals(b), "lazy and loaded give the same groups")
  t.eq(a:column("n"):sum(), #eager:filter("output_t > 456.0"), "counts add up")
end)

-- functions over a lazy file
t.case("functions over a lazy file", function()
  local lazy2 = jp.read_csv(path)
  local c = lazy2:filter(function(r) return r.output_t and r.output_t > 456.0 end)
    :mutate{ yield = function(r) return r.output_t / r.area_mu end }
    :group_by("district", "year")
    :agg{ n = jp.count(), s = jp.sum("output_t"), m = jp.mean("yield") }
    :sort("district", "year")
  t.eq(c:column("n"):totable(), a:column("n"):totable(), "function pipeline: same counts")
  for i = 1, #a do t.near(c:column("m")[i], a:column("m")[i], 1e-12) end
end)

-- selecting, renaming, tail over a lazy file
t.case("select rename tail over a lazy file", function()
  local tl = jp.read_csv(path):select("note", "year"):rename{ note = "remark" }:tail(2)
  t.eq(tl:names(), { "remark", "year" })
  t.eq(tl:column("year"):totable(), eager:tail(2):column("year"):totable())
end)

-- a type error found when the column arrives names the verb and the token
t.case("errors found when the column arrives", function()
  local bad = jp.read_csv(path):filter("crop > 3")
  t.raises(function() return #bad end, "filter: cannot compare string 'crop' with integer 3 at column 6")
  local bad2 = jp.read_csv(path):mutate{ z = "district * 2" }
  -- a column of a file pipeline arrives when it is used: reduced (streamed) or read
  t.raises(function() bad2:column("z"):sum() end, "mutate: cannot multiply string 'district' and integer 2")
  t.raises(function() return bad2:column("z")[1] end, "mutate: cannot multiply string 'district' and integer 2")
  -- names are checked at once
  t.raises(function() jp.read_csv(path):filter("distrct == 'x'") end, "did you mean 'district'")
end)

-- W3's shape: one column, its sum
t.case("one column and its sum", function()
  local w3 = jp.read_csv(path, { columns = { "output_t" } })
  t.near(w3:column("output_t"):sum(), eager:column("output_t"):sum(), 1e-6)
end)

-- collect: the plan runs now and the dataset holds its columns; the file
-- can go.  On a dataset in memory it is a no-op.
t.case("collect", function()
  local copy = os.tmpname()
  do
    local i, o = assert(io.open(path, "rb")), assert(io.open(copy, "wb"))
    o:write(i:read("a"))
    i:close()
    o:close()
  end
  local function pipe(src) return src:filter("output_t > 456.0"):mutate{ y = "output_t * 2" } end
  local kept = pipe(jp.read_csv(copy))
  local held = pipe(jp.read_csv(copy))
  t.ok(rawequal(held:collect(), held), "the same dataset comes back")
  os.remove(copy)
  t.raises(function() return kept:column("y"):sum() end, copy)
  t.eq(#held, #pipe(eager), "rows")
  local same, why = held:named("x"):equals(pipe(eager):named("x"))
  t.ok(same, why)
  t.ok(rawequal(eager:collect(), eager), "in memory: the same dataset")
  t.eq(#eager:collect(), 150000)
end)

-- a join over a lazy file: the share of each row in its group, the group
-- table joined back onto the file's rows as they stream
t.case("a join over a lazy file streams its rows", function()
  local groups = eager:group_by("district", "year"):agg{ total = jp.sum("output_t") }
  local function shares(src)
    return src:join(groups, { "district", "year" }):mutate{ share = "output_t / total" }
  end
  local lz = shares(jp.read_csv(path))
  local s = lz:column("share")
  t.near(s:sum(), 32, 1e-9, "the shares of 32 groups add up")
  t.eq(s:count(), shares(eager):column("share"):count(), "the same non-null shares")
  -- over rows in memory the join is lazy too: the same shares, in slices
  local mem = shares(eager)
  t.near(mem:column("share"):sum(), s:sum(), 1e-9, "in memory: the same sum")
  t.eq(#mem, #eager, "a lookup keeps every row")
  t.eq(mem:column("total")[7], shares(jp.read_csv(path)):column("total")[7], "a cell")
  local got = shares(jp.read_csv(path)):group_by("crop"):agg{ s = jp.sum("share"), n = jp.count() }
  t.ok(got:equals(shares(eager):group_by("crop"):agg{ s = jp.sum("share"), n = jp.count() }),
    "grouped shares: the loaded file's")
  -- keys named differently, and a key whose types differ
  local g2 = groups:rename{ district = "d", year = "y" }
  local a = jp.read_csv(path):join(g2, { district = "d", year = "y" }, "semi")
  t.eq(#a, #eager:join(g2, { { "district", "d" }, { "year", "y" } }, "semi"))
  local bad = groups:mutate{ year = "district" }
  t.raises(function()
    return jp.read_csv(path):join(bad, { "district", "year" }):column("total"):sum()
  end, "join: key 'year' is integer in the left dataset but string in the right")
end)

os.remove(path)
t.done()
