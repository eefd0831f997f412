-- What the CSV and dataset bindings refuse rather than get silently wrong:
-- ambiguous delimiters, rows with holes, field names with a NUL byte,
-- figures that underflow, overflow or lack a number; CSV from streams;
-- missing-value markers.
local t = require("testlib")
local jp = require("jinpu")

local tmp = os.getenv("TMPDIR") or "/tmp"
local dir = string.format("%s/jp_test_csv_refusals_%d", tmp, math.random(1, 1e9))
os.execute("mkdir -p '" .. dir .. "'")
local function path(name) return dir .. "/" .. name end

local function write(name, text)
  local f = assert(io.open(path(name), "wb"))
  f:write(text)
  f:close()
  return path(name)
end

local ds = jp.dataset{ rows = { { n = 1.5, d = "2021-01-02", s = "a,b" }, { n = -2, d = "2022-03-04", s = "x" } } }

t.case("write_csv refuses a delimiter that makes the file ambiguous", function()
  for _, d in ipairs{ "1", "0", "-", ".", "+", "e", "E", "\"", "'", "\n", "\r", " ", "~", "<", ">", "=", "?", "\0", "\xE4" } do
    t.raises(function() ds:write_csv(path("bad.csv"), { delimiter = d }) end,
      "delimiter", string.format("%q", d))
  end
  t.ok(io.open(path("bad.csv")) == nil, "nothing written")
  for _, d in ipairs{ ",", ";", "\t", "|", ":", "#", "/", "^" } do
    ds:write_csv(path("ok.csv"), { delimiter = d })
    local back = jp.read_csv(path("ok.csv"), { delimiter = d })
    t.eq({ back:column("n")[1], back:column("n")[2], back:column("s")[1], back:column("d")[2] },
      { 1.5, -2, "a,b", "2022-03-04" }, string.format("%q round-trips", d))
  end
end)

t.case("jp.dataset refuses rows with holes, naming the hole", function()
  t.raises(function() jp.dataset{ rows = { [1] = { a = 1 }, [3] = { a = 3 } } } end,
    "rows has no entry 2 but has one at 3")
  t.raises(function() jp.dataset{ rows = { [2] = { a = 1 } } } end, "rows has no entry 1")
  t.raises(function() jp.dataset{ rows = { { a = 1 }, x = { a = 2 } } } end, "rows must be a list")
  local rows = {}
  for i = 1, 100 do rows[i] = { a = i } end
  rows[50] = nil
  t.raises(function() jp.dataset{ rows = rows } end, "no entry 50")
  -- a column's nils are nulls, up to its largest index
  local d = jp.dataset{ columns = { a = { 1, nil, 3 }, b = { "x", "y", "z" } } }
  t.eq(#d, 3, "three rows")
  t.eq(d:column("a")[2], nil, "the hole is a null")
  t.eq(d:column("a"):nulls(), 1, "one null")
end)

t.case("field names with a NUL byte are refused wherever they enter", function()
  local nul = "a\0b"
  t.raises(function() jp.dataset{ rows = { { [nul] = 1 } } } end, "NUL byte")
  t.raises(function() jp.dataset{ fields = { nul }, rows = { { 1 } } } end, "NUL byte")
  t.raises(function() jp.dataset{ fields = { { name = nul, type = "integer" } }, rows = { { 1 } } } end, "NUL byte")
  t.raises(function() jp.dataset{ columns = { [nul] = { 1 } } } end, "NUL byte")
  local d = jp.dataset{ rows = { { a = 1, b = 2 } } }
  t.raises(function() d:rename{ a = nul } end, "rename: .*NUL byte")
  t.raises(function() d:mutate{ [nul] = "a + 1" } end, "mutate: .*NUL byte")
  t.raises(function() d:mutate{ { nul, "a + 1" } } end, "mutate: .*NUL byte")
  t.raises(function() d:select(nul) end, "NUL byte")
  t.raises(function() d:group_by("a"):agg{ [nul] = jp.count() } end, "agg: .*NUL byte")
  t.raises(function() jp.read_csv(write("n.csv", "a\n1\n"), { schema = { [nul] = "integer" } }) end, "NUL byte")
  t.raises(function() jp.read_csv(path("n.csv"), { null = "\0" }) end, "NUL byte")
  t.raises(function() jp.read_csv(write("h.csv", "a,\"b\0c\"\n1,2\n")) end, "h%.csv:1:.*NUL byte")
  t.raises(function()
    jp.load(write("n.yaml", 'jinpu: 1\nfields:\n  - name: "a\\0b"\n    type: integer\nrows:\n  - { "a\\0b": 1 }\n'))
  end, "NUL")
end)

t.case("figures: underflow, overflow and a magnitude without a number are refused", function()
  for _, s in ipairs{ "1e-400", "-1e-400", "1e400", "万", "亿", "千万" } do
    local v, why = jp.figure(s)
    t.eq(v, nil, s .. " is not a figure")
    t.ok(why and (why:match("too small") or why:match("too large") or why:match("needs a number")), s .. ": " .. tostring(why))
  end
  t.eq(jp.figure("1万"), 10000, "1万")
  t.eq(jp.figure("0e-400"), 0, "zero is zero")
  t.eq(select(2, jp.figure("百余")), "more_than", "百余 says how many")
  t.eq(select(2, jp.figure("超万")), "more_than", "超万 says how many")
  t.eq(select(2, jp.figure("万亿级")), "at_least", "万亿级 is an order")
  -- inferred: a cell that would not read back exactly is text
  local p = write("u.csv", "a\n1\n1e-400\n")
  t.eq(jp.read_csv(p):schema().fields[1].type, "string", "1e-400 keeps its text")
  t.raises(function() jp.read_csv(p, { schema = { a = "number" } }) end,
    "u%.csv:3:1: row 2, field 'a': '1e%-400' is not a number: too small")
  t.raises(function() jp.read_csv(write("m.csv", "a\n1\n万\n"), { schema = { a = "number" } }) end,
    "row 2, field 'a': '万' is not a number: a magnitude needs a number")
  t.raises(function() jp.dataset{ fields = { { name = "a", type = "number" } }, rows = { { a = "1e999" } } } end,
    "too large")
  t.raises(function() jp.dataset{ fields = { { name = "a", type = "number" } }, rows = { { a = "万" } } } end,
    "needs a number")
end)

t.case("jp.read_csv reads a stream: a pipe, a FIFO, '-' for standard input", function()
  local src = write("s.csv", "a,b\n1,x\n2,y\n")
  local out = path("out.txt")
  local i = -1
  while arg[i - 1] do i = i - 1 end
  -- a stream that hangs must fail the test, not the run
  local jinpu = (os.execute("command -v timeout >/dev/null") and "timeout 30 " or "") .. "'" .. arg[i] .. "'"
  local rc = os.execute(string.format("cat '%s' | %s -e 'local d = jp.read_csv(\"/dev/stdin\"); io.write(#d, d:column(\"b\")[2])' > '%s'", src, jinpu, out))
  t.ok(rc, "a pipe as /dev/stdin")
  t.eq(io.open(out):read("a"), "2y", "its rows")
  rc = os.execute(string.format("%s -e 'local d = jp.read_csv(\"-\"); io.write(#d, d:schema().name)' < '%s' > '%s'", jinpu, src, out))
  t.ok(rc, "'-' from a file")
  t.eq(io.open(out):read("a"), "2stdin", "named stdin")
  rc = os.execute(string.format("printf 'a,b\\n1\\n' | %s -e 'jp.read_csv(\"-\")' 2> '%s'", jinpu, out))
  t.ok(not rc, "a malformed stream fails")
  t.ok(io.open(out):read("a"):match("stdin:2:2: row 1: expected 2 fields, found 1"), "naming stdin:line:column")
  local fifo = path("fifo")
  if os.execute("mkfifo '" .. fifo .. "' 2>/dev/null") then
    rc = os.execute(string.format("(sleep 0.3; timeout 30 cat '%s' > '%s') & %s -e 'io.write(#jp.read_csv(\"%s\"))' > '%s'", src, fifo, jinpu, fifo, out))
    t.ok(rc, "a FIFO whose writer comes later")
    t.eq(io.open(out):read("a"), "2", "its rows")
    rc = os.execute(string.format("%s -e 'print(pcall(jp.load, \"%s\"))' > '%s'", jinpu, fifo, out))
    t.ok(io.open(out):read("a"):match("is a stream, not a file"), "jp.load does not sniff a stream")
  end
end)

t.case("nulls: the markers of Chinese tables, and the null option as a list", function()
  local p = write("m.csv", "county,output,year,note\nA,7696,2020,-\nB,—,2021,x\nC,…,2022,NA\nD,/,—,\n")
  local d = jp.read_csv(p)
  t.eq(d:schema().fields[2].type, "integer", "markers do not make a number column text")
  t.eq(d:column("output"):nulls(), 3, "three missing outputs")
  t.eq(d:schema().fields[3].type, "integer", "nor an integer column")
  t.eq(d:column("note")[1], "-", "in a text column a marker is text")
  t.eq(d:column("note")[3], "NA", "NA too")
  local e = jp.read_csv(p, { null = { "—", "NA" } })
  t.eq(e:schema().fields[2].type, "string", "a list replaces the markers: … and / are text")
  t.eq(e:column("note")[3], nil, "NA listed: null in every column")
  t.eq(jp.read_csv(p, { null = {} }):column("note")[3], "NA", "an empty list: only the empty cell")
  t.raises(function() jp.read_csv(p, { null = { 1 } }) end, "option 'null': item 1")
  local typed = jp.read_csv(p, { schema = { output = { type = "number", unit = "t" } } })
  t.eq(typed:column("output"):nulls(), 3, "a typed field reads markers as null, not as errors")
end)

t.case("schema = { fields = {...} } takes the dataset format's list of fields", function()
  local p = write("f.csv", "county,value\nA,1\nB,2\n")
  local ds = jp.read_csv(p, { schema = { fields = { { name = "county", type = "string" },
                                                     { name = "value", type = "number", unit = "t" } } } })
  local s = ds:schema()
  t.eq(s.fields[2].type, "number", "the list's types are used")
  t.eq(s.fields[2].unit, "t", "and their units")
  t.raises(function() jp.read_csv(p, { schema = { fields = { { name = "value", type = "numbr" } } } }) end,
    "numbr")
end)

os.execute("rm -rf '" .. dir .. "'")
t.done()
