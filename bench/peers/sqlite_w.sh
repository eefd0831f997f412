#!/bin/sh
# sqlite3 peer: import into a typed in-memory table, then query; IMPORT:
# the shell's .import of the CSV into a typed table of a new database OUT.
# usage: sh sqlite_w.sh W1|W3|IMPORT IN OUT
work=$1 src=$2 dst=$3
if [ "$work" = IMPORT ]; then
    exec sqlite3 -bail "$dst" <<SQL
CREATE TABLE crops(year INTEGER, district TEXT, crop TEXT, area_mu REAL, output_t REAL,
                   revenue_cny INTEGER, firms INTEGER, note TEXT);
.mode csv
.import --skip 1 '$src' crops
SQL
fi
case $work in
W1) query="SELECT district, year, count(*) AS n, sum(output_t) AS sum_output_t,
               avg(output_t / area_mu) AS mean_yield
           FROM crops WHERE output_t > 456.0
           GROUP BY district, year ORDER BY district, year;" ;;
W3) query="SELECT printf('%.6f', sum(output_t)) FROM crops;" ;;
*) echo "sqlite_w.sh: unknown workload $work" >&2; exit 2 ;;
esac
headers=off
[ "$work" = W1 ] && headers=on
sqlite3 -bail :memory: <<SQL
CREATE TABLE crops(year INTEGER, district TEXT, crop TEXT, area_mu REAL, output_t REAL,
                   revenue_cny INTEGER, firms INTEGER, note TEXT);
.mode csv
.import --skip 1 '$src' crops
.headers $headers
.output '$dst'
$query
SQL
