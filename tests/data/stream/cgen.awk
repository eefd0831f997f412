# A file for tests/cli/validate_cells.t: n rows (awk -v n=N) read with
# tests/data/stream/cells.yaml, whose typed fields have cells that do not
# parse as their type (so many in a row now and then that some fall on
# every batch boundary), one after a field over two lines (the cell's line
# is not its row's), a required field whose bad cells must not be reported
# again as missing, ids that repeat, and a field the schema does not type
# that turns to text at 95 % (a late type change restarts the batches).
BEGIN {
    srand(11)
    print "id,note,qty,day,share,extra"
    for (k = 0; k < n; k++) {
        v = int(rand() * 65536)
        id = k % 89 == 7 ? k - 1 : k
        note = v % 97 == 0 ? "\"two\nlines\"" : (v % 7 == 0 ? "\"a, b\"" : "n" v % 50)
        bad = v % 61 == 0 || k % 400 < 3
        qty = bad ? (v % 2 ? "twelve" : "1.5") : (v % 29 == 0 ? "" : v % 700 - 5)
        day = v % 53 == 0 ? "2021-02-30" : sprintf("2021-%02d-%02d", v % 12 + 1, v % 28 + 1)
        share = v % 71 == 0 ? "lots" : (v % 1000) / 10
        extra = k >= n * 0.95 && v % 5 == 0 ? "x" v : v % 100
        printf "%d,%s,%s,%s,%s,%s\n", id, note, qty, day, share, extra
    }
}
