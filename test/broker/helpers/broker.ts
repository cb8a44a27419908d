// Test helpers: an in-process broker on an ephemeral port with a temporary
// data directory (removed afterwards, also on failure), and a kcat runner
// with a hard timeout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startBroker } from '../../../src/broker/server.ts';
import type { BrokerOptions, RunningBroker } from '../../../src/broker/server.ts';

export interface TestBroker extends RunningBroker {
  readonly logLines: string[];
  readonly dataDir: string;
}

export async function withBroker<T>(fn: (broker: TestBroker) => Promise<T>, options: Partial<BrokerOptions> = {}): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-broker-test-'));
  const logLines: string[] = [];
  const broker = await startBroker({ port: 0, dataDir, log: (line) => logLines.push(line), ...options });
  try {
    return await fn(Object.assign(Object.create(broker) as RunningBroker, broker, { logLines, dataDir }));
  } finally {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin, killing it after timeoutMs. */
export function run(command: string, args: readonly string[], input = '', timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export function kcat(broker: RunningBroker, args: readonly string[], input = '', timeoutMs = 20_000): Promise<RunResult> {
  return run('kcat', ['-b', broker.address, ...args], input, timeoutMs);
}

/** Codec bits (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of every batch in a stored records blob. */
export function batchCodecs(records: Buffer): number[] {
  const codecs: number[] = [];
  for (let at = 0; at + 61 <= records.length; at += records.readInt32BE(at + 8) + 12) codecs.push(records.readInt16BE(at + 21) & 7);
  return codecs;
}

/** Producer id of every batch in a stored records blob. */
export function batchProducerIds(records: Buffer): number[] {
  const ids: number[] = [];
  for (let at = 0; at + 61 <= records.length; at += records.readInt32BE(at + 8) + 12) ids.push(Number(records.readBigInt64BE(at + 43)));
  return ids;
}

/** Skip reason for tests that run the real kcat when it is not installed (CI installs it: .ci/run). */
export const KCAT_SKIP: string | false = spawnSync('kcat', ['-V']).error ? 'kcat is not installed (apt-get install kcat; .ci/run does)' : false;
