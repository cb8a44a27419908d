// The in-memory hub: bounded history per server, merging of per-topic
// points, incident bookkeeping, goal boards, and backpressure for slow
// subscribers (drop oldest, counted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedHub, FeedSubscription, PointRing, incidentEvent, type FeedEvent } from '../../src/web/feed.ts';

test('PointRing merges fields of one instant, keeps the newest points, returns them in time order', () => {
  const ring = new PointRing(3);
  ring.put(1000, { cpu: 1 });
  ring.put(1000, { mem: 2 });
  ring.put(3000, { cpu: 3 });
  ring.put(2000, { cpu: 2 });
  assert.deepEqual(ring.toColumns(), { t: [1000, 2000, 3000], cpu: [1, 2, 3], mem: [2, null, null], net_in: [null, null, null], disk_io: [null, null, null] });
  ring.put(4000, { cpu: 4, net_in: 9 });
  assert.deepEqual(ring.toColumns().t, [2000, 3000, 4000]);
  assert.deepEqual(ring.latest(), { t: 4000, cpu: 4, net_in: 9 });
});

test('a congested subscriber queues, drops its oldest events beyond the bound, and resumes on drain', () => {
  const written: FeedEvent[][] = [];
  let open = false;
  let drops = 0;
  const subscription = new FeedSubscription((events) => {
    written.push([...events]);
    return open;
  }, 3, (n) => (drops += n));
  const event = (t: number): FeedEvent => ({ type: 'metric', server: 's', t, fields: { cpu: t } });
  subscription.deliver([event(1)]); // written; the sink says it is now congested
  subscription.deliver([event(2), event(3)]);
  subscription.deliver([event(4), event(5)]);
  assert.equal(written.length, 1);
  assert.equal(subscription.queued, 3);
  assert.equal(subscription.dropped, 1, 'event 2, the oldest, made room');
  assert.equal(drops, 1);
  open = true;
  subscription.resume();
  assert.deepEqual(written[1]!.map((e) => (e.type === 'metric' ? e.t : -1)), [3, 4, 5]);
  subscription.deliver([event(6)]);
  assert.equal(written.length, 3);
});

test('hub: incidents move from open to closed; live events are batched per tick', async () => {
  const hub = new FeedHub({ tickMs: 10 });
  const batches: Array<readonly FeedEvent[]> = [];
  const subscription = hub.subscribe((events) => {
    batches.push(events);
    return true;
  });
  const base = { detector: 'cpu-mem', key: 'server_1', alert: 'CPU spike suspected', start: 0, end: 30_000, windows: 1, peak: 90 };
  hub.incident({ ...base, state: 'opened' });
  hub.incident({ ...base, end: 40_000, windows: 2, state: 'updated' });
  assert.equal(hub.snapshot().incidents.length, 1);
  hub.incident({ ...base, end: 40_000, windows: 2, state: 'closed' });
  const [only] = hub.snapshot().incidents;
  assert.equal(only!.state, 'closed');
  assert.equal(batches.length, 0);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 3);
  hub.unsubscribe(subscription);
  hub.close();
});

test('hub: goals keep the peak of hopping detectors and the newest window of tumbling ones', () => {
  const hub = new FeedHub();
  hub.goal('ip-burst', { start: 0, end: 20_000, key: '1.2.3.4', value: 12 });
  hub.goal('ip-burst', { start: 1000, end: 21_000, key: '1.2.3.4', value: 11 });
  hub.goal('ip-burst', { start: 1000, end: 21_000, key: '5.6.7.8', value: 30 });
  hub.goal('country-success', { start: 0, end: 60_000, key: 'IR', value: 100 });
  hub.goal('country-success', { start: 60_000, end: 120_000, key: 'IR', value: 40 });
  const goals = hub.snapshot().goals;
  assert.deepEqual(goals['ip-burst']!.map((r) => [r.key, r.value]), [['5.6.7.8', 30], ['1.2.3.4', 12]]);
  assert.deepEqual(goals['country-success']!.map((r) => [r.key, r.value]), [['IR', 40]]);
});

test('hub: the number of servers tracked is bounded', () => {
  const hub = new FeedHub({ maxServers: 2 });
  for (const id of ['a', 'b', 'c']) hub.metric(id, 0, { cpu: 1 });
  assert.deepEqual(hub.serverIds(), ['a', 'b']);
});

test('incidentEvent converts the engine record (decimal peak) to a feed event', () => {
  const event = incidentEvent({ detector: 'net-disk', key: 'server_2', alert: 'Possible DDoS', start: 0, end: 30_000, windows: 3, peakUnits: 415012, peakScale: 2 }, 'opened', 'time-of-day');
  assert.deepEqual(event, { detector: 'net-disk', key: 'server_2', alert: 'Possible DDoS', start: 0, end: 30_000, windows: 3, peak: 4150.12, state: 'opened', timeKind: 'time-of-day' });
});

test('detectHooks: a detector\'s rows and incidents reach the feed and the notifier', async () => {
  const { detectHooks } = await import('../../src/web/detect-hooks.ts');
  const { CPU_MEM } = await import('../../src/jobs/metric-pairs.ts');
  const hub = new FeedHub();
  const notified: string[] = [];
  const hooks = detectHooks(hub, (e) => notified.push(`${e.key}:${e.state}`));
  hooks.onRow(CPU_MEM, { key: 'server_9', keyNumber: -1, start: 0, end: 30_000, value0: 8812, value1: 5000, alert: 'CPU spike suspected' }, 'time-of-day');
  hooks.onIncident({ detector: 'cpu-mem', key: 'server_9', alert: 'CPU spike suspected', start: 0, end: 30_000, windows: 1, peakUnits: 8812, peakScale: 2 }, 'opened', 'time-of-day');
  const snapshot = hub.snapshot();
  assert.deepEqual(snapshot.servers[0]!.state.jobs['cpu-mem'], { alert: 'CPU spike suspected', end: 30_000, values: { avg_cpu: 88.12, avg_mem: 50 } });
  assert.equal(snapshot.incidents[0]!.peak, 88.12);
  assert.deepEqual(notified, ['server_9:opened']);
});

test('PointRing: a topic\'s backlog arriving before the next topic\'s still merges by instant (regression: duplicated instants, empty sparklines)', () => {
  const ring = new PointRing(100);
  for (let k = 0; k < 50; k++) ring.put(k * 5000, { cpu: k });
  for (let k = 0; k < 50; k++) ring.put(k * 5000, { mem: 100 - k });
  assert.equal(ring.size, 50);
  const columns = ring.toColumns(3);
  assert.deepEqual(columns.t, [235_000, 240_000, 245_000]);
  assert.deepEqual(columns.cpu, [47, 48, 49]);
  assert.deepEqual(columns.mem, [53, 52, 51]);
  for (let k = 50; k < 150; k++) ring.put(k * 5000, { cpu: k });
  assert.equal(ring.size, 100);
  assert.equal(ring.toColumns().t[0], 250_000, 'the oldest stored points were overwritten');
});
