// Decoding the pipeline's topics into dashboard feed calls (no Kafka), and
// the log explorer's query text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedHub } from '../../src/web/feed.ts';
import { TopicFeeder } from '../../src/web/topic-feed.ts';
import { parseLogQuery } from '../../src/web/log-search.ts';

test('metric topics merge into one point per server and instant; times of day roll over midnight per partition', () => {
  const hub = new FeedHub();
  const feeder = new TopicFeeder(hub);
  assert.equal(feeder.record('topic-cpu', 0, '{"ts":"23:59:55","server_id":"server_1","cpu_pct":34.74}'), true);
  assert.equal(feeder.record('topic-mem', 0, '{"ts":"23:59:55","server_id":"server_1","mem_pct":46.41}'), true);
  assert.equal(feeder.record('topic-net', 0, '{"ts":"23:59:55","server_id":"server_1","net_in":359.45,"net_out":489.36}'), true);
  assert.equal(feeder.record('topic-cpu', 0, '{"ts":"00:00:00","server_id":"server_1","cpu_pct":35}'), true);
  const points = hub.series('server_1')!.points;
  assert.deepEqual(points.t, [86_395_000, 86_400_000]);
  assert.deepEqual(points.cpu, [34.74, 35]);
  assert.deepEqual(points.mem, [46.41, null]);
  assert.deepEqual(points.net_in, [359.45, null]);
});

test('window rows, incidents and goals are decoded from the detectors\' JSON', () => {
  const hub = new FeedHub();
  const feeder = new TopicFeeder(hub);
  assert.equal(feeder.record('alerts-cpu-mem', 0, '{"server_id":"server_4","window_start":"20:53:00","window_end":"20:53:30","avg_cpu":88.1,"avg_mem":50.0,"alert":"CPU spike suspected"}'), true);
  assert.equal(feeder.record('incidents', 0, '{"detector":"cpu-mem","key":"server_4","alert":"CPU spike suspected","start":"20:53:00","end":"20:53:30","windows":1,"peak":88.1,"state":"opened"}'), true);
  assert.equal(feeder.record('goal1-topic', 0, '{"window_start":"2022-08-03T06:51:40.000Z","window_end":"2022-08-03T06:52:00.000Z","client_ip":"154.85.126.16","count":14}'), true);
  assert.equal(feeder.record('goal4-topic', 0, '{"window_start":"2022-08-03T06:51:00.000Z","window_end":"2022-08-03T06:52:00.000Z","host":"api_38.digikala.com","avg_request_time":0.281}'), true);
  const snapshot = hub.snapshot();
  assert.deepEqual(snapshot.servers[0]!.state.jobs['cpu-mem'], { alert: 'CPU spike suspected', end: 75_210_000, values: { avg_cpu: 88.1, avg_mem: 50 } });
  assert.deepEqual(snapshot.incidents.map((i) => [i.key, i.state, i.start, i.peak, i.timeKind]), [['server_4', 'opened', 75_180_000, 88.1, 'time-of-day']]);
  assert.deepEqual(snapshot.goals['ip-burst'], [{ start: Date.UTC(2022, 7, 3, 6, 51, 40), end: Date.UTC(2022, 7, 3, 6, 52, 0), key: '154.85.126.16', value: 14 }]);
  assert.equal(snapshot.goals['host-latency']![0]!.value, 0.281);
});

test('unreadable records are counted and skipped, never thrown', () => {
  const feeder = new TopicFeeder(new FeedHub());
  for (const value of [null, 'not json', '[]', '{"ts":"nope","server_id":"a","cpu_pct":1}', '{"ts":"20:00:00","server_id":"a"}']) {
    assert.equal(feeder.record('topic-cpu', 0, value), false);
  }
  assert.equal(feeder.record('incidents', 0, '{"detector":"cpu-mem","key":"a","alert":"x","start":"20:00:00","end":"20:00:30","state":"exploded"}'), false);
  assert.equal(feeder.unreadable, 6);
  assert.equal(feeder.record('some-other-topic', 0, '{}'), false);
});

test('health: message rates per topic between two readings', () => {
  const feeder = new TopicFeeder(new FeedHub());
  feeder.health(0, []);
  for (let i = 0; i < 10; i++) feeder.record('topic-cpu', 0, `{"ts":"20:00:0${i}","server_id":"a","cpu_pct":1}`);
  for (let i = 0; i < 4; i++) feeder.record('alerts-cpu-mem', 0, '{"server_id":"a","window_start":"20:00:00","window_end":"20:00:30","alert":""}');
  feeder.record('streamwatch-rejects', 0, '{"source":"topic-cpu:0","reason":"late: event time 19:00:00 is behind the watermark 20:00:00 for all of its windows"}');
  feeder.record('streamwatch-rejects', 0, '{"source":"topic-cpu:0","reason":"cpu_pct 120 is outside [0, 100]"}');
  feeder.record('streamwatch-rejects', 0, '{"source":"topic-cpu:0","reason":"value is not JSON"}');
  const reading = feeder.health(2000, [{ group: 'g', topic: 'topic-cpu', partition: 0, lag: 3 }]);
  assert.deepEqual([reading.late, reading.rejected], [1, 2]);
  assert.deepEqual(reading.topics, [{ topic: 'topic-cpu', inPerSec: 5 }, { topic: 'alerts-cpu-mem', inPerSec: 0, outPerSec: 2 }]);
  assert.equal(reading.lag[0]!.lag, 3);
});

test('log explorer queries: field terms become filters, other words free text', () => {
  assert.deepEqual(parseLogQuery({ q: 'status:4xx host:api_38.digikala.com ip:154.85.126.16 country:ir since:15m  timeout  cart', limit: 50 }), {
    limit: 50, status: '4xx', host: 'api_38.digikala.com', ip: '154.85.126.16', country: 'IR', sinceMs: 900_000, text: 'timeout cart',
  });
  assert.deepEqual(parseLogQuery({ q: 'ip:2001:db8::1 /api/v1:login', limit: 10, from: 5, to: 9 }), { limit: 10, ip: '2001:db8::1', text: '/api/v1:login', fromMs: 5, toMs: 9 });
  assert.throws(() => parseLogQuery({ q: 'status:', limit: 10 }), /needs a value/);
  assert.throws(() => parseLogQuery({ q: 'since:soon', limit: 10 }), /not a duration/);
});
