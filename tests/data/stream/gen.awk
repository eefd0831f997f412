# A file for tests/cli/stream_ops.t: n rows (awk -v n=N) of integers, a
# column that turns to decimals at 90 %, one to text at 95 %, one empty until
# 70 %, numbers with NaN, -0 and extremes, text with quotes, qualified figures
# (q), decimals whose sum needs its compensation (d).
BEGIN {
    srand(3); split("nan,-0.0,0,,3.25,1e-310,-1e300", xs, ",")
    print "i,late,txt,nl,x,s,q,d"
    for (k = 0; k < n; k++) {
        v = int(rand() * 65536)
        late = k == int(n * 0.9) ? "0.5" : v % 97
        txt = k >= n * 0.95 && v % 5 == 0 ? "many" : v % 13
        nl = k >= n * 0.7 ? v % 7 : ""
        s = v % 6 == 0 ? "\"b, c\"" : (v % 6 == 1 ? "" : "s" v % 9)
        q = v % 9 == 0 ? "约" v % 50 : (v % 9 == 1 ? ">" v % 40 : (v % 9 == 2 ? "" : v % 30 "." v % 7))
        d = v % 11 ? v % 50 "." (v * 7) % 1000 (k % 3 ? "" : "e7") : ""
        printf "%d,%s,%s,%s,%s,%s,%s,%s\n", v % 2001 - 1000, late, txt, nl, xs[v % 7 + 1], s, q, d
    }
}
