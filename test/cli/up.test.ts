// `streamwatch up` end to end, as a user runs it: the real CLI in a child
// process with its embedded broker, detectors, sink and dashboard; a real
// Chromium loads the dashboard while it runs; the output files must equal
// what the batch jobs write for the same dataset, also when `up` is
// stopped with SIGINT in the middle and started again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { cli, killChildren, startCli, type CliProcess } from './helpers/kafka-cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../../test-output/up/', import.meta.url);

after(killChildren);

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Everything `up` printed so far on stderr. */
function stderrOf(proc: CliProcess): () => string {
  const chunks: Buffer[] = [];
  proc.child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

function dataLines(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).length - 1;
}

/** A small dataset and what the batch jobs make of it. */
async function fixture(dir: string, servers: number, seconds: number): Promise<{ dataset: string; batch: Record<string, string> }> {
  const dataset = join(dir, 'metrics.csv');
  const generated = await cli(['generate', 'metrics', '--out', dataset, '--servers', String(servers), '--duration', String(seconds)]);
  assert.equal(generated.code, 0, generated.stderr);
  const batch: Record<string, string> = {};
  for (const job of ['cpu-mem', 'net-disk'] as const) {
    const out = join(dir, `batch-${job}.csv`);
    const incidents = join(dir, `batch-incidents-${job}.csv`);
    const result = await cli(['job', job, '--input', dataset, '--out', out, '--incidents', incidents]);
    assert.equal(result.code, 0, result.stderr);
    batch[job === 'cpu-mem' ? 'CPU_MEM.csv' : 'NET_DISK.csv'] = readFileSync(out, 'utf8');
    batch[`incidents-${job}.csv`] = readFileSync(incidents, 'utf8');
  }
  return { dataset, batch };
}

function assertOutputsEqual(outDir: string, batch: Record<string, string>): void {
  for (const [name, expected] of Object.entries(batch)) {
    const path = join(outDir, name);
    assert.ok(existsSync(path), `${name} was not written`);
    assert.equal(readFileSync(path, 'utf8'), expected, `${name} differs from the batch job's output`);
  }
}

const upArgs = (dir: string, dataset: string, extra: string[]): string[] => [
  'up', '--dataset', dataset, '--data-dir', join(dir, 'data'), '--out-dir', join(dir, 'out'),
  '--port', '0', '--broker-port', '0', '--partitions', '2', ...extra,
];

test('up: a dataset end to end, with the dashboard in Chromium; outputs equal the batch jobs', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-up-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { dataset, batch } = await fixture(dir, 4, 900);
  // 900 s of data at 60x: about 15 s of replay, time for the browser to watch it live.
  const up = startCli(upArgs(dir, dataset, ['--speed', '60', '--until-idle', '4']), { timeoutMs: 170_000 });
  const stderr = stderrOf(up);
  await eventually(() => /dashboard\s+http:\/\/\S+/.test(stderr()), 60_000, 'up to print the dashboard address');
  const url = /dashboard\s+(http:\/\/\S+)/.exec(stderr())![1]!;

  if (existsSync(CHROMIUM)) {
    mkdirSync(OUT, { recursive: true });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(`${url}/#server=server_2`);
      await eventually(async () => (await page.locator('.tile').count()) === 4, 60_000, 'a tile per server');
      await eventually(async () => Number((await page.getAttribute('#chart-cpu', 'data-points')) ?? 0) > 0, 60_000, 'the cpu chart to draw live points');
      await page.screenshot({ path: new URL('up-dashboard.png', OUT).pathname });
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
    }
  } else {
    t.diagnostic(`${CHROMIUM} is not installed: the dashboard part is skipped (apt-get install chromium)`);
  }

  const result = await up.done;
  assert.equal(result.code, 0, stderr());
  assert.match(stderr(), /up: replayed 720 rows/);
  assertOutputsEqual(join(dir, 'out'), batch);
});

test('up: SIGINT in the middle, then started again: the outputs equal an uninterrupted run', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-up-resume-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { dataset, batch } = await fixture(dir, 3, 1200);
  const first = startCli(upArgs(dir, dataset, ['--speed', '40']), { timeoutMs: 170_000 });
  const stderr = stderrOf(first);
  // Stop it once some windows are out but the replay is far from done.
  await eventually(() => dataLines(join(dir, 'out', 'CPU_MEM.csv')) >= 20, 90_000, 'the first window rows');
  const stoppedAt = Date.now();
  first.child.kill('SIGINT');
  const stopped = await first.done;
  assert.equal(stopped.code, 0, stderr());
  assert.ok(Date.now() - stoppedAt < 15_000, `up took ${Date.now() - stoppedAt} ms to stop`);
  assert.ok(dataLines(join(dir, 'out', 'CPU_MEM.csv')) < batch['CPU_MEM.csv']!.split('\n').length - 2, 'the first run should have stopped before the end');

  const second = await cli(upArgs(dir, dataset, ['--speed', '0', '--until-idle', '4']), { timeoutMs: 170_000 });
  assert.equal(second.code, 0, second.stderr);
  assertOutputsEqual(join(dir, 'out'), batch);
});
