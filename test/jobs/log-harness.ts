// Runs `streamwatch job nginx|lb-summary` as a user does (the real CLI in a
// child process) on lines written to a temporary directory, and reads back
// the output, rejects and incidents CSVs.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = join(REPO, 'node_modules/.bin/node');
export const BIN = join(REPO, 'bin/streamwatch.js');

/** 2022-08-03T06:50:00Z: a multiple of 60 s, so of every window size here. */
export const T0 = 1_659_509_400;

export interface LogJobRun {
  code: number;
  stderr: string;
  /** Output lines, header first; empty when no output was written. */
  out: string[];
  rejects: string[];
  /** The rejects file as bytes: rejected lines are copied byte for byte. */
  rejectsBytes: Buffer;
  incidents: string[];
}

export function cli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(NODE, [BIN, ...args], { cwd, timeout: 60_000, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`spawn failed: ${error.message}\n${stderr}`));
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

async function linesOf(path: string): Promise<string[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/** Writes `input` (lines joined with LF) and runs `job <args...> --input in --out out.csv --rejects rejects.csv`. */
export async function runLogJob(args: readonly string[], input: readonly string[] | string | Buffer, options: { incidents?: boolean; env?: Record<string, string> } = {}): Promise<LogJobRun> {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-logjob-'));
  try {
    await writeFile(join(dir, 'in.log'), typeof input === 'string' || Buffer.isBuffer(input) ? input : `${input.join('\n')}\n`);
    const extra = options.incidents ? ['--incidents', 'incidents.csv'] : [];
    const run = await cli(['job', ...args, '--input', 'in.log', '--out', 'out.csv', '--rejects', 'rejects.csv', ...extra], dir, options.env);
    return {
      code: run.code,
      stderr: run.stderr,
      rejectsBytes: existsSync(join(dir, 'rejects.csv')) ? await readFile(join(dir, 'rejects.csv')) : Buffer.alloc(0),
      out: await linesOf(join(dir, 'out.csv')),
      rejects: await linesOf(join(dir, 'rejects.csv')),
      incidents: await linesOf(join(dir, 'incidents.csv')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ISO text of T0 + seconds. */
export function iso(seconds: number): string {
  return new Date((T0 + seconds) * 1000).toISOString();
}

export interface EventFields {
  ip?: string;
  host?: string;
  country?: string;
  status?: number | string;
  rt?: number | string;
  /** Seconds after T0 (fractions allowed); written as epoch seconds. */
  t: number;
  /** Write status, request_time and @timestamp as JSON numbers instead of strings. */
  numbers?: boolean;
}

/** One NGINX JSON event line. */
export function event(f: EventFields): string {
  const stamp = (T0 * 1000 + Math.round(f.t * 1000)) / 1000;
  const status = f.status ?? 200;
  const rt = f.rt ?? '0.1';
  return JSON.stringify({
    server: 's_v1',
    client_ip: f.ip ?? '10.0.0.1',
    method: 'GET',
    status: f.numbers ? Number(status) : String(status),
    request_time: f.numbers ? Number(rt) : String(rt),
    host: f.host ?? 'api_1.digikala.com',
    country: f.country ?? 'IR',
    '@timestamp': f.numbers ? stamp : stamp.toFixed(3),
  });
}

/** A deterministic shuffle (same order every run). */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
