#!/bin/sh
# Line and branch coverage of the core (src/core) from the counters a gcov
# build left behind (make coverage runs every test against build/cov first).
#   tools/coverage.sh [BUILD]     prints one line per file and a total;
#                                 writes BUILD/coverage.info (and BUILD/html
#                                 when genhtml is there)
set -eu
B=${1:-build/cov}
command -v lcov >/dev/null 2>&1 || {
    echo "make coverage needs lcov: sudo apt-get install lcov" >&2
    exit 1
}
rc="--rc lcov_branch_coverage=1"
# shellcheck disable=SC2086 # $rc is two words
lcov --quiet $rc --capture --directory "$B" --output-file "$B/all.info" >/dev/null 2>&1
# shellcheck disable=SC2086
lcov --quiet $rc --extract "$B/all.info" '*/src/core/*' --output-file "$B/coverage.info" >/dev/null 2>&1
awk -F: '
    function pct(h, n) { return n ? sprintf("%5.1f%%", 100 * h / n) : "    -" }
    /^SF:/ { n = split($2, p, "/"); file = p[n] }
    /^LF:/ { lf = $2 } /^LH:/ { lh = $2 } /^BRF:/ { bf = $2 } /^BRH:/ { bh = $2 }
    /^end_of_record/ {
        if (lf > 0) {
            line[file] = sprintf("%-24s %s %11s   %s %11s", file, pct(lh, lf), lh "/" lf,
                                 pct(bh, bf), bh "/" bf)
            files[++nfiles] = file
            tl += lf; th += lh; tbf += bf; tbh += bh
        }
        lf = lh = bf = bh = 0
    }
    END {
        printf "%-24s %18s   %18s\n", "src/core", "lines", "branches"
        # sorted by name: a plain insertion sort keeps this to POSIX awk
        for (i = 2; i <= nfiles; i++)
            for (j = i; j > 1 && files[j - 1] > files[j]; j--) {
                t = files[j]; files[j] = files[j - 1]; files[j - 1] = t
            }
        for (i = 1; i <= nfiles; i++) print line[files[i]]
        printf "%-24s %s %11s   %s %11s\n", "total", pct(th, tl), th "/" tl, pct(tbh, tbf), tbh "/" tbf
    }' "$B/coverage.info"
if command -v genhtml >/dev/null 2>&1; then
    genhtml --quiet --branch-coverage --output-directory "$B/html" "$B/coverage.info" >/dev/null 2>&1 &&
        echo "(per line: $B/html/index.html)"
fi
