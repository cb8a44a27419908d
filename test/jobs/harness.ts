// Runs the real `streamwatch` command on files written to a temporary
// directory, and reads back its CSV outputs (parsed as RFC 4180) and the
// final statistics line of stderr.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INCIDENTS_HEADER, JOBS, REJECTS_HEADER, parseCsv, runReferenceJob } from '../support/reference-metrics.ts';
import type { JobName, ReferenceInput, ReferenceResult, ReferenceSource, RejectRow } from '../support/reference-metrics.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = join(REPO, 'node_modules/.bin/node');
export const BIN = join(REPO, 'bin/streamwatch.js');

export const COMBINED_HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns `node bin/streamwatch.js ...args` in `cwd`. */
export function runCli(args: readonly string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(NODE, [BIN, ...args], { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`spawn failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-jobs-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Lines joined with LF, with a final LF, as a producer writes a CSV. */
export function csvText(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

export interface JobStats {
  readonly read: number;
  readonly rejected: number;
  readonly late: number;
  readonly wrote: number;
  readonly incidents: number | undefined;
}

/** `streamwatch job cpu-mem: read 28800 rows, rejected 0, late 0, wrote 14400 rows, 9 incidents in 0.41 s` */
export function parseStats(stderr: string): JobStats | undefined {
  const pattern = /read (\d+) rows?, rejected (\d+), late (\d+), wrote (\d+) rows?(?:, (\d+) incidents?)?/;
  const line = stderr.split('\n').filter((l) => pattern.test(l)).at(-1);
  const match = line === undefined ? null : pattern.exec(line);
  if (!match) return undefined;
  return {
    read: Number(match[1]),
    rejected: Number(match[2]),
    late: Number(match[3]),
    wrote: Number(match[4]),
    incidents: match[5] === undefined ? undefined : Number(match[5]),
  };
}

export interface JobRun {
  readonly run: CliRun;
  /** Output rows without the header. */
  readonly rows: string[][];
  readonly header: string[] | undefined;
  readonly incidents: string[][];
  /** Rejects as [source, line, record], sorted by source then line; reasons checked non-empty. */
  readonly rejects: [string, number, string][];
  readonly stats: JobStats | undefined;
}

export interface JobRequest {
  readonly job: JobName;
  /** File name (relative to the temp dir) → content. */
  readonly files: Readonly<Record<string, string>>;
  /** Input flags, e.g. ['--input', 'in.csv'] or ['--cpu', 'cpu.csv', '--mem', 'mem.csv']. */
  readonly inputArgs: readonly string[];
  readonly extraArgs?: readonly string[];
  readonly trimLeading?: boolean;
}

async function readCsvFile(path: string): Promise<string[][] | undefined> {
  if (!existsSync(path)) return undefined;
  return parseCsv(await readFile(path, 'utf8'));
}

/**
 * Runs one batch job with --out, --rejects and --incidents in a fresh temp
 * dir and returns everything parsed. Asserts exit status 0 and the fixed
 * headers of the rejects and incidents files.
 */
export async function runJob(request: JobRequest): Promise<JobRun> {
  if (process.env.SW_JOBS_AGAINST_REFERENCE === '1') return runJobOnReference(request);
  return withTempDir(async (dir) => {
    for (const [name, content] of Object.entries(request.files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    const args = [
      'job', request.job, ...request.inputArgs, '--out', 'out.csv', '--rejects', 'rejects.csv', '--incidents', 'incidents.csv',
      ...(request.trimLeading ? ['--trim-leading'] : []), ...(request.extraArgs ?? []),
    ];
    const run = await runCli(args, dir);
    assert.equal(run.code, 0, `streamwatch ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    const out = (await readCsvFile(join(dir, 'out.csv'))) ?? [];
    const rejectsCsv = (await readCsvFile(join(dir, 'rejects.csv'))) ?? [[...REJECTS_HEADER]];
    const incidentsCsv = (await readCsvFile(join(dir, 'incidents.csv'))) ?? [[...INCIDENTS_HEADER]];
    assert.deepEqual(rejectsCsv[0], [...REJECTS_HEADER], 'rejects header');
    assert.deepEqual(incidentsCsv[0], [...INCIDENTS_HEADER], 'incidents header');
    const rejects = rejectsCsv.slice(1).map((r): [string, number, string] => {
      assert.equal(r.length, 4, `rejects row ${JSON.stringify(r)}`);
      assert.ok((r[2] ?? '').trim().length > 0, `a reject has a reason: ${JSON.stringify(r)}`);
      return [r[0] as string, Number(r[1]), r[3] as string];
    });
    return {
      run,
      header: out[0],
      rows: out.slice(1),
      incidents: incidentsCsv.slice(1),
      rejects: sortRejects(rejects),
      stats: parseStats(run.stderr),
    };
  });
}

export function sortRejects(rejects: [string, number, string][]): [string, number, string][] {
  return [...rejects].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
}

export function referenceRejects(rejects: readonly RejectRow[]): [string, number, string][] {
  return sortRejects(rejects.map((r): [string, number, string] => [r.source, r.line, r.record]));
}

/**
 * Asserts two lists of CSV rows are equal, reporting the first difference
 * (node's own diff of two large arrays takes minutes).
 */
export function assertSameRows(actual: readonly (readonly unknown[])[], expected: readonly (readonly unknown[])[], label: string): void {
  const length = Math.max(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (JSON.stringify(actual[i]) !== JSON.stringify(expected[i])) {
      const around = (rows: readonly (readonly unknown[])[]): string =>
        rows.slice(Math.max(0, i - 2), i + 3).map((r, k) => `  ${Math.max(0, i - 2) + k}: ${JSON.stringify(r)}`).join('\n');
      assert.fail(`${label}: rows differ first at index ${i} (got ${actual.length} rows, expected ${expected.length})\n`
        + `got:\n${around(actual)}\nexpected:\n${around(expected)}`);
    }
  }
}

/** Asserts the CLI's outputs equal the reference's, with a readable message. */
export function assertSameAsReference(got: JobRun, expected: ReferenceResult, label: string): void {
  assert.deepEqual(got.header, [...expected.header], `${label}: header`);
  assertSameRows(got.rows, expected.rows, `${label}: window rows`);
  assertSameRows(got.incidents, expected.incidents, `${label}: incidents`);
  assertSameRows(got.rejects, referenceRejects(expected.rejects), `${label}: rejects`);
}

/** Expected rows for the given (start, end) windows, all with the same values and alert. */
export function windowRows(serverId: string, spans: readonly (readonly [string, string])[], tail: readonly string[]): string[][] {
  return spans.map(([start, end]) => [serverId, start, end, ...tail]);
}

/** The three windows that hold an event in [20:53:00, 20:53:10). */
export const WINDOWS_OF_205300: readonly (readonly [string, string])[] = [
  ['20:52:40', '20:53:10'], ['20:52:50', '20:53:20'], ['20:53:00', '20:53:30'],
];

/** A deterministic dataset: 3 servers, 5-s cadence for 2 minutes, varied decimals. */
export function smallDataset(): string[] {
  const rows: string[] = [];
  for (let i = 0; i < 24; i++) {
    const seconds = 20 * 3600 + 53 * 60 + 5 * i;
    const ts = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(n).padStart(2, '0')).join(':');
    for (const [s, id] of ['server_1', 'server_2', 'server_10'].entries()) {
      const cpu = ((i * 37 + s * 11) % 100) + ((i * 7 + s) % 1000) / 1000;
      const mem = ((i * 53 + s * 29) % 100) + ((i * 13 + s * 3) % 100) / 100;
      const netIn = ((i * 997 + s * 131) % 8000) + 0.5;
      const disk = ((i * 409 + s * 71) % 3000) + 0.125;
      rows.push(`${ts},${id},${cpu.toFixed(3)},${mem.toFixed(2)},${netIn},${(i * 3) % 100},${disk}`);
    }
  }
  return rows;
}

/** A deterministic permutation (a seeded LCG drives Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/**
 * SW_JOBS_AGAINST_REFERENCE=1 runs the job tests on the reference
 * implementation instead of the CLI: a check of the hand-computed
 * expectations themselves (exit-status tests do not apply then).
 */
function runJobOnReference(request: JobRequest): JobRun {
  const flag = (name: string, args: readonly string[]): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const input = (name: string | undefined): ReferenceInput => {
    if (name === undefined || request.files[name] === undefined) throw new Error(`no file ${name}`);
    return { source: name, text: request.files[name] };
  };
  const args = request.inputArgs;
  const [firstFlag, secondFlag] = request.job === 'cpu-mem' ? ['--cpu', '--mem'] : ['--net', '--disk'];
  const source: ReferenceSource = flag('--input', args) !== undefined
    ? { kind: 'combined', input: input(flag('--input', args)) }
    : { kind: 'topics', first: input(flag(firstFlag, args)), second: input(flag(secondFlag, args)) };
  const extra = request.extraArgs ?? [];
  const [firstThreshold, secondThreshold] = request.job === 'cpu-mem' ? ['--cpu-threshold', '--mem-threshold'] : ['--net-threshold', '--disk-threshold'];
  const defaults = JOBS[request.job].defaultThresholds;
  const result = runReferenceJob(request.job, source, {
    trimLeading: request.trimLeading ?? false,
    thresholds: [flag(firstThreshold, extra) ?? defaults[0], flag(secondThreshold, extra) ?? defaults[1]],
  });
  return {
    run: { code: 0, stdout: '', stderr: '' },
    header: [...result.header],
    rows: result.rows,
    incidents: result.incidents,
    rejects: referenceRejects(result.rejects),
    stats: { read: result.read, rejected: result.rejects.length, late: 0, wrote: result.rows.length, incidents: result.incidents.length },
  };
}
