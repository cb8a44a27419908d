// End-to-end benchmark of the batch jobs against DuckDB (npm run bench:jobs).
//
// Generates (or reuses) metrics datasets of 28,800, 1,000,000 and 10,000,000
// rows in bench/data/, then runs, for each dataset and each job (cpu-mem,
// net-disk), `streamwatch job <job> --trim-leading` and the same query in
// DuckDB (bench/duckdb-job.ts), both as child processes measured the same way
// (wall time, peak RSS), and prints one table. It also checks that both
// engines wrote the same rows (after parsing: DuckDB prints 26.60 for 26.6).
//
//   node bench/jobs.ts [--sizes 28800,1000000,10000000] [--jobs cpu-mem,net-disk] [--repeat N]
//
// --repeat N runs each engine N times, alternating, and reports each one's
// run of median wall time: on a shared machine a single run can be off by 2x.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareRows } from './compare-rows.ts';
import { measure } from './measure.ts';
import type { Measured } from './measure.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const dataDir = join(root, 'bench/data');
const outDir = join(dataDir, 'out');

const JOBS = ['cpu-mem', 'net-disk'] as const;
type Job = (typeof JOBS)[number];
const CADENCE = 5;

/** The dataset of a size: the default 20 servers for the small one, 1,000 servers for the large ones. */
function datasetShape(rows: number): { servers: number; duration: number } {
  const servers = rows <= 28_800 ? 20 : 1000;
  if (rows % servers !== 0) throw new Error(`--sizes: ${rows} is not a multiple of ${servers} servers`);
  return { servers, duration: (rows / servers) * CADENCE };
}

async function dataset(rows: number): Promise<string> {
  const file = join(dataDir, `metrics-${rows}.csv`);
  if (existsSync(file)) return file;
  const { servers, duration } = datasetShape(rows);
  // Written under another name first, so an interrupted run never leaves a truncated dataset to reuse.
  const partial = `${file}.partial`;
  const run = await measure(node, ['bin/streamwatch.js', 'generate', 'metrics', '--out', partial,
    '--servers', String(servers), '--duration', String(duration), '--cadence', String(CADENCE)], { cwd: root });
  if (run.status !== 0) throw new Error(`generate failed: ${run.stderr}`);
  renameSync(partial, file);
  process.stderr.write(`generated ${file} (${rows} rows, ${servers} servers) in ${run.seconds.toFixed(2)} s\n`);
  return file;
}

/** The count in a final line like `... wrote 14400 rows ...`. */
function rowsWritten(run: Measured): number | undefined {
  const match = /wrote (\d+) rows/.exec(run.stderr);
  return match ? Number(match[1]) : undefined;
}

interface Result {
  rows: number;
  job: Job;
  engine: 'streamwatch' | 'duckdb';
  run: Measured;
  ratio?: number;
}

/** The run of median wall time (runs alternate between the engines, so both see the same load). */
function median(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[(sorted.length - 1) >> 1]!;
}

async function runPair(rows: number, input: string, job: Job, repeat: number): Promise<{ results: Result[]; warnings: string[] }> {
  const warnings: string[] = [];
  const swOut = join(outDir, `${job}-${rows}-streamwatch.csv`);
  const dbOut = join(outDir, `${job}-${rows}-duckdb.csv`);
  const swRuns: Measured[] = [];
  const dbRuns: Measured[] = [];
  for (let i = 0; i < repeat; i++) {
    const run = await measure(node, ['bin/streamwatch.js', 'job', job, '--input', input, '--out', swOut, '--trim-leading'], { cwd: root });
    if (run.status !== 0) throw new Error(`streamwatch job ${job} failed: ${run.stderr.trim()}`);
    swRuns.push(run);
    const dbRun = await measure(node, ['bench/duckdb-job.ts', job, '--input', input, '--out', dbOut], { cwd: root });
    if (dbRun.status !== 0) throw new Error(`duckdb ${job} failed: ${dbRun.stderr.trim()}`);
    dbRuns.push(dbRun);
  }
  const sw = median(swRuns);
  const db = median(dbRuns);
  const [swRows, dbRows] = [rowsWritten(sw), rowsWritten(db)];
  if (swRows === undefined || swRows !== dbRows) {
    warnings.push(`WARNING ${job} on ${rows} rows: streamwatch wrote ${swRows ?? '?'} rows, duckdb ${dbRows ?? '?'}`);
  } else {
    const { firstDifference } = await compareRows(swOut, dbOut);
    if (firstDifference) {
      const { line, left, right } = firstDifference;
      warnings.push(`WARNING ${job} on ${rows} rows: same row count (${swRows}) but line ${line} differs: streamwatch '${left}', duckdb '${right}'`);
    }
  }
  return {
    results: [
      { rows, job, engine: 'streamwatch', run: sw, ratio: db.seconds / sw.seconds },
      { rows, job, engine: 'duckdb', run: db },
    ],
    warnings,
  };
}

function table(results: Result[]): string {
  const header = ['dataset rows', 'job', 'engine', 'seconds', 'rows/s', 'peak MB', 'duckdb/streamwatch time'];
  const lines = results.map((r) => [
    r.rows.toLocaleString('en-US'),
    r.job,
    r.engine,
    r.run.seconds.toFixed(2),
    Math.round(r.rows / r.run.seconds).toLocaleString('en-US'),
    (r.run.peakBytes / 1048576).toFixed(0),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i >= 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [row(header), rule, ...lines.map(row)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '28800,1000000,10000000' },
      jobs: { type: 'string', default: JOBS.join(',') },
      repeat: { type: 'string', default: '1' },
    },
  });
  const sizes = values.sizes.split(',').map((s) => Number(s.replaceAll('_', '')));
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--sizes: '${values.sizes}' is not a list of row counts`);
  const jobs = values.jobs.split(',') as Job[];
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: '${values.repeat}' is not a positive whole number`);
  if (jobs.some((job) => !JOBS.includes(job))) throw new Error(`--jobs: expected some of ${JOBS.join(',')}`);
  mkdirSync(outDir, { recursive: true });
  // Other work on a 2-core machine skews every figure: say how busy it was.
  const loadBefore = loadavg()[0]!.toFixed(2);
  const results: Result[] = [];
  const warnings: string[] = [];
  for (const rows of sizes) {
    const input = await dataset(rows);
    for (const job of jobs) {
      const pair = await runPair(rows, input, job, repeat);
      results.push(...pair.results);
      warnings.push(...pair.warnings);
      for (const r of pair.results) {
        process.stderr.write(`  ${r.engine} ${job} ${rows} rows: ${r.run.seconds.toFixed(2)} s, ${(r.run.peakBytes / 1048576).toFixed(0)} MB\n`);
      }
    }
  }
  process.stdout.write(`${table(results)}\n`);
  if (repeat > 1) process.stdout.write(`each figure: the run of median wall time of ${repeat}, the engines' runs alternating; peak MB: that run's\n`);
  process.stdout.write(`load average (1 min): ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB\n`);
  for (const warning of warnings) process.stdout.write(`${warning}\n`);
  if (warnings.length === 0) process.stdout.write('streamwatch and duckdb wrote the same rows (compared after parsing) in every run\n');
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bench:jobs: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
