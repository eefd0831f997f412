# A file for tests/cli/validate_stream.t: n rows (awk -v n=N) with
# something for every streamed check: ids that repeat (a repeat a row after
# its first, and one thousands of rows later), a key of two fields, a
# column of integers that turns to text at 95 % (so its bound is checked
# on text), empty cells, codes outside an enum, long names, a quoted field
# over two lines now and then (lines then differ from rows + 1).
BEGIN {
    srand(7)
    print "id,code,year,value,name,ratio,note"
    for (k = 0; k < n; k++) {
        v = int(rand() * 65536)
        id = k % 101 == 50 ? k - 1 : (k % 997 == 3 ? int(k / 2) : k)
        code = v % 23 == 0 ? "zz" : substr("abcdefg", v % 7 + 1, 1)
        year = 2000 + v % 30
        value = k >= n * 0.95 && v % 9 == 0 ? "n/a" : (v % 31 == 0 ? "" : v % 500 - 20)
        name = v % 17 == 0 ? "a rather long name for a field of that size" : "n" v % 300
        ratio = v % 13 == 0 ? "" : (v % 1000) / 100
        note = v % 211 == 0 ? "\"two\nlines\"" : (v % 5 == 0 ? "\"x, y\"" : "")
        printf "%d,%s,%d,%s,%s,%s,%s\n", id, code, year, value, name, ratio, note
    }
}
