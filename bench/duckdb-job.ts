// The two batch jobs (SEMANTICS.md section 3) as DuckDB SQL, for the
// benchmark's side-by-side comparison: run as a child process, like the
// streamwatch jobs, so wall time and peak RSS are measured the same way.
//
//   node bench/duckdb-job.ts cpu-mem|net-disk --input COMBINED.csv --out OUT.csv
//
// Prints `duckdb <job>: wrote N rows in S s` on stderr. The query does what
// `streamwatch job <job> --trim-leading` does on a generated dataset:
// - time of day to seconds; the dataset is in time order and spans less than
//   a day, so a time earlier than the first row's is on the next day (the
//   spec's midnight rule for such input, without an order-dependent scan);
// - each row joins the three 30-s windows (10-s slide) that hold it;
// - exact means: values read as DECIMAL(18,2), summed as integer hundredths,
//   mean rounded half up in integers; maxima of hundredths;
// - windows starting before the server's first event floored to 10 s dropped;
// - rows in natural server order (server_2 before server_10), then window start.
// It skips what generated data cannot contain (duplicates, missing halves of
// the join, invalid rows), which only makes DuckDB's work lighter.
import { DuckDBInstance } from '@duckdb/node-api';

type Job = 'cpu-mem' | 'net-disk';

interface JobSql {
  /** The output header; its 4th and 5th names are the value columns. */
  header: string;
  /** The two input columns, called `a` and `b` (in hundredths) in the query. */
  columns: [string, string];
  /** SQL for the per-window values `x` and `y` (hundredths) from `a` and `b`. */
  aggregates: string;
  /** Thresholds of x and y in hundredths (SEMANTICS.md section 3 defaults). */
  thresholds: [number, number];
  alerts: [both: string, first: string, second: string];
}

const jobs: Record<Job, JobSql> = {
  'cpu-mem': {
    header: 'server_id,window_start,window_end,avg_cpu,avg_mem,alert',
    columns: ['cpu_pct', 'mem_pct'],
    // Mean of hundredths rounded half up: floor((2 * sum + n) / (2 * n)), all values >= 0.
    aggregates: '(2 * sum(a) + count(*)) // (2 * count(*)) AS x, (2 * sum(b) + count(*)) // (2 * count(*)) AS y',
    thresholds: [8345, 7892],
    alerts: ['High CPU + Memory stress', 'CPU spike suspected', 'Memory saturation suspected'],
  },
  'net-disk': {
    header: 'server_id,window_start,window_end,max_net_in,max_disk_io,alert',
    columns: ['net_in', 'disk_io'],
    aggregates: 'max(a) AS x, max(b) AS y',
    thresholds: [414979, 192547],
    alerts: ['Network flood + Disk thrash suspected', 'Possible DDoS', 'Disk thrash suspected'],
  },
};

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

// Output in DuckDB's own types, which COPY prints cheaply (printf costs more
// than the whole aggregation): times as TIME (HH:MM:SS), values as
// DECIMAL(18,2) (`26.60` where streamwatch prints `26.6`: the same number;
// the benchmark compares rows after parsing, as SEMANTICS.md says tests do).
// x / 100 in binary floating point is within 1e-9 of the exact value, so the
// cast to two decimals gives it exactly.
const decimal = (column: string): string => `CAST(${column} / 100 AS DECIMAL(18,2))`;

const clock = (column: string): string => `make_time((${column} % 86400) // 3600, (${column} % 3600) // 60, ${column} % 60)`;

export function jobQuery(job: Job, input: string, output: string): string {
  const spec = jobs[job];
  const [a, b] = spec.columns;
  const [, , , valueX, valueY] = spec.header.split(',');
  const csv = `read_csv(${quote(input)}, header = true, columns = {
      'ts': 'TIME', 'server_id': 'VARCHAR', 'cpu_pct': 'DECIMAL(18,2)', 'mem_pct': 'DECIMAL(18,2)',
      'net_in': 'DECIMAL(18,2)', 'net_out': 'DECIMAL(18,2)', 'disk_io': 'DECIMAL(18,2)'})`;
  const seconds = 'hour(ts) * 3600 + minute(ts) * 60 + second(ts)';
  return `COPY (
  WITH first_row AS (SELECT ${seconds} AS tod FROM ${csv} LIMIT 1),
  events AS (
    SELECT server_id,
           CAST(${a} * 100 AS BIGINT) AS a,
           CAST(${b} * 100 AS BIGINT) AS b,
           ${seconds} + CASE WHEN ${seconds} < (SELECT tod FROM first_row) THEN 86400 ELSE 0 END AS t
    FROM ${csv}
  ),
  assigned AS (
    SELECT server_id, a, b, t, unnest([t - t % 10 - 20, t - t % 10 - 10, t - t % 10]) AS ws FROM events
  ),
  windows AS (
    SELECT server_id, ws, ${spec.aggregates}, min(t) AS first_t FROM assigned GROUP BY server_id, ws
  ),
  trimmed AS (
    SELECT * FROM windows
    QUALIFY ws >= min(first_t) OVER (PARTITION BY server_id) - min(first_t) OVER (PARTITION BY server_id) % 10
  )
  SELECT server_id,
         ${clock('ws')} AS window_start,
         ${clock('(ws + 30)')} AS window_end,
         ${decimal('x')} AS ${valueX},
         ${decimal('y')} AS ${valueY},
         CASE WHEN x > ${spec.thresholds[0]} AND y > ${spec.thresholds[1]} THEN ${quote(spec.alerts[0])}
              WHEN x > ${spec.thresholds[0]} THEN ${quote(spec.alerts[1])}
              WHEN y > ${spec.thresholds[1]} THEN ${quote(spec.alerts[2])}
              END AS alert -- no alert: NULL, which COPY prints as an empty field ('' would print as "")
  FROM trimmed
  ORDER BY regexp_replace(server_id, '[0-9]+$', ''),
           TRY_CAST(regexp_extract(server_id, '[0-9]+$') AS HUGEINT) NULLS FIRST,
           ws
) TO ${quote(output)} (HEADER true, DELIMITER ',', QUOTE '"')`;
}

async function main(argv: string[]): Promise<number> {
  const [job, ...rest] = argv;
  const option = (name: string): string | undefined => {
    const at = rest.indexOf(`--${name}`);
    return at >= 0 ? rest[at + 1] : undefined;
  };
  const input = option('input');
  const output = option('out');
  if ((job !== 'cpu-mem' && job !== 'net-disk') || !input || !output) {
    process.stderr.write('usage: node bench/duckdb-job.ts cpu-mem|net-disk --input COMBINED.csv --out OUT.csv\n');
    return 2;
  }
  const began = performance.now();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // COPY answers with the number of rows it wrote.
  const result = await connection.runAndReadAll(jobQuery(job, input, output));
  const rows = Number(result.getRows()[0]?.[0] ?? 0);
  connection.closeSync();
  instance.closeSync();
  process.stderr.write(`duckdb ${job}: wrote ${rows} rows in ${((performance.now() - began) / 1000).toFixed(2)} s\n`);
  return 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
