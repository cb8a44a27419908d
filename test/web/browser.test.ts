// End to end in headless Chromium (Debian's, never a downloaded one): the
// page loads from an in-process feed, the charts draw live points, and an
// injected anomaly shows up in the incident feed within seconds. Screenshots
// go to test-output/web/ for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { FeedHub, incidentId } from '../../src/web/feed.ts';
import { startDashboard } from '../../src/web/server.ts';
import { createPipelineMetrics } from '../../src/web/pipeline-metrics.ts';
import { pointAt, prng, seedFleet, START } from './fake-pipeline.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUT = new URL('../../test-output/web/', import.meta.url);
/** Polls a condition from Node (the page's CSP forbids evaluating strings, and tests need no DOM types). */
async function eventually(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

test('dashboard: page loads, charts draw live points, an injected incident appears', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`, timeout: 60_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  const hub = new FeedHub({ tickMs: 50 });
  const { servers, nextStep } = seedFleet(hub, { servers: 12, steps: 1440 });
  const searched: string[] = [];
  const server = await startDashboard({
    hub,
    metrics: createPipelineMetrics(),
    host: '127.0.0.1',
    port: 0,
    search: async (query) => {
      searched.push(query.q);
      return {
        columns: ['time', 'status', 'method', 'host', 'client_ip', 'country', 'request_time', 'request'],
        rows: [
          ['2022-08-03T06:51:53.000Z', 429, 'GET', 'api_38.digikala.com', '31.56.96.51', 'IR', '1.20', 'GET /search?q=phone HTTP/1.1'],
          ['2022-08-03T06:51:51.865Z', 404, 'PUT', 'api_38.digikala.com', '154.85.126.16', 'US', '0.28', 'PUT /cart HTTP/1.1'],
        ],
        total: 2,
      };
    },
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${server.url}/#server=server_3`);
    const chartPoints = async (): Promise<number> => Number((await page.getAttribute('#chart-cpu', 'data-points')) ?? 0);
    await eventually(async () => (await chartPoints()) > 0, 10_000, 'the cpu chart to draw its history');
    assert.equal(await page.locator('.tile').count(), servers.length);
    // Sorted by state, alerting servers come first; by name, natural order (server_2 before server_10).
    // The tiles take their state from the same snapshot a moment after the chart draws.
    await eventually(async () => /alerting/.test((await page.locator('.tile').first().getAttribute('class')) ?? ''), 5000, 'an alerting server first');
    await page.selectOption('#fleet-sort', 'name');
    await eventually(async () => (await page.locator('.tile .tile-name').allTextContents()).slice(0, 3).join() === 'server_1,server_2,server_3', 3000, 'tiles sorted by name');
    await page.selectOption('#fleet-sort', 'state');
    const before = await chartPoints();
    const pixelsBefore = await page.locator('#chart-cpu canvas').screenshot();
    await page.screenshot({ path: new URL('dashboard.png', OUT).pathname });

    // Live points for the shown server: the chart's data grows and its pixels change.
    const random = prng(99);
    for (let k = nextStep; k < nextStep + 24; k++) {
      hub.metric('server_3', START + k * 5000, pointAt(2, k + 60, random));
      await new Promise((r) => setTimeout(r, 20));
    }
    await eventually(async () => (await chartPoints()) >= before + 24, 5000, 'the live points on the cpu chart');
    const pixelsAfter = await page.locator('#chart-cpu canvas').screenshot();
    assert.notDeepEqual(pixelsAfter, pixelsBefore, 'the cpu chart should look different after live points');

    // A burst of a thousand points in one batch: the chart keeps up (one redraw per frame).
    const burstStart = Date.now();
    for (let k = nextStep + 24; k < nextStep + 1024; k++) hub.metric('server_3', START + k * 5000, pointAt(2, k + 60, random));
    await eventually(async () => (await chartPoints()) >= before + 1024, 10_000, 'the burst on the cpu chart');
    assert.ok(Date.now() - burstStart < 10_000);

    // An anomaly: a new incident opens for server_3; the feed shows it within seconds.
    const t = START + (nextStep + 1024) * 5000;
    const incident = { detector: 'cpu-mem', key: 'server_3', alert: 'High CPU + Memory stress', start: t - 30_000, end: t, windows: 1, peak: 97.31, state: 'opened' as const, timeKind: 'time-of-day' as const };
    hub.windowRow('cpu-mem', { server: 'server_3', start: t - 30_000, end: t, values: { avg_cpu: 97.31, avg_mem: 88.2 }, alert: incident.alert });
    const opened = Date.now();
    hub.incident(incident);
    const item = page.locator(`.incident[data-id="${incidentId(incident)}"]`);
    await item.waitFor({ timeout: 5000 });
    assert.ok(Date.now() - opened < 5000);
    assert.equal(await item.getAttribute('data-state'), 'opened');
    assert.match((await item.textContent()) ?? '', /server_3\s+High CPU \+ Memory stress/);
    await page.locator('.tile[data-server="server_3"].kind-crit').waitFor({ timeout: 5000 });
    await page.screenshot({ path: new URL('dashboard-incident.png', OUT).pathname });

    // The log explorer calls the search backend and shows its rows.
    await page.fill('#logs-query', 'status:4xx host:api_38.digikala.com');
    await page.click('#logs-form button');
    await page.locator('#logs-results tbody tr').nth(1).waitFor({ timeout: 5000 });
    assert.deepEqual(searched, ['status:4xx host:api_38.digikala.com']);

    // A server that stops reporting: the detectors open a 'Server silent' incident and its tile says so.
    hub.incident({ detector: 'cpu-mem', key: 'server_7', alert: 'Server silent', start: t - 60_000, end: t, windows: 0, peak: 0, state: 'opened', timeKind: 'time-of-day' });
    await page.locator('.tile[data-server="server_7"].kind-silent').waitFor({ timeout: 5000 });

    // It resolves: the same item turns closed.
    hub.incident({ ...incident, end: t + 10_000, windows: 2, state: 'closed' });
    await page.locator(`.incident[data-id="${incidentId(incident)}"][data-state="closed"]`).waitFor({ timeout: 5000 });
    // Back to the top: the search click scrolled, and a sticky header would land mid-page in a full-page shot.
    await page.mouse.wheel(0, -20_000);
    await page.waitForTimeout(200);
    await page.screenshot({ path: new URL('dashboard-full.png', OUT).pathname, fullPage: true });
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await server.close();
    hub.close();
  }
});

test('dashboard with a token: the page opened with ?token= loads and goes live; without it, 401', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`, timeout: 30_000 }, async () => {
  const hub = new FeedHub({ tickMs: 50 });
  seedFleet(hub, { servers: 3, steps: 30 });
  const server = await startDashboard({ hub, port: 0, token: 'tok en/+1' });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const refused = await page.goto(`${server.url}/`);
    assert.equal(refused?.status(), 401);
    await page.goto(`${server.url}/?token=${encodeURIComponent('tok en/+1')}`);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.tile').count(), 3);
    hub.incident({ detector: 'net-disk', key: 'server_1', alert: 'Possible DDoS', start: 0, end: 30_000, windows: 1, peak: 5000, state: 'opened' });
    await page.locator('.incident[data-id="net-disk|server_1|Possible DDoS|0"]').waitFor({ timeout: 5000 });
  } finally {
    await browser?.close();
    await server.close();
    hub.close();
  }
});
