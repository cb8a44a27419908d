// `streamwatch up --live`: this host's metrics, collected from /proc once a
// second, on the metric topics keyed by the sanitized host name; the
// dashboard shows that server (JSON API, and a real Chromium when one is
// installed: a screenshot goes to test-output/up/live.png); SIGINT stops
// every part with exit 0 and a summary of the samples collected.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { serverIdFromHostname } from '../../src/io/collect/sample.ts';
import { readTopic, key, text } from '../io/produce/helpers.ts';
import { killChildren, startCli } from './helpers/kafka-cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../../test-output/up/', import.meta.url);

after(killChildren);

async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.json() };
}

interface Snapshot {
  servers: Array<{ id: string; latest: { t: number; cpu: number; mem: number } | null }>;
}

test('up --live: this host on the metric topics and in the dashboard; SIGINT exits 0', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-up-live-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const server = serverIdFromHostname(hostname());
  const up = startCli(['up', '--live', '--port', '0', '--broker-port', '0', '--data-dir', join(dir, 'data'), '--out-dir', join(dir, 'out')], { timeoutMs: 110_000 });
  const chunks: Buffer[] = [];
  up.child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
  const stderr = (): string => Buffer.concat(chunks).toString('utf8');
  let exited = false;
  void up.done.then(() => {
    exited = true;
  });
  const alive = (): true => {
    if (exited) assert.fail(`up exited early:\n${stderr()}`);
    return true;
  };

  await eventually(() => alive() && /dashboard\s+http:\/\/\S+/.test(stderr()) && /brokers\s+\S+/.test(stderr()), 60_000, 'up to print where it runs', stderr);
  const url = /dashboard\s+(http:\/\/\S+)/.exec(stderr())![1]!;
  const brokers = /brokers\s+(\S+)/.exec(stderr())![1]!;

  // Each of the four metric topics carries this host's samples, keyed by its id.
  for (const topic of ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk']) {
    await eventually(async () => alive() && (await readTopic(brokers, topic)).length >= 2, 60_000, `two samples on ${topic}`, stderr);
    for (const record of await readTopic(brokers, topic)) {
      assert.equal(key(record), server, `${topic}: ${text(record)}`);
      const value = JSON.parse(text(record)) as Record<string, unknown>;
      assert.equal(value.server_id, server, text(record));
    }
  }

  // The dashboard knows the server and has its latest values.
  let snapshot: Snapshot = { servers: [] };
  await eventually(async () => {
    alive();
    snapshot = (await getJson(`${url}/api/snapshot`)).body as Snapshot;
    return snapshot.servers.some((s) => s.id === server && s.latest !== null);
  }, 60_000, `${server} in /api/snapshot`, () => JSON.stringify(snapshot).slice(0, 2000));
  assert.deepEqual(snapshot.servers.map((s) => s.id), [server], 'only this host is in the fleet');
  const latest = snapshot.servers[0]!.latest!;
  assert.ok(latest.cpu >= 0 && latest.cpu <= 100, `cpu ${latest.cpu}`);
  assert.ok(latest.mem > 0 && latest.mem <= 100, `mem ${latest.mem}`);
  const series = await getJson(`${url}/api/servers/${encodeURIComponent(server)}`);
  assert.equal(series.status, 200);

  if (existsSync(CHROMIUM)) {
    mkdirSync(OUT, { recursive: true });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(`${url}/#server=${encodeURIComponent(server)}`);
      await eventually(async () => (await page.locator('.tile').count()) === 1, 60_000, 'one tile: this host');
      await eventually(async () => Number((await page.getAttribute('#chart-cpu', 'data-points')) ?? 0) >= 2, 60_000, 'the cpu chart to draw live points');
      await page.screenshot({ path: new URL('live.png', OUT).pathname, fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await browser?.close();
    }
  } else {
    t.diagnostic(`${CHROMIUM} is not installed: the browser part is skipped (apt-get install chromium)`);
  }

  alive();
  up.child.kill('SIGINT');
  const result = await up.done;
  assert.equal(result.signal, null, stderr());
  assert.equal(result.code, 0, stderr());
  const collected = /up: collected (\d+) samples/.exec(stderr());
  assert.ok(collected !== null && Number(collected[1]) >= 2, stderr());
});
