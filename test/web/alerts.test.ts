// Alert notifications against local HTTP receivers: the Alertmanager webhook
// payload, a receiver that fails at first (retried, delivered once), a dead
// receiver that never blocks the caller, the /api/v2/alerts format and the
// bounded queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertNotifier, fingerprint, type WebhookPayload } from '../../src/web/alerts.ts';
import type { IncidentEvent } from '../../src/web/feed.ts';
import { createPipelineMetrics } from '../../src/web/pipeline-metrics.ts';

interface Received {
  path: string;
  contentType: string | undefined;
  body: unknown;
}

/** A receiver answering each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  let calls = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[Math.min(calls++, statuses.length - 1)] ?? 200;
      if (status === 200) received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const opened: IncidentEvent = {
  detector: 'cpu-mem', key: 'server_7', alert: 'High CPU + Memory stress',
  start: Date.UTC(2026, 10, 23, 17, 0, 0), end: Date.UTC(2026, 10, 23, 17, 0, 30),
  windows: 1, peak: 91.5, state: 'opened', timeKind: 'absolute',
};
const closed: IncidentEvent = { ...opened, end: Date.UTC(2026, 10, 23, 17, 2, 0), windows: 10, peak: 95.25, state: 'closed' };

test('webhook: Alertmanager version 4 payload on open and on resolve; updates send nothing', async () => {
  const sink = await receiver([200]);
  const notifier = new AlertNotifier({ webhooks: [`${sink.url}/hook`], externalUrl: 'http://dash.example:8080/', receiver: 'oncall' });
  try {
    notifier.notify(opened);
    notifier.notify({ ...opened, state: 'updated', windows: 2 });
    notifier.notify(closed);
    assert.equal(await notifier.idle(5000), true);
    assert.equal(sink.received.length, 2);
    const [firing, resolved] = sink.received.map((r) => r.body as WebhookPayload);
    assert.equal(sink.received[0]!.path, '/hook');
    assert.equal(sink.received[0]!.contentType, 'application/json');
    const id = fingerprint('cpu-mem', 'server_7', 'High CPU + Memory stress');
    assert.deepEqual(firing, {
      version: '4',
      groupKey: '{}:{alertname="HighCpuMemoryStress", detector="cpu-mem"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'oncall',
      groupLabels: { alertname: 'HighCpuMemoryStress', detector: 'cpu-mem' },
      commonLabels: { alertname: 'HighCpuMemoryStress', detector: 'cpu-mem', severity: 'critical', server: 'server_7' },
      commonAnnotations: {
        summary: 'High CPU + Memory stress on server_7',
        description: 'cpu-mem: High CPU + Memory stress on server_7 from 2026-11-23T17:00:00.000Z to 2026-11-23T17:00:30.000Z, 1 window, peak 91.5',
      },
      externalURL: 'http://dash.example:8080',
      alerts: [{
        status: 'firing',
        labels: { alertname: 'HighCpuMemoryStress', detector: 'cpu-mem', severity: 'critical', server: 'server_7' },
        annotations: {
          summary: 'High CPU + Memory stress on server_7',
          description: 'cpu-mem: High CPU + Memory stress on server_7 from 2026-11-23T17:00:00.000Z to 2026-11-23T17:00:30.000Z, 1 window, peak 91.5',
        },
        startsAt: '2026-11-23T17:00:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://dash.example:8080/#server=server_7',
        fingerprint: id,
      }],
    });
    assert.equal(resolved!.status, 'resolved');
    assert.equal(resolved!.alerts[0]!.status, 'resolved');
    assert.equal(resolved!.alerts[0]!.startsAt, '2026-11-23T17:00:00.000Z');
    assert.equal(resolved!.alerts[0]!.endsAt, '2026-11-23T17:02:00.000Z');
    assert.equal(resolved!.alerts[0]!.fingerprint, id, 'the fingerprint is stable per (detector, key, alert)');
    assert.match(resolved!.alerts[0]!.annotations.description, /10 windows, peak 95.25/);
    assert.deepEqual(notifier.counts, { sent: 2, failed: 0, dropped: 0 });
  } finally {
    await notifier.close(0);
    await sink.close();
  }
});

test('webhook: a receiver failing with 5xx at first gets the notification once, after retries', async () => {
  const sink = await receiver([503, 500, 200]);
  const metrics = createPipelineMetrics();
  const notifier = new AlertNotifier({
    webhooks: [sink.url], initialBackoffMs: 20, random: () => 1,
    onOutcome: (target, outcome) => metrics.alertNotifications.inc({ target, outcome }),
  });
  try {
    notifier.notify(opened);
    assert.equal(await notifier.idle(5000), true);
    assert.equal(sink.received.length, 1);
    assert.equal((sink.received[0]!.body as WebhookPayload).status, 'firing');
    assert.equal(metrics.alertNotifications.get({ target: 'webhook', outcome: 'sent' }), 1);
    assert.equal(metrics.alertNotifications.get({ target: 'webhook', outcome: 'failed' }), 0);
  } finally {
    await notifier.close(0);
    await sink.close();
  }
});

test('webhook: a 4xx is not retried; it counts as failed', async () => {
  const sink = await receiver([400, 200]);
  const notifier = new AlertNotifier({ webhooks: [sink.url], initialBackoffMs: 5 });
  try {
    notifier.notify(opened);
    await notifier.idle(5000);
    assert.deepEqual(notifier.counts, { sent: 0, failed: 1, dropped: 0 });
    assert.equal(sink.received.length, 0);
  } finally {
    await notifier.close(0);
    await sink.close();
  }
});

test('a dead receiver never blocks the caller; the queue is bounded and drops are counted', async () => {
  // A port that was just free: connections are refused.
  const gone = await receiver([200]);
  const deadUrl = gone.url;
  await gone.close();
  const lines: string[] = [];
  const notifier = new AlertNotifier({ webhooks: [deadUrl], maxQueue: 5, initialBackoffMs: 10_000, log: (l) => lines.push(l) });
  try {
    const started = performance.now();
    for (let i = 0; i < 50; i++) notifier.notify({ ...opened, key: `server_${i}` });
    assert.ok(performance.now() - started < 200, 'notify() returns at once');
    assert.equal(notifier.counts.dropped, 45);
    assert.ok(lines.some((l) => l.includes('dropped')));
  } finally {
    const closing = performance.now();
    await notifier.close(100);
    assert.ok(performance.now() - closing < 2000, 'close() gives up on a dead receiver');
  }
  assert.equal(notifier.counts.sent, 0);
  assert.equal(notifier.counts.dropped + notifier.counts.failed, 50);
});

test('alertmanager: /api/v2/alerts gets a JSON array; endsAt only on resolve; webhooks and Alertmanager both served', async () => {
  const am = await receiver([200]);
  const hook = await receiver([200]);
  const notifier = new AlertNotifier({ webhooks: [hook.url], alertmanager: `${am.url}/`, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
  try {
    const timeOfDay: IncidentEvent = { detector: 'ip-burst', key: '154.85.126.16', alert: 'count > 10', start: 3_600_000, end: 3_620_000, windows: 20, peak: 31, state: 'opened', timeKind: 'time-of-day' };
    notifier.notify(timeOfDay);
    notifier.notify({ ...timeOfDay, state: 'closed' });
    assert.equal(await notifier.idle(5000), true);
    assert.equal(am.received.length, 2);
    assert.equal(am.received[0]!.path, '/api/v2/alerts');
    const [fire, resolve] = am.received.map((r) => r.body as Array<Record<string, unknown>>);
    assert.ok(Array.isArray(fire) && fire.length === 1);
    assert.deepEqual(fire![0]!.labels, { alertname: 'IpBurst', detector: 'ip-burst', severity: 'warning', key: '154.85.126.16' });
    // A time of day has no date: the wall clock at notification stands in.
    assert.equal(fire![0]!.startsAt, '2026-01-02T03:04:05.000Z');
    assert.equal('endsAt' in fire![0]!, false);
    assert.equal(resolve![0]!.endsAt, '2026-01-02T03:04:05.000Z');
    assert.equal(hook.received.length, 2);
  } finally {
    await notifier.close(0);
    await am.close();
    await hook.close();
  }
});

test('alertmanager: open alerts are re-sent periodically (Alertmanager resolves alerts it stops hearing about)', async () => {
  const am = await receiver([200]);
  const notifier = new AlertNotifier({ alertmanager: am.url, resendMs: 50 });
  try {
    notifier.notify(opened);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(am.received.length >= 3, `got ${am.received.length}`);
    const last = am.received.at(-1)!.body as Array<{ labels: { server: string }; endsAt?: string }>;
    assert.equal(last[0]!.labels.server, 'server_7');
    assert.equal(last[0]!.endsAt, undefined);
    notifier.notify(closed);
    await notifier.idle(2000);
    const count = am.received.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(am.received.length, count, 'nothing is re-sent once resolved');
  } finally {
    await notifier.close(0);
    await am.close();
  }
});

test('a silence incident (no windows, no peak) is described as such', async () => {
  const sink = await receiver([200]);
  const notifier = new AlertNotifier({ webhooks: [sink.url] });
  try {
    notifier.notify({ detector: 'cpu-mem', key: 'server_3', alert: 'Server silent', start: Date.UTC(2026, 0, 1, 10, 0, 0), end: Date.UTC(2026, 0, 1, 10, 1, 0), windows: 0, peak: 0, state: 'opened', timeKind: 'absolute' });
    await notifier.idle(5000);
    const alert = (sink.received[0]!.body as WebhookPayload).alerts[0]!;
    assert.equal(alert.labels.alertname, 'ServerSilent');
    assert.equal(alert.annotations.description, 'cpu-mem: Server silent: no data from server_3 since 2026-01-01T10:00:00.000Z (noticed at 2026-01-01T10:01:00.000Z)');
  } finally {
    await notifier.close(0);
    await sink.close();
  }
});
