// DuckDB peer, through @duckdb/node-api.
// usage: node duckdb_w.cjs MODULES_DIR W1|W2|W3|W5|SORT|JOIN|WINDOW|NOP IN OUT THREADS
// MODULES_DIR is the node_modules directory that holds @duckdb/node-api.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

async function main() {
  const [modules, work, input, output, threads] = process.argv.slice(2);
  const { DuckDBInstance } = require(path.join(modules, '@duckdb', 'node-api'));
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads || 1) });
  const con = await db.connect();
  const q = (s) => "'" + String(s).replace(/'/g, "''") + "'";
  const src = `read_csv(${q(input)}, header = true)`;
  switch (work) {
    case 'NOP':
      await con.run('SELECT 42');
      break;
    case 'W1':
      await con.run(`COPY (
          SELECT district, year, count(*) AS n, sum(output_t) AS sum_output_t,
                 avg(output_t / area_mu) AS mean_yield
          FROM ${src} WHERE output_t > 456.0
          GROUP BY district, year ORDER BY district, year)
        TO ${q(output)} (FORMAT csv, HEADER true)`);
      break;
    case 'W2':
      await con.run(`COPY (SELECT * FROM ${src}) TO ${q(output)}
        (FORMAT csv, HEADER true, COMPRESSION gzip)`);
      break;
    case 'W3': {
      const reader = await con.runAndReadAll(`SELECT sum(output_t) AS s FROM ${src}`);
      fs.writeFileSync(output, Number(reader.getRows()[0][0]).toFixed(6) + '\n');
      break;
    }
    case 'W5':
      await con.run(`COPY (SELECT * FROM ${src} ORDER BY district, output_t DESC LIMIT 1000)
        TO ${q(output)} (FORMAT csv, HEADER true)`);
      break;
    case 'SORT':
      await con.run(`COPY (SELECT * FROM ${src} ORDER BY district, output_t DESC)
        TO ${q(output)} (FORMAT csv, HEADER true)`);
      break;
    case 'JOIN': {
      const reader = await con.runAndReadAll(`
        WITH d AS (SELECT district, year, output_t FROM ${src}),
             g AS (SELECT district, year, sum(output_t) AS total FROM d GROUP BY district, year)
        SELECT sum(d.output_t / g.total) AS s FROM d JOIN g USING (district, year)`);
      fs.writeFileSync(output, Number(reader.getRows()[0][0]).toFixed(6) + '\n');
      break;
    }
    case 'WINDOW': {
      // ROWS, not the default RANGE frame: rows with equal keys are not
      // peers; the running sum is null where output_t is (as pandas' cumsum)
      const reader = await con.runAndReadAll(`
        WITH w AS (
          SELECT lag(output_t) OVER (PARTITION BY district ORDER BY year, output_t) AS prev,
                 CASE WHEN output_t IS NOT NULL THEN
                   sum(output_t) OVER (PARTITION BY district ORDER BY year, output_t
                                       ROWS UNBOUNDED PRECEDING) END AS cum
          FROM ${src})
        SELECT count(prev), sum(prev), sum(cum) FROM w`);
      const [n, sp, sc] = reader.getRows()[0];
      fs.writeFileSync(output, `${n} ${Number(sp).toFixed(6)} ${Number(sc).toFixed(6)}\n`);
      break;
    }
    default:
      throw new Error('unknown workload ' + work);
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
