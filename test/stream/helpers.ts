// Helpers for the streaming tests: a broker in a child process (so a test
// can kill the detector, not the broker), the CLI as a child process, and
// the metric topics filled from a combined CSV as `produce metrics` does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker/server.ts';
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts';
import { SIDES } from '../../src/jobs/metric-pairs.ts';

export const CLI = new URL('../../bin/streamwatch.js', import.meta.url).pathname;

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-stream-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function withBrokerIn<T>(dir: string, fn: (brokers: string) => Promise<T>): Promise<T> {
  const broker: RunningBroker = await startBroker({ port: 0, dataDir: join(dir, 'broker'), log: () => {} });
  try {
    return await fn(`127.0.0.1:${broker.port}`);
  } finally {
    await broker.close();
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/** Starts the CLI; `done` resolves when it exits (it is SIGKILLed after timeoutMs). */
export function cli(args: readonly string[], timeoutMs = 60_000): { child: ChildProcess; done: Promise<Exit>; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stderr, stdout });
  }));
  return { child, done, stderr: () => stderr };
}

/** Publishes a combined CSV to the four metric topics, as `produce metrics` does (keyed by server_id). */
export async function produceMetrics(brokers: string, csvPath: string, partitions = 3): Promise<number> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  await admin.ensureTopics(Object.values(SIDES).map((s) => s.topic), partitions);
  await admin.close();
  const producer = await KafkaProducer.connect({ brokers: [brokers], acks: 'all' });
  const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  let sent = 0;
  for (const line of lines.slice(1)) {
    const fields = line.split(',');
    const row = Object.fromEntries(header.map((h, i) => [h, fields[i]!]));
    for (const side of Object.values(SIDES)) {
      const values = side.fields.map((f) => `"${f}":${row[f]}`).join(',');
      const pending = producer.send(side.topic, row.server_id!, `{"ts":"${row.ts}","server_id":"${row.server_id}",${values}}`);
      if (pending) await pending;
      sent++;
    }
  }
  await producer.close();
  return sent;
}

/** Data rows of a CSV file, sorted (rows are compared after parsing, not bytes). */
export function csvRows(path: string): string[] {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).sort();
}

/** Publishes lines as messages of `topic` (created with `partitions`), keyed by `keyOf(line)`, in order. */
export async function produceLines(brokers: string, topic: string, lines: readonly string[], keyOf: (line: string, i: number) => string, partitions = 3): Promise<void> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  await admin.ensureTopics([topic], partitions);
  await admin.close();
  const producer = await KafkaProducer.connect({ brokers: [brokers], acks: 'all' });
  for (const [i, line] of lines.entries()) {
    const pending = producer.send(topic, keyOf(line, i), line);
    if (pending) await pending;
  }
  await producer.close();
}

/** Data lines of a file so far (0 while it does not exist). */
export function lineCount(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

/** Polls `condition` until it holds; fails after `timeoutMs` with `explain()` in the message. */
export async function waitFor(condition: () => boolean, timeoutMs: number, explain: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting ${explain()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
