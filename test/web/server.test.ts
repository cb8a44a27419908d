// The dashboard server over real HTTP: health endpoints, /metrics, JSON,
// server-sent events, the token on every request, the loopback Host check,
// and the pluggable search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { FeedHub } from '../../src/web/feed.ts';
import { isLoopback, startDashboard, type SearchQuery } from '../../src/web/server.ts';
import { createPipelineMetrics } from '../../src/web/pipeline-metrics.ts';
import { StreamwatchError } from '../../src/errors.ts';

/** A raw GET, so the Host header can be chosen. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads SSE messages until `until` says enough (or the timeout). */
async function readEvents(url: string, until: (events: Array<{ event: string; data: unknown }>) => boolean, headers: Record<string, string> = {}): Promise<Array<{ event: string; data: unknown }>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  const events: Array<{ event: string; data: unknown }> = [];
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

test('health, metrics and JSON endpoints on loopback without a token', async () => {
  const hub = new FeedHub();
  hub.metric('server_1', 1000, { cpu: 12.5, mem: 40 });
  hub.metric('server_1', 1000, { net_in: 300, disk_io: 20 });
  let ready = false;
  const metrics = createPipelineMetrics();
  const server = await startDashboard({ hub, metrics, port: 0, ready: () => ready });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await get(`${server.url}/livez`)).status, 200);
    assert.equal((await get(`${server.url}/readyz`)).status, 503);
    ready = true;
    assert.equal((await get(`${server.url}/readyz`)).status, 200);
    const scrape = await get(`${server.url}/metrics`);
    assert.equal(scrape.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(scrape.body, /# TYPE kafka_consumergroup_lag gauge/);
    const series = JSON.parse((await get(`${server.url}/api/servers/server_1`)).body);
    assert.deepEqual(series.points, { t: [1000], cpu: [12.5], mem: [40], net_in: [300], disk_io: [20] });
    assert.equal((await get(`${server.url}/api/servers/nope`)).status, 404);
    const page = await get(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>streamwatch<\/title>/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal((await get(`${server.url}/vendor/uPlot.esm.js`)).status, 200);
    assert.equal((await get(`${server.url}/static/app.js`)).status, 200);
    assert.equal((await get(`${server.url}/static/..%2Fserver.ts`)).status, 404);
    assert.equal((await get(`${server.url}/static/../server.ts`)).status, 404);
  } finally {
    await server.close();
  }
});

test('loopback without a token: a foreign Host header is refused (DNS rebinding)', async () => {
  const server = await startDashboard({ hub: new FeedHub(), port: 0 });
  try {
    assert.equal((await get(`${server.url}/livez`, { host: 'evil.example:8080' })).status, 403);
    assert.equal((await get(`${server.url}/livez`, { host: `localhost:${server.port}` })).status, 200);
  } finally {
    await server.close();
  }
});

test('token: every request without it gets 401, SSE included; header or query token passes', async () => {
  const hub = new FeedHub();
  const server = await startDashboard({ hub, port: 0, token: 's3cret' });
  try {
    for (const path of ['/', '/livez', '/readyz', '/metrics', '/api/snapshot', '/api/events', '/static/app.js']) {
      const answer = await get(`${server.url}${path}`);
      assert.equal(answer.status, 401, path);
      assert.match(String(answer.headers['www-authenticate']), /^Bearer/);
    }
    assert.equal((await get(`${server.url}/livez`, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`${server.url}/livez?token=s3cre`)).status, 401);
    assert.equal((await get(`${server.url}/livez`, { authorization: 'Bearer s3cret' })).status, 200);
    assert.equal((await get(`${server.url}/livez?token=s3cret`)).status, 200);
    // With a token, the Host check is not needed (the token is the guard).
    assert.equal((await get(`${server.url}/livez?token=s3cret`, { host: 'dashboard.example' })).status, 200);
    // Opening the page with ?token= sets a cookie that the page's own requests carry.
    const page = await get(`${server.url}/?token=s3cret`);
    assert.equal(page.status, 200);
    const cookie = String(page.headers['set-cookie']);
    assert.match(cookie, /^streamwatch_token=s3cret; HttpOnly; SameSite=Strict; Path=\/$/);
    assert.equal((await get(`${server.url}/static/app.js`, { cookie: 'streamwatch_token=s3cret' })).status, 200);
    assert.equal((await get(`${server.url}/static/app.js`, { cookie: 'streamwatch_token=nope' })).status, 401);
    const events = await readEvents(`${server.url}/api/events?token=s3cret`, (e) => e.length >= 1);
    assert.equal(events[0]!.event, 'snapshot');
  } finally {
    await server.close();
  }
});

test('a host other than loopback needs a token', async () => {
  await assert.rejects(startDashboard({ hub: new FeedHub(), host: '0.0.0.0', port: 0 }), (error: unknown) => error instanceof StreamwatchError && error.code === 'SW_ERR_DASHBOARD_TOKEN');
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('[::1]'), true);
  assert.equal(isLoopback('localhost'), true);
  assert.equal(isLoopback('0.0.0.0'), false);
  assert.equal(isLoopback('192.168.1.4'), false);
});

test('a port in use is one clear error', async () => {
  const first = await startDashboard({ hub: new FeedHub(), port: 0 });
  try {
    await assert.rejects(startDashboard({ hub: new FeedHub(), port: first.port }), (error: unknown) => error instanceof StreamwatchError && error.code === 'SW_ERR_DASHBOARD_LISTEN' && /EADDRINUSE/.test(error.message));
  } finally {
    await first.close();
  }
});

test('SSE: a snapshot first, then live batches; the client gauge follows connections', async () => {
  const hub = new FeedHub({ tickMs: 10 });
  const metrics = createPipelineMetrics();
  hub.metric('server_1', 0, { cpu: 1 });
  const server = await startDashboard({ hub, metrics, port: 0 });
  try {
    const pushing = setInterval(() => hub.incident({ detector: 'cpu-mem', key: 'server_1', alert: 'CPU spike suspected', start: 0, end: 30_000, windows: 1, peak: 90, state: 'opened' }), 20);
    const events = await readEvents(`${server.url}/api/events`, (e) => e.some((m) => m.event === 'batch'));
    clearInterval(pushing);
    assert.equal(events[0]!.event, 'snapshot');
    assert.equal((events[0]!.data as { servers: Array<{ id: string }> }).servers[0]!.id, 'server_1');
    const batch = events.find((m) => m.event === 'batch')!.data as Array<{ type: string; incident: { id: string } }>;
    assert.equal(batch[0]!.type, 'incident');
    assert.equal(batch[0]!.incident.id, 'cpu-mem|server_1|CPU spike suspected|0');
    // The stream was closed by the client; the server notices.
    for (let i = 0; i < 50 && hub.clientCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(hub.clientCount, 0);
    assert.equal(metrics.sseClients.get(), 0);
  } finally {
    await server.close();
  }
});

test('search: 503 "storage not connected" without a backend; the query reaches the backend; its errors are 400', async () => {
  const without = await startDashboard({ hub: new FeedHub(), port: 0 });
  try {
    const answer = await get(`${without.url}/api/search?q=status:404`);
    assert.equal(answer.status, 503);
    assert.deepEqual(JSON.parse(answer.body), { error: 'storage not connected' });
    assert.equal(JSON.parse((await get(`${without.url}/api/snapshot`)).body).search, false);
  } finally {
    await without.close();
  }
  const seen: SearchQuery[] = [];
  const withSearch = await startDashboard({
    hub: new FeedHub(),
    port: 0,
    search: async (query) => {
      seen.push(query);
      if (query.q === 'bad') throw new Error('unknown field "bad"');
      return { columns: ['ts', 'client_ip', 'status'], rows: [['2022-08-03T06:51:51.865Z', '154.85.126.16', 404]], total: 1 };
    },
  });
  try {
    const answer = await get(`${withSearch.url}/api/search?q=status:404&from=10&limit=5000`);
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).rows[0][2], 404);
    assert.deepEqual(seen[0], { q: 'status:404', limit: 1000, from: 10 });
    const bad = await get(`${withSearch.url}/api/search?q=bad`);
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body), { error: 'unknown field "bad"' });
  } finally {
    await withSearch.close();
  }
});

test('SSE backpressure: a client that stops reading loses its oldest events (counted), never holds the hub back', { timeout: 30_000 }, async () => {
  const metrics = createPipelineMetrics();
  const hub = new FeedHub({ maxQueuedPerClient: 1000, onDrop: (n) => metrics.sseDroppedEvents.inc(undefined, n) });
  const server = await startDashboard({ hub, metrics, port: 0 });
  const { connect } = await import('node:net');
  const socket = connect(server.port, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    // Wait for the subscription, then stop reading.
    for (let i = 0; i < 100 && hub.clientCount === 0; i++) await new Promise((r) => setTimeout(r, 10));
    socket.pause();
    const started = performance.now();
    for (let batch = 0; batch < 300 && hub.droppedEvents === 0; batch++) {
      for (let i = 0; i < 1000; i++) hub.metric(`server_${i % 50}`, batch * 1000 + i, { cpu: 12.34, mem: 56.78, net_in: 1234.5, disk_io: 99.9 });
      hub.flush();
      // Let the socket report congestion between batches.
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(hub.droppedEvents > 0, 'a stalled client must start dropping');
    assert.equal(metrics.sseDroppedEvents.get(), hub.droppedEvents);
    assert.ok(performance.now() - started < 20_000);
  } finally {
    socket.destroy();
    await server.close();
  }
});
