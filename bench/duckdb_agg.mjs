// duckdb_agg.mjs — the peer of the ingest benchmark (bench/run-ingest.sh):
// DuckDB reads the same usage CSV as tallyd and computes the same business-day
// statistics (DESIGN.md, "Records and the business-day statistics"), the
// per-day rows and the per-(day, user) rows, fetching every result row.
//
//   node duckdb_agg.mjs --modules DIR --csv FILE [--tz Asia/Shanghai]
//                       [--plan sets|table|twice] [--threads N] [--out FILE]
//
// --modules is the npm prefix where @duckdb/node-api is installed (the bench
// script installs it into a scratch folder). The plans, all correct, differ
// only in how often the file is parsed:
//   sets   one scan, GROUP BY GROUPING SETS ((day), (day, user_id))  [default]
//   table  load the needed columns into a temporary table, then two GROUP BYs
//   twice  two GROUP BY queries, each over read_csv
// Prints one JSON line on stdout: rows of each result, seconds from opening
// the database to the last row of both results fetched (not yet turned into
// JavaScript values), the thread count DuckDB ran with
// (current_setting('threads'); its default is the number of cores), its
// version and the plan. --out writes both results as JSON (exact decimals
// as strings) after the clock has stopped, for checking against tally.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const o = { tz: 'Asia/Shanghai', plan: 'sets', threads: null, out: null, modules: null, csv: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value`);
    i++;
    if (a === '--modules') o.modules = v;
    else if (a === '--csv') o.csv = v;
    else if (a === '--tz') o.tz = v;
    else if (a === '--plan') o.plan = v;
    else if (a === '--threads') o.threads = Number.parseInt(v, 10);
    else if (a === '--out') o.out = v;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.modules || !o.csv) throw new Error('--modules DIR and --csv FILE are required');
  if (!['sets', 'table', 'twice'].includes(o.plan)) throw new Error(`unknown plan ${o.plan}`);
  if (o.threads !== null && !(o.threads >= 1)) throw new Error('--threads needs a number >= 1');
  if (!/^[A-Za-z0-9_+\-/]+$/.test(o.tz)) throw new Error(`bad time zone ${o.tz}`);
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`duckdb_agg: ${e.message}`);
  process.exit(2);
}

// The package lives under --modules, not beside this file.
const require = createRequire(join(resolve(opts.modules), 'package.json'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

// Every column typed, no sniffing: DuckDB reads exactly what tally reads.
// An empty field (and "") is NULL, as in DESIGN.md.
const readCsv = `read_csv(${sqlString(resolve(opts.csv))},
  header = true, delim = ',', quote = '"', escape = '"', auto_detect = false,
  columns = {
    'id': 'VARCHAR', 'request_id': 'VARCHAR', 'created_at': 'TIMESTAMPTZ',
    'user_id': 'VARCHAR', 'api_key_id': 'VARCHAR', 'provider': 'VARCHAR', 'model': 'VARCHAR',
    'status_code': 'INTEGER', 'error_message': 'VARCHAR',
    'input_tokens': 'BIGINT', 'output_tokens': 'BIGINT',
    'cache_creation_input_tokens': 'BIGINT', 'cache_read_input_tokens': 'BIGINT',
    'input_cost_usd': 'DECIMAL(18,10)', 'output_cost_usd': 'DECIMAL(18,10)',
    'cache_creation_cost_usd': 'DECIMAL(18,10)', 'cache_read_cost_usd': 'DECIMAL(18,10)',
    'total_cost_usd': 'DECIMAL(18,10)', 'actual_total_cost_usd': 'DECIMAL(18,10)',
    'response_time_ms': 'DOUBLE'})`;

// The columns both results need, with the business day and the error rule.
const projected = (from) => `SELECT
    (created_at AT TIME ZONE ${sqlString(opts.tz)})::DATE AS day,
    user_id, provider, model,
    (coalesce(status_code >= 400, false) OR error_message IS NOT NULL) AS is_error,
    coalesce(input_tokens, 0) AS input_tokens, coalesce(output_tokens, 0) AS output_tokens,
    coalesce(cache_creation_input_tokens, 0) AS cache_creation_tokens,
    coalesce(cache_read_input_tokens, 0) AS cache_read_tokens,
    coalesce(total_cost_usd, 0) AS total_cost, coalesce(actual_total_cost_usd, 0) AS actual_total_cost,
    coalesce(input_cost_usd, 0) AS input_cost, coalesce(output_cost_usd, 0) AS output_cost,
    coalesce(cache_creation_cost_usd, 0) AS cache_creation_cost,
    coalesce(cache_read_cost_usd, 0) AS cache_read_cost,
    response_time_ms
  FROM ${from}`;

const countsAndTokens = `count(*) AS total_requests,
    count(*) FILTER (WHERE NOT is_error) AS success_requests,
    count(*) FILTER (WHERE is_error) AS error_requests,
    sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens, sum(cache_read_tokens) AS cache_read_tokens,
    sum(total_cost) AS total_cost`;
const dayOnly = `sum(actual_total_cost) AS actual_total_cost,
    sum(input_cost) AS input_cost, sum(output_cost) AS output_cost,
    sum(cache_creation_cost) AS cache_creation_cost, sum(cache_read_cost) AS cache_read_cost,
    coalesce(avg(response_time_ms), 0) AS avg_response_time_ms,
    count(DISTINCT model) AS unique_models, count(DISTINCT provider) AS unique_providers`;
const dayCols = ['date', 'total_requests', 'success_requests', 'error_requests', 'input_tokens',
  'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'total_cost', 'actual_total_cost',
  'input_cost', 'output_cost', 'cache_creation_cost', 'cache_read_cost', 'avg_response_time_ms',
  'unique_models', 'unique_providers'];
const userCols = ['date', 'user_id', 'total_requests', 'success_requests', 'error_requests',
  'input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'total_cost'];

const daysQuery = (src) => `SELECT day::VARCHAR AS date, ${countsAndTokens}, ${dayOnly}
  FROM (${src}) GROUP BY day ORDER BY day`;
const userDaysQuery = (src) => `SELECT day::VARCHAR AS date, user_id, ${countsAndTokens}
  FROM (${src}) WHERE user_id IS NOT NULL GROUP BY day, user_id ORDER BY day, user_id`;
// One scan: the (day) set carries every day figure; the (day, user_id) set
// needs only the user figures, and its distinct counts are dropped.
const setsQuery = (src) => `SELECT grouping(user_id) AS per_day, day::VARCHAR AS date, user_id,
    ${countsAndTokens}, ${dayOnly}
  FROM (${src}) GROUP BY GROUPING SETS ((day), (day, user_id))
  ORDER BY per_day DESC, day, user_id`;

const t0 = process.hrtime.bigint();
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
if (opts.threads !== null) await con.run(`SET threads = ${opts.threads}`);

// The clock stops when both results are fetched whole: runAndReadAll reads
// every chunk of a result into this process. Turning the values into
// JavaScript objects is the binding's cost, not DuckDB's, so it comes after.
let readers;
if (opts.plan === 'sets') {
  readers = [await con.runAndReadAll(setsQuery(projected(readCsv)))];
} else {
  let src = projected(readCsv);
  if (opts.plan === 'table') {
    await con.run(`CREATE TEMP TABLE usage_rows AS ${src}`);
    src = 'SELECT * FROM usage_rows';
  }
  readers = [await con.runAndReadAll(daysQuery(src)), await con.runAndReadAll(userDaysQuery(src))];
}
const t1 = process.hrtime.bigint();

let days;
let userDays;
if (opts.plan === 'sets') {
  days = [];
  userDays = [];
  for (const r of readers[0].getRowObjects()) {
    // grouping(user_id) = 1: the per-day row; 0: a (day, user) row.
    if (Number(r.per_day) === 1) days.push(r);
    else if (r.user_id !== null) userDays.push(r);
  }
} else {
  days = readers[0].getRowObjects();
  userDays = readers[1].getRowObjects();
}

const threads = (await con.runAndReadAll("SELECT current_setting('threads') AS t")).getRows()[0][0];
const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];

if (opts.out) {
  // Exact: BIGINT/HUGEINT and DECIMAL values as their decimal strings.
  const plain = (rows, cols) => rows.map((r) => Object.fromEntries(cols.map((c) => {
    const v = r[c];
    if (v === null || typeof v === 'string' || typeof v === 'number') return [c, v];
    return [c, v.toString()];
  })));
  writeFileSync(opts.out, JSON.stringify({ days: plain(days, dayCols), user_days: plain(userDays, userCols) }));
}

console.log(JSON.stringify({
  days: days.length,
  user_days: userDays.length,
  seconds: Number(t1 - t0) / 1e9,
  threads: Number(threads),
  version,
  plan: opts.plan,
}));
