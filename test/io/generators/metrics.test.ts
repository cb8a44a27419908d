// The metrics generator: deterministic rows, realistic and valid values,
// anomaly episodes of every kind, exact two-decimal formatting, and per-topic
// files that hold the same rows as the combined file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySink, putHundredths } from '../../../src/io/generators/chunk-writer.ts';
import {
  ANOMALY_KINDS, MetricsProducer, defaultMetricsOptions, formatTimeOfDay, metricsRows, stepCount, timeOfStep,
} from '../../../src/io/generators/metrics.ts';
import type { Episode, MetricsOptions } from '../../../src/io/generators/metrics.ts';
import { COMBINED_HEADER, writeMetricsCombined, writeMetricsPerTopic } from '../../../src/io/generators/metrics-csv.ts';
import { mulberry32 } from '../../../src/io/generators/prng.ts';

const small: MetricsOptions = { ...defaultMetricsOptions, servers: 5, duration: 3600 };

test('putHundredths prints every value exactly as two decimals', () => {
  const bytes = new Uint8Array(32);
  const random = mulberry32(7);
  const samples = [0, 1, 5, 9, 10, 99, 100, 101, 3350, 8345, 8346, 99_999, 100_000, 414_979, 2_147_483_647];
  for (let i = 0; i < 2000; i++) samples.push(Math.floor(random() * 1_000_000));
  for (const value of samples) {
    const end = putHundredths(bytes, 3, value);
    const expected = `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;
    assert.equal(Buffer.from(bytes.subarray(3, end)).toString('latin1'), expected);
  }
});

test('mulberry32 is deterministic by seed and stays in [0, 1)', () => {
  const a = mulberry32(1);
  const b = mulberry32(1);
  const c = mulberry32(2);
  const drawsA = Array.from({ length: 1000 }, a);
  assert.deepEqual(drawsA, Array.from({ length: 1000 }, b));
  assert.notDeepEqual(drawsA, Array.from({ length: 1000 }, c));
  assert.ok(drawsA.every((x) => x >= 0 && x < 1));
});

test('defaults: 20 servers, 1,440 steps of 5 s from 20:53:00 to 22:52:55', () => {
  assert.equal(stepCount(defaultMetricsOptions), 1440);
  assert.equal(formatTimeOfDay(timeOfStep(defaultMetricsOptions, 0)), '20:53:00');
  assert.equal(formatTimeOfDay(timeOfStep(defaultMetricsOptions, 1439)), '22:52:55');
});

test('times wrap past midnight to 00:00:00', () => {
  const options = { ...small, startSeconds: 23 * 3600 + 59 * 60 + 50, duration: 20 };
  const times = [...new Set([...metricsRows(options)].map((row) => row.ts))];
  assert.deepEqual(times, ['23:59:50', '23:59:55', '00:00:00', '00:00:05']);
});

test('rows come in time order, then server_1..server_N', () => {
  const rows = [...metricsRows({ ...small, duration: 15 })];
  assert.deepEqual(rows.map((r) => `${r.ts} ${r.serverId}`), [
    '20:53:00 server_1', '20:53:00 server_2', '20:53:00 server_3', '20:53:00 server_4', '20:53:00 server_5',
    '20:53:05 server_1', '20:53:05 server_2', '20:53:05 server_3', '20:53:05 server_4', '20:53:05 server_5',
    '20:53:10 server_1', '20:53:10 server_2', '20:53:10 server_3', '20:53:10 server_4', '20:53:10 server_5',
  ]);
});

test('same seed gives the same rows; another seed other rows', () => {
  const a = [...metricsRows(small)];
  assert.deepEqual(a, [...metricsRows(small)]);
  assert.notDeepEqual(a, [...metricsRows({ ...small, seed: 2 })]);
});

/** Every step's lifted kinds per server, from the episodes the producer reports. */
function episodesOf(options: MetricsOptions): Episode[] {
  const episodes: Episode[] = [];
  const producer = new MetricsProducer(options, (episode) => episodes.push(episode));
  const values = new Int32Array(options.servers * 5);
  while (producer.next(values) >= 0);
  return episodes;
}

test('normal values are realistic and stay below every threshold; episodes lift exactly their metrics', () => {
  const options = defaultMetricsOptions;
  const episodes = episodesOf(options);
  const liftedAt = new Map<string, string>();
  for (const e of episodes) for (let s = e.startStep; s < e.endStep; s++) liftedAt.set(`${e.server}/${s}`, e.kind);
  const producer = new MetricsProducer(options);
  const values = new Int32Array(options.servers * 5);
  for (let step = producer.next(values); step >= 0; step = producer.next(values)) {
    for (let server = 1; server <= options.servers; server++) {
      const [cpu, mem, netIn, netOut, disk] = values.subarray((server - 1) * 5, server * 5);
      const kind = liftedAt.get(`${server}/${step}`) ?? '';
      const where = `server_${server} step ${step} (${kind || 'normal'})`;
      if (kind.includes('cpu')) assert.ok(cpu! > 8345 && cpu! <= 10000, where);
      else assert.ok(cpu! >= 500 && cpu! <= 7000, `cpu ${cpu} at ${where}`);
      if (kind.includes('mem')) assert.ok(mem! > 7892 && mem! <= 10000, where);
      else assert.ok(mem! >= 2000 && mem! <= 7000, `mem ${mem} at ${where}`);
      if (kind.includes('net')) assert.ok(netIn! > 414_979, where);
      else assert.ok(netIn! >= 10_000 && netIn! < 300_000, `net_in ${netIn} at ${where}`);
      assert.ok(netOut! >= 10_000 && netOut! < 500_000, `net_out ${netOut} at ${where}`);
      if (kind.includes('disk')) assert.ok(disk! > 192_547, where);
      else assert.ok(disk! >= 1_000 && disk! < 50_000, `disk_io ${disk} at ${where}`);
    }
  }
});

test('episodes of all six kinds, 45-120 s long, a few per server-hour, on every server', () => {
  const options = defaultMetricsOptions;
  const episodes = episodesOf(options);
  for (const kind of ANOMALY_KINDS) {
    assert.ok(episodes.filter((e) => e.kind === kind).length >= 5, `kind ${kind}`);
  }
  for (const e of episodes) {
    const seconds = (e.endStep - e.startStep) * options.cadence;
    assert.ok(seconds >= 45 && seconds <= 120, `episode of ${seconds} s`);
  }
  const perServer = new Map<number, number>();
  for (const e of episodes) perServer.set(e.server, (perServer.get(e.server) ?? 0) + 1);
  assert.equal(perServer.size, options.servers);
  const perServerHour = episodes.length / options.servers / (options.duration / 3600);
  assert.ok(perServerHour >= 2 && perServerHour <= 5, `${perServerHour} episodes per server-hour`);
  // Spread over time: some episode starts in each quarter of the dataset.
  const steps = stepCount(options);
  for (let q = 0; q < 4; q++) {
    assert.ok(episodes.some((e) => e.startStep >= (q * steps) / 4 && e.startStep < ((q + 1) * steps) / 4), `quarter ${q}`);
  }
});

test('the combined CSV prints the producer rows with two decimals', async () => {
  const sink = new MemorySink();
  const count = await writeMetricsCombined(small, sink);
  const lines = sink.text().split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines[0], COMBINED_HEADER);
  const rows = [...metricsRows(small)];
  assert.equal(count, rows.length);
  assert.equal(lines.length - 1, rows.length);
  rows.forEach((row, i) => {
    assert.equal(lines[i + 1], [row.ts, row.serverId, ...row.hundredths.map((h) => (h / 100).toFixed(2))].join(','));
  });
});

test('a dataset larger than one chunk is split across chunks without losing bytes', async () => {
  const options = { ...small, servers: 300 };
  const sink = new MemorySink();
  const count = await writeMetricsCombined(options, sink);
  assert.ok(sink.chunks.length > 1);
  const lines = sink.text().split('\n');
  assert.equal(lines.length, count + 2);
  assert.ok(lines.slice(1, -1).every((line) => /^\d\d:\d\d:\d\d,server_\d+(,\d+\.\d\d){5}$/.test(line)));
});

test('the per-topic files hold the same rows as the combined file, with their headers', async () => {
  const combined = new MemorySink();
  await writeMetricsCombined(small, combined);
  const sinks = { 'topic-cpu': new MemorySink(), 'topic-mem': new MemorySink(), 'topic-net': new MemorySink(), 'topic-disk': new MemorySink() };
  const count = await writeMetricsPerTopic(small, sinks);
  const rows = combined.text().trim().split('\n').slice(1).map((line) => line.split(','));
  assert.equal(count, rows.length);
  const expected = {
    'topic-cpu': ['ts,server_id,cpu_pct', (r: string[]) => [r[0], r[1], r[2]]],
    'topic-mem': ['ts,server_id,mem_pct', (r: string[]) => [r[0], r[1], r[3]]],
    'topic-net': ['ts,server_id,net_in,net_out', (r: string[]) => [r[0], r[1], r[4], r[5]]],
    'topic-disk': ['ts,server_id,disk_io', (r: string[]) => [r[0], r[1], r[6]]],
  } as const;
  for (const [topic, [header, project]] of Object.entries(expected)) {
    const text = sinks[topic as keyof typeof sinks].text();
    assert.equal(text, `${header}\n${rows.map((r) => project(r).join(',')).join('\n')}\n`, topic);
  }
});
