// The README's first command, `npx streamwatch up`, exactly as a user on a
// fresh machine runs it: no flags at all, in an empty working directory.
// Everything is on the defaults: the bundled sample dataset generated into
// .streamwatch/, the embedded broker on 127.0.0.1:9092, the dashboard on
// http://127.0.0.1:8080, outputs in out/. This is the only test that uses the
// real ports 8080 and 9092; it is skipped when something else holds them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, killChildren, root } from './helpers/kafka-cli.ts';

const node = join(root, 'node_modules/.bin/node');
const bin = join(root, 'bin/streamwatch.js');
const running = new Set<ChildProcess>();

after(() => {
  for (const child of running) child.kill('SIGKILL');
  killChildren();
});

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, detail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Why the port cannot be listened on (in use, say), or null when it is free. */
function portBusy(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

async function fetchText(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return null; // not listening yet
  }
}

function dataRows(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).length - 1;
}

test('npx streamwatch up with no flags, in a fresh directory: sample replayed, dashboard on :8080, broker on :9092; Ctrl+C exits 0', { timeout: 150_000 }, async (t) => {
  for (const port of [9092, 8080]) {
    const busy = await portBusy(port);
    if (busy !== null) {
      t.skip(`port ${port} on 127.0.0.1 is not free (${busy}): 'streamwatch up' on its defaults needs it`);
      return;
    }
  }
  const cwd = await mkdtemp(join(tmpdir(), 'streamwatch-up-defaults-'));
  t.after(() => rm(cwd, { recursive: true, force: true }));

  const child = spawn(node, [bin, 'up'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_COMPILE_CACHE: join(tmpdir(), 'streamwatch-test-compile-cache') },
  });
  running.add(child);
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const printed = (): string => Buffer.concat(output).toString('utf8');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const alive = (): boolean => {
    if (gone) assert.fail(`up exited early:\n${printed()}`);
    return true;
  };

  await eventually(() => alive() && /dashboard\s+http:\/\/127\.0\.0\.1:8080\b/.test(printed()), 60_000, 'up to print the dashboard address', printed);
  assert.match(printed(), /brokers\s+127\.0\.0\.1:9092\b/);
  assert.match(printed(), new RegExp(`outputs\\s+${join(cwd, 'out').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

  const cpuMem = join(cwd, 'out', 'CPU_MEM.csv');
  await eventually(() => alive() && dataRows(cpuMem) > 0, 90_000, 'window rows in out/CPU_MEM.csv', printed);
  assert.equal(readFileSync(cpuMem, 'utf8').split('\n')[0], 'server_id,window_start,window_end,avg_cpu,avg_mem,alert');

  const page = await fetchText('http://127.0.0.1:8080/');
  assert.ok(page !== null, 'the dashboard answers on http://127.0.0.1:8080/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>streamwatch<\/title>/);

  let metrics = '';
  await eventually(async () => {
    alive();
    metrics = (await fetchText('http://127.0.0.1:8080/metrics'))?.body ?? '';
    const emitted = /^streamwatch_window_emit_latency_seconds_count\{job="cpu-mem"\} (\d+)/m.exec(metrics);
    return /^streamwatch_broker_requests_total\{[^}]*\} [1-9]/m.test(metrics) && emitted !== null && Number(emitted[1]) > 0;
  }, 60_000, '/metrics to count broker requests and cpu-mem emit latencies', () => metrics);

  const stoppedAt = Date.now();
  child.kill('SIGINT');
  const result = await exited;
  running.delete(child);
  assert.equal(result.signal, null, printed());
  assert.equal(result.code, 0, printed());
  // Generous for a loaded machine; a hang would reach the test's timeout.
  assert.ok(Date.now() - stoppedAt < 20_000, `up took ${Date.now() - stoppedAt} ms to stop after SIGINT`);

  // The bundled sample is `streamwatch generate metrics` on its defaults, byte for byte.
  const expected = join(cwd, 'expected-sample.csv');
  const generated = await cli(['generate', 'metrics', '--out', expected]);
  assert.equal(generated.code, 0, generated.stderr);
  assert.ok(readFileSync(join(cwd, '.streamwatch', 'sample-metrics.csv')).equals(readFileSync(expected)), '.streamwatch/sample-metrics.csv differs from generate metrics');
});

test('up --dataset F --live: a usage error, exit 2, one line', async () => {
  const result = await cli(['up', '--dataset', 'metrics.csv', '--live']);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, 'streamwatch: give --dataset or --live, not both\n');
});

test('up --live on a data dir a dataset replay used: one line naming both, nothing started', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-up-mode-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dataset = join(dir, 'metrics.csv');
  const generated = await cli(['generate', 'metrics', '--out', dataset, '--servers', '2', '--duration', '60']);
  assert.equal(generated.code, 0, generated.stderr);
  const data = join(dir, 'data');
  const common = ['--data-dir', data, '--out-dir', join(dir, 'out'), '--port', '0', '--broker-port', '0', '--log-rate', '0'];
  const replayed = await cli(['up', '--dataset', dataset, '--speed', '0', '--until-idle', '1', ...common], { timeoutMs: 100_000 });
  assert.equal(replayed.code, 0, replayed.stderr);

  const live = await cli(['up', '--live', ...common], { timeoutMs: 30_000 });
  assert.equal(live.signal, null, live.stderr);
  assert.notEqual(live.code, 0);
  const lines = live.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, live.stderr);
  assert.match(lines[0]!, new RegExp(`^streamwatch: data dir ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was started with --dataset \\S+metrics\\.csv, not --live: give another --data-dir`));
});
