// The assembled dashboard: incidents pushed into `feed` reach the page's hub,
// the open-incidents gauge and the webhook; `display` shows without notifying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDashboardApp } from '../../src/web/app.ts';
import type { WebhookPayload } from '../../src/web/alerts.ts';

test('startDashboardApp: feed notifies, display does not; gauge and /metrics follow', async () => {
  const received: WebhookPayload[] = [];
  const sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push(JSON.parse(body) as WebhookPayload);
      res.end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const app = await startDashboardApp({ port: 0, webhooks: [`http://127.0.0.1:${(sink.address() as AddressInfo).port}/`] });
  try {
    const base = { detector: 'net-disk', key: 'server_4', alert: 'Possible DDoS', start: 0, end: 30_000, windows: 1, peak: 5012.5 };
    app.display.incident({ ...base, key: 'server_old', state: 'opened' });
    app.feed.incident({ ...base, state: 'opened' });
    assert.equal(await app.notifier!.idle(5000), true);
    assert.deepEqual(received.map((p) => [p.status, p.alerts[0]!.labels.server]), [['firing', 'server_4']]);
    assert.equal(received[0]!.externalURL, app.url);
    assert.equal(app.metrics.openIncidents.get({ detector: 'net-disk' }), 2);
    app.feed.incident({ ...base, end: 40_000, windows: 2, state: 'closed' });
    assert.equal(await app.notifier!.idle(5000), true);
    assert.equal(received[1]!.status, 'resolved');
    assert.equal(app.metrics.openIncidents.get({ detector: 'net-disk' }), 1);
    const scrape = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(scrape, /^streamwatch_alert_notifications_total\{target="webhook",outcome="sent"\} 2$/m);
    assert.equal(app.hub.incidentList().length, 2);
  } finally {
    await app.close(0);
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
});
