-- plugins/sqlite/tests/test_sqlite.lua - databases written by the sqlite
-- plugin, checked with the sqlite3 shell and read back with jp.load: the
-- round trip of the four datasets is exact; the tables are STRICT and typed;
-- other SQLite files load by their declared types; hostile and broken files
-- are refused with a message, never a crash.
local T = require("jinpu.test")
local jp = require("jinpu")

local function sh(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local _, how, code = os.execute(cmd)
  return how == "exit" and code or 128 + code
end

local function slurp(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

local dir = os.tmpname()
os.remove(dir)
assert(run("mkdir -p " .. sh(dir)) == 0)

-- the sqlite3 shell's answer to a query (rows as lines, columns by |)
local function sql(db, q)
  local p = io.popen("sqlite3 " .. sh(db) .. " " .. sh(q) .. " 2>&1")
  local out = p:read("a")
  p:close()
  return (out:gsub("\n$", ""))
end

local NAMES = { "cherry", "economy", "ip", "workforce" }
local originals = {}
for i, n in ipairs(NAMES) do originals[i] = jp.load("../../datasets/" .. n .. ".yaml") end

T.case("jinpu export -o db.sqlite, then jp.load of each member: nothing lost", function()
  local db = dir .. "/db.sqlite"
  local files = {}
  for i, n in ipairs(NAMES) do files[i] = "../../datasets/" .. n .. ".yaml" end
  local rc = run(sh(jp._plugins.exe()) .. " export -o " .. sh(db) .. " " .. table.concat(files, " ")
    .. " >" .. sh(dir .. "/log") .. " 2>&1")
  T.eq(rc, 0, "exit 0: " .. (slurp(dir .. "/log") or ""))
  for i, n in ipairs(NAMES) do
    local back = jp.load(db, { member = n })
    local same, why = originals[i]:equals(back)
    T.ok(same, n .. " comes back equal: " .. tostring(why))
    T.eq(#back, #originals[i], n .. ": every row")
    T.eq(back:name(), n, n .. ": its name")
  end
  local c = jp.load(db, { member = "cherry" })
  T.eq(c:qualifier(2, "value"), "more_than", "a qualifier survives")
  T.eq(c:qualifier(5, "value"), "at_least", "another")
  T.eq(c:qualifier(1, "value"), "exact", "and an exact figure stays exact")
end)

T.case("the database an analyst queries: STRICT typed tables and tables about them", function()
  local db = dir .. "/db.sqlite"
  T.eq(sql(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"),
    "_datasets\n_fields\n_qualifiers\ncherry\neconomy\nip\nworkforce", "one table per dataset, and three more")
  T.ok(sql(db, "SELECT sql FROM sqlite_schema WHERE name = 'cherry'"):find('"value" REAL.*%) STRICT$') ~= nil,
    "STRICT, numbers as REAL")
  T.eq(sql(db, "SELECT typeof(value), value FROM cherry WHERE _row = 1"), "real|148000.0", "a value is a number")
  T.ok(sql(db, "SELECT sql FROM sqlite_schema WHERE name = 'cherry'"):find('^CREATE TABLE "cherry"%(_row INTEGER PRIMARY KEY, "indicator" TEXT') ~= nil,
    "the rows numbered by _row, the fields after it")
  T.eq(sql(db, "SELECT field, type, unit_field FROM _fields WHERE dataset = 'cherry' AND field = 'value'"),
    "value|number|unit", "_fields says each field's type and unit")
  T.eq(sql(db, "SELECT count(*) FROM _fields"), "32", "every field of every dataset")
  T.eq(sql(db, "SELECT c.indicator, q.qualifier FROM cherry c JOIN _qualifiers q ON q.dataset = 'cherry' "
      .. "AND q.field = 'value' AND q.row = c._row ORDER BY c._row"),
    "annual_output|more_than\noutput_value|more_than\nrural_income_per_capita|at_least",
    "_qualifiers joins on the row")
  T.eq(sql(db, "SELECT rows, title FROM _datasets WHERE name = 'ip'"), "18|Jinpu intellectual property and firm counts",
    "_datasets: rows and metadata")
  T.eq(sql(db, "PRAGMA integrity_check"), "ok", "a sound database")
end)

local typed = jp.dataset{
  name = "typed", title = "Every type",
  fields = {
    { name = "s", type = "string" },
    { name = "i", type = "integer", unit = "person" },
    { name = "x", type = "number", unit = "mu" },
    { name = "b", type = "boolean" },
    { name = "d", type = "date" },
    { name = "p", type = "period" },
    { name = 'we"ird name', type = "string" },
  },
  rows = {
    { s = "大樱桃", i = 3, x = "14.8万", b = true, d = "2022-01-05", p = "2022-01..2022-08", ['we"ird name'] = "q" },
    { s = "", i = ">=7", x = "~0.5", b = false, d = "0001-01-01", p = "cumulative" },
    { s = "it's", p = "..2021" },
  },
}

T.case("ds:write: every type, names quoted, and back", function()
  local db = dir .. "/typed.sqlite"
  typed:write(db)
  local back = jp.load(db)
  local same, why = typed:equals(back)
  T.ok(same, "equal after the round trip: " .. tostring(why))
  T.eq(sql(db, "SELECT typeof(s), typeof(i), typeof(x), typeof(b), typeof(d), typeof(p) FROM typed WHERE _row = 1"),
    "text|integer|real|integer|text|text", "column types")
  T.eq(sql(db, 'SELECT b, d, p, "we""ird name" FROM typed WHERE rowid = 1'), "1|2022-01-05|2022-01..2022-08|q",
    "booleans 0/1, dates and periods as text")
  T.eq(sql(db, "SELECT count(*) FROM typed WHERE s IS NULL"), "0", "an empty string is not null")
  T.eq(back:qualifier(2, "i"), "at_least", "an integer's qualifier")
  local big = dir .. "/big.csv"
  spit(big, "id,x\n9007199254740993,1\n")
  jp.read_csv(big):named("big"):write(db)
  T.eq(jp.load(db):column("id")[1], 9007199254740993, "a 64-bit integer exactly")
end)

T.case("other SQLite databases load by their declared column types", function()
  local db = dir .. "/other.db"
  T.eq(run("sqlite3 " .. sh(db) .. " " .. sh([[
    CREATE TABLE sales(region TEXT, qty INTEGER, price REAL, ok BOOLEAN, day DATE, note);
    INSERT INTO sales VALUES('北', 3, 2.5, 1, '2022-03-01', 'x'), ('南', NULL, 4, 0, NULL, 7);
    CREATE TABLE k(a INTEGER PRIMARY KEY, b TEXT) WITHOUT ROWID;
    INSERT INTO k VALUES(2, 'two'), (1, 'one');
    CREATE TABLE bad(n INTEGER);
    INSERT INTO bad VALUES(1), ('abc');
    CREATE TABLE blob(n TEXT);
    INSERT INTO blob VALUES(x'00ff');
  ]])), 0, "made with sqlite3")
  local s = jp.load(db, { member = "sales" })
  T.eq(#s, 2, "its rows")
  T.eq(s:column("qty")[1], 3, "INTEGER")
  T.eq(s:column("price")[2], 4, "REAL (an integer stored there widens)")
  T.eq(s:column("ok")[1], true, "BOOLEAN")
  T.eq(s:column("day")[1], "2022-03-01", "DATE")
  T.eq(s:column("note")[2], "7", "no declared type: text")
  T.eq(jp.load(db, { member = "k" }):column("b"):totable(), { "one", "two" }, "a table without rowid")
  T.raises(function() jp.load(db, { member = "bad" }) end, "other.db.*row 2.*'n'", "a value not of its column's type names row and field")
  T.raises(function() jp.load(db, { member = "blob" }) end, "BLOB", "a BLOB is refused")
  T.raises(function() jp.load(db) end, "holds 4 datasets %(bad, blob, k, sales%): choose one", "several tables: which one?")
  T.raises(function() jp.load(db, { member = "nope" }) end, "no dataset 'nope'", "a member that is not there")
  T.raises(function() jp.load(db, { table = "k" }) end, "unknown option 'table'", "an unknown option")
end)

T.case("hostile and broken files are refused, never a crash", function()
  local db = dir .. "/db.sqlite"
  local bytes = slurp(db)
  local function broken(name, content, pattern, msg)
    local p = dir .. "/" .. name
    spit(p, content)
    T.raises(function() jp.load(p, { member = "cherry" }) end, pattern, msg)
  end
  broken("text.sqlite", "name,value\n", "not a SQLite database", "a text file")
  broken("empty.sqlite", "", "not a SQLite database", "an empty file")
  broken("cut.sqlite", bytes:sub(1, 3000), "cut.sqlite", "a truncated database")
  broken("header.sqlite", bytes:sub(1, 100) .. string.rep("\0", #bytes - 100), "header.sqlite",
    "a header and nothing after it")
  -- bytes overwritten all over the file: each copy loads or is refused
  -- with a message naming it; none takes the process down
  local seed, bad, fine = 12345, 0, 0
  for k = 1, 60 do
    local t = {}
    for i = 1, 8 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      t[#t + 1] = { pos = 101 + seed % (#bytes - 200), byte = string.char(seed % 251) }
    end
    table.sort(t, function(a, b) return a.pos < b.pos end)
    local parts, at = {}, 1
    for _, x in ipairs(t) do
      if x.pos >= at then
        parts[#parts + 1] = bytes:sub(at, x.pos - 1) .. x.byte
        at = x.pos + 1
      end
    end
    parts[#parts + 1] = bytes:sub(at)
    local p = dir .. "/flip" .. k .. ".sqlite"
    spit(p, table.concat(parts))
    local ok, err = pcall(jp.load, p, { member = "cherry" })
    if ok then fine = fine + 1 elseif tostring(err):find("flip" .. k .. ".sqlite", 1, true) then bad = bad + 1 end
    os.remove(p)
  end
  print("# damaged copies refused: " .. bad .. ", loaded: " .. fine)
  T.eq(bad + fine, 60, "60 damaged copies: each loads or is refused naming the file (" .. bad .. " refused)")
  T.raises(function() jp.load(dir .. "/none.sqlite") end, "none.sqlite", "a file that is not there")

  local function tampered(name, statement, pattern, msg)
    local p = dir .. "/" .. name
    spit(p, bytes)
    T.eq(run("sqlite3 " .. sh(p) .. " " .. sh(statement)), 0, msg .. ": tampered with")
    T.raises(function() jp.load(p, { member = "cherry" }) end, pattern, msg)
  end
  tampered("schema.sqlite", "UPDATE _datasets SET schema = 'jinpu: 1\nfields: [' WHERE name = 'cherry'",
    "schema of 'cherry' in _datasets", "a schema that does not read")
  tampered("qual.sqlite", "UPDATE _qualifiers SET qualifier = 'roughly' WHERE row = 2 AND dataset = 'cherry'",
    "'roughly'.*not a qualifier", "an unknown qualifier")
  tampered("qualfield.sqlite", "UPDATE _qualifiers SET field = 'label' WHERE row = 2 AND dataset = 'cherry'",
    "not a number field", "a qualifier on a text field")
  tampered("rows.sqlite", "DELETE FROM cherry WHERE _row = 5", "has 4 rows, _datasets says 5", "the last row gone")
  tampered("vacuum.sqlite", "DELETE FROM cherry WHERE _row = 3; VACUUM; INSERT INTO cherry(indicator, period, value, unit, label, section) VALUES('x', '2022', 1, 't', 'x', 'x')",
    "row 3 has _row 4", "a row gone and another added, even after VACUUM")
  tampered("qualrow.sqlite", "INSERT INTO _qualifiers VALUES('cherry', 'value', 9, 'approx')",
    "names row 9 of 'cherry', which has 5 rows", "a qualifier of no row")
  tampered("table.sqlite", "DROP TABLE cherry", "no such table", "the table gone")
  tampered("type.sqlite", "UPDATE _fields SET type = 'money' WHERE dataset = 'cherry' AND field = 'value'",
    "unknown type 'money'", "an unknown type in _fields")
  tampered("fields.sqlite", "UPDATE _fields SET field = 'labl' WHERE dataset = 'cherry' AND field = 'label'",
    "no such column: labl", "a field the table lacks")
  local p = dir .. "/view.sqlite"
  spit(p, bytes)
  run("sqlite3 " .. sh(p) .. " " .. sh("CREATE VIEW v AS SELECT load_extension('x')"))
  T.ok(pcall(jp.load, p, { member = "cherry" }), "a view calling load_extension is never run")
end)

T.case("refusals when writing name the problem and leave nothing behind", function()
  local db = dir .. "/keep.sqlite"
  typed:write(db)
  local before = slurp(db)
  T.raises(function() typed:write(db, { level = 3 }) end, "unknown option 'level'", "an unknown option")
  T.raises(function() typed:named("_fields"):write(db) end, "clash", "a name of the plugin's own tables")
  T.raises(function() jp.export(db, { typed, typed }) end, "two datasets are named 'typed'", "two datasets of one name")
  T.raises(function() typed:rename{ s = "_row" }:write(db) end, "field named _row", "a field named like the row column")
  local nan = jp.dataset{ name = "nan", columns = { x = { 1, 2 } } }:mutate{ x = "x / 0 * 0" }
  T.raises(function() nan:write(db) end, "NaN", "NaN, which SQLite would turn into null")
  T.eq(slurp(db), before, "the old file is untouched")
  local ls = io.popen("ls -A " .. sh(dir))
  local left = ls:read("a")
  ls:close()
  T.ok(not left:find("%.tmp%-"), "no temporary file is left: " .. left)
end)

run("rm -rf " .. sh(dir))
T.done()
