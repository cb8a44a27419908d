// Helpers for process-level Kafka tests: the real CLI in child processes
// (each one killed when the test ends, also on failure), a shared compile
// cache so the many short-lived processes start faster on a busy machine,
// and readers for the files `consume` writes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const children = new Set<ChildProcess>();

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Starts `streamwatch ...args`; its result resolves when it exits (killed after timeoutMs). */
export function startCli(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): CliProcess {
  const child = spawn(node, ['bin/streamwatch.js', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'streamwatch-test-compile-cache'), ...options.env },
  });
  children.add(child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
  return { child, done };
}

export async function cli(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Kills every child still running (call from an `after` hook). */
export function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** Data lines of a CSV file, header checked and removed, sorted (consumers write partitions interleaved). */
export function csvRows(path: string, header: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[0] !== header) throw new Error(`${path}: header '${lines[0]}', expected '${header}'`);
  if (lines.pop() !== '') throw new Error(`${path} does not end with a newline`);
  return lines.slice(1).sort();
}

/** The rows each topic should hold for a combined metrics file: the topic's columns of every row, sorted. */
export function expectedTopicRows(combined: string): Record<string, string[]> {
  const lines = combined.split('\n').filter((l) => l !== '');
  const rows: Record<string, string[]> = { 'topic-cpu': [], 'topic-mem': [], 'topic-net': [], 'topic-disk': [] };
  for (const line of lines.slice(1)) {
    const [ts, id, cpu, mem, netIn, netOut, disk] = line.split(',');
    rows['topic-cpu']!.push(`${ts},${id},${cpu}`);
    rows['topic-mem']!.push(`${ts},${id},${mem}`);
    rows['topic-net']!.push(`${ts},${id},${netIn},${netOut}`);
    rows['topic-disk']!.push(`${ts},${id},${disk}`);
  }
  for (const list of Object.values(rows)) list.sort();
  return rows;
}

export const TOPIC_HEADERS: Record<string, string> = {
  'topic-cpu': 'ts,server_id,cpu_pct',
  'topic-mem': 'ts,server_id,mem_pct',
  'topic-net': 'ts,server_id,net_in,net_out',
  'topic-disk': 'ts,server_id,disk_io',
};
