// The simulated fleet (simulate's model) and the generators' endless mode:
// deterministic by seed, valid records of every server but a silent one,
// balancer lines that parse and follow the servers' load, anomaly episodes
// of every kind within an hour, and rates that hold above 1,000 a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetSimulator, hundredths, type FleetEpisode, type FleetEvent, type FleetOptions } from '../../../src/io/generators/fleet.ts';
import { lbEvents, lbLines } from '../../../src/io/generators/lb.ts';
import { COMBINED_HEADER } from '../../../src/io/generators/metrics-csv.ts';
import { ANOMALY_KINDS } from '../../../src/io/generators/metrics.ts';
import { nginxEvents } from '../../../src/io/generators/nginx.ts';
import { MetricRowParser, metricColumns } from '../../../src/io/metric-csv.ts';
import { parseLbLine } from '../../../src/io/parsers/lb.ts';
import { parseNginxLine } from '../../../src/io/parsers/nginx.ts';

const START = Date.UTC(2026, 10, 23, 23, 30);
const options: FleetOptions = { servers: 10, intervalMs: 1000, lbRate: 20, seed: 1, startMs: START };

function run(opts: FleetOptions, untilMs: number, onEpisode?: (e: FleetEpisode) => void): FleetEvent[] {
  const fleet = new FleetSimulator(opts, onEpisode);
  const events: FleetEvent[] = [];
  for (let event = fleet.next(); event.at < untilMs; event = fleet.next()) events.push(event);
  return events;
}

test('hundredths prints two decimals', () => {
  assert.deepEqual([0, 5, 10, 99, 100, 3350, 414_979].map(hundredths), ['0.00', '0.05', '0.10', '0.99', '1.00', '33.50', '4149.79']);
});

test('fleet: same seed and start, same events; another seed, other values; metrics do not depend on the balancer rate', () => {
  const until = START + 120_000;
  const a = run(options, until);
  assert.deepEqual(run(options, until), a);
  assert.notDeepEqual(run({ ...options, seed: 2 }, until), a);
  const reports = (events: FleetEvent[]) => events.filter((e) => e.kind === 'report');
  assert.deepEqual(reports(run({ ...options, lbRate: 0 }, until)), reports(a));
  assert.deepEqual(reports(run({ ...options, lbRate: 300 }, until)), reports(a));
  assert.equal(run({ ...options, lbRate: 0 }, until).length, 120);
});

test('fleet over an hour: records of every server validate, in time order; all anomaly kinds and a silence; lb lines parse', () => {
  const episodes: FleetEpisode[] = [];
  const events = run(options, START + 3_600_000, (e) => episodes.push(e));
  const parser = new MetricRowParser(metricColumns(COMBINED_HEADER, [], 'test'), { kind: null });
  const silences = episodes.filter((e) => e.kind === 'silent');
  const silentAt = (server: string, at: number): boolean => silences.some((s) => s.server === server && at >= s.startMs && at < s.endMs);
  let last = 0;
  let reports = 0;
  let lines = 0;
  for (const event of events) {
    assert.ok(event.at >= last, 'time order');
    last = event.at;
    if (event.kind === 'report') {
      assert.equal(event.at, START + reports * 1000, 'on the interval grid');
      reports++;
      const reporting = event.rows.map((row) => {
        assert.ok(parser.parse(row), `${row}: ${parser.reason}`);
        assert.equal(parser.row.instant, event.at);
        assert.ok(row.startsWith(`${new Date(event.at).toISOString()},`));
        return parser.row.serverId;
      });
      const expected = Array.from({ length: 10 }, (_, i) => `server_${i + 1}`).filter((s) => !silentAt(s, event.at));
      assert.deepEqual(reporting, expected);
    } else {
      lines++;
      const parsed = parseLbLine(event.line);
      assert.ok(parsed.ok, event.line);
      assert.equal(parsed.event.instant, event.at);
      assert.equal(parsed.event.backend, event.backend);
      if (silentAt(event.backend, event.at)) assert.equal(parsed.event.status, 502);
    }
  }
  assert.equal(reports, 3600);
  assert.ok(lines > 3600 * 20 * 0.9 && lines < 3600 * 20 * 1.1, `about 20 lines a second: ${lines}`);
  assert.deepEqual(new Set(episodes.map((e) => e.kind)), new Set([...ANOMALY_KINDS, 'silent']));
  assert.ok(silences.length >= 1 && silences.every((s) => s.endMs - s.startMs >= 90_000 && s.endMs - s.startMs <= 180_000));
  assert.ok(episodes.some((e) => e.kind !== 'silent' && e.startMs < START + 300_000), 'an anomaly within the first five minutes');
});

test('fleet: balancer latency and failures follow the backend server load', () => {
  const episodes: FleetEpisode[] = [];
  const events = run({ ...options, lbRate: 100 }, START + 3_600_000, (e) => episodes.push(e));
  const busy = episodes.filter((e) => e.kind === 'cpu' || e.kind === 'cpu+mem' || e.kind === 'net');
  const inBusy = (server: string, at: number): boolean => busy.some((e) => e.server === server && at >= e.startMs + 1000 && at < e.endMs);
  // Normal: no episode of any kind (a report lags its episode's end by up to one interval).
  const inAny = (server: string, at: number): boolean => episodes.some((e) => e.server === server && at >= e.startMs && at < e.endMs + 1000);
  const stats = { busy: { n: 0, latency: 0, failed: 0 }, normal: { n: 0, latency: 0, failed: 0 } };
  for (const event of events) {
    if (event.kind !== 'lb') continue;
    const parsed = parseLbLine(event.line);
    assert.ok(parsed.ok);
    const bucket = inBusy(event.backend, event.at) ? stats.busy : inAny(event.backend, event.at) ? null : stats.normal;
    if (bucket === null) continue;
    bucket.n++;
    bucket.latency += Number(event.line.split(' ')[6]);
    if (parsed.event.status >= 500) bucket.failed++;
  }
  assert.ok(stats.busy.n > 500 && stats.normal.n > 50_000, JSON.stringify(stats));
  const meanBusy = stats.busy.latency / stats.busy.n;
  const meanNormal = stats.normal.latency / stats.normal.n;
  assert.ok(meanBusy > 2.5 * meanNormal, `latency under load ${meanBusy} vs ${meanNormal}`);
  assert.ok(stats.busy.failed / stats.busy.n > 2 * (stats.normal.failed / stats.normal.n), `failures under load: ${JSON.stringify(stats)}`);
});

test('endless generators: lbEvents gives lbLines with their instants; exact gaps keep high rates right', () => {
  const batch = { lines: 2000, seed: 4, startMs: START };
  const events = [...lbEvents(batch)];
  assert.deepEqual(events.map((e) => e.line), [...lbLines(batch)]);
  for (const e of events) assert.equal(parseLbLine(e.line).ok && Date.parse(e.line.slice(0, 24)), e.at);

  // 20,000 events at 5,000 a second span about 4 s of event time (the batch's whole-ms gaps would give ~0).
  const nginx = [...nginxEvents({ events: 20_000, seed: 1, startSeconds: START / 1000, rate: 5000, exactGaps: true })];
  const span = nginx.at(-1)!.at - nginx[0]!.at;
  assert.ok(span > 3500 && span < 4500, `span ${span} ms`);
  let last = 0;
  for (const e of nginx) {
    const parsed = parseNginxLine(e.line);
    assert.ok(parsed.ok && parsed.event.instant === e.at, e.line);
    assert.ok(e.at >= last);
    last = e.at;
  }
  const lb = [...lbEvents({ lines: 20_000, seed: 1, startMs: START, rate: 5000, exactGaps: true })];
  const lbSpan = lb.at(-1)!.at - lb[0]!.at;
  assert.ok(lbSpan > 3500 && lbSpan < 4500, `lb span ${lbSpan} ms`);
});
