// The simulated fleet in process, on the embedded broker: every server's
// record on server-metrics and the per-metric topics (valid for the
// detectors' message parser), balancer lines that parse, exactly the model's
// events for the seed and start, --no-split, and a clean stop by signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseMetricMessage } from '../../../src/engine/metric-message.ts';
import { METRIC_FIELDS } from '../../../src/engine/metric-record.ts';
import { DayRollover } from '../../../src/engine/time.ts';
import { FleetSimulator } from '../../../src/io/generators/fleet.ts';
import { METRIC_TOPICS } from '../../../src/io/kafka-metrics.ts';
import { parseLbLine } from '../../../src/io/parsers/lb.ts';
import { runSimulation } from '../../../src/io/produce/simulate.ts';
import { KafkaAdmin } from '../../../src/kafka/index.ts';
import { brokerFor, key, readTopic, text, topicSize } from './helpers.ts';

const SERVERS = ['server_1', 'server_2', 'server_3', 'server_4'];

test('simulate: each report has a valid record of every server on every topic; lb lines parse; exactly the model for the seed', async (t) => {
  const { brokers } = await brokerFor(t);
  const before = Date.now();
  const episodes: string[] = [];
  const summary = await runSimulation({ brokers: [brokers], servers: 4, intervalMs: 100, lbRate: 200, seed: 3, reports: 5, log: (line) => episodes.push(line) });
  const after = Date.now();
  assert.equal(summary.reports, 5);
  assert.equal(summary.records, 20);
  assert.equal(summary.rejected, 0);
  assert.equal(summary.interrupted, false);
  assert.equal(summary.acknowledged, summary.sent);
  assert.equal(summary.sent, 20 * 5 + summary.lbLines);

  const whole = await readTopic(brokers, 'server-metrics');
  assert.equal(whole.length, 20);
  const instants = new Set<number>();
  for (const record of whole) {
    const parsed = parseMetricMessage(text(record), METRIC_FIELDS, new DayRollover());
    assert.ok(parsed.ok, `${text(record)}: ${parsed.ok || parsed.reason}`);
    assert.equal(parsed.message.kind, 'absolute');
    assert.equal(key(record), parsed.message.serverId);
    assert.match(text(record), /^\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","server_id":"server_\d","cpu_pct":[\d.]+,"mem_pct":[\d.]+,"net_in":[\d.]+,"net_out":[\d.]+,"disk_io":[\d.]+\}$/);
    assert.ok(parsed.message.instant >= before && parsed.message.instant <= after, 'wall-clock time');
    assert.equal(parsed.message.instant % 100, 0, 'on the interval grid');
    instants.add(parsed.message.instant);
  }
  assert.equal(instants.size, 5);
  assert.deepEqual([...new Set(whole.map(key))].sort(), SERVERS);
  for (const topic of METRIC_TOPICS) {
    const records = await readTopic(brokers, topic.topic);
    assert.equal(records.length, 20, topic.topic);
    for (const record of records) {
      const parsed = parseMetricMessage(text(record), topic.fields, new DayRollover());
      assert.ok(parsed.ok, text(record));
      assert.ok(instants.has(parsed.message.instant));
    }
  }

  // The published events are the model's for this seed and start, nothing more, nothing less.
  const start = Math.min(...instants);
  const fleet = new FleetSimulator({ servers: 4, intervalMs: 100, lbRate: 200, seed: 3, startMs: start });
  const expectedRecords: string[] = [];
  const expectedLines: string[] = [];
  for (let reports = 0; ;) {
    const event = fleet.next();
    if (event.kind === 'lb') {
      expectedLines.push(event.line);
      continue;
    }
    if (reports++ === 5) break;
    for (const row of event.rows) {
      const [ts, id, cpu, mem, netIn, netOut, disk] = row.split(',');
      expectedRecords.push(`{"ts":"${ts}","server_id":"${id}","cpu_pct":${cpu},"mem_pct":${mem},"net_in":${netIn},"net_out":${netOut},"disk_io":${disk}}`);
    }
  }
  assert.deepEqual(whole.map(text).sort(), expectedRecords.sort());
  const lines = await readTopic(brokers, 'lb-logs');
  assert.equal(lines.length, summary.lbLines);
  assert.deepEqual(lines.map(text).sort(), expectedLines.sort());
  for (const record of lines) {
    const parsed = parseLbLine(text(record));
    assert.ok(parsed.ok, text(record));
    assert.equal(key(record), parsed.event.backend);
    assert.ok(SERVERS.includes(parsed.event.backend));
  }
});

test('simulate --no-split publishes server-metrics only (and lb-logs); a signal stops it cleanly with everything acknowledged', async (t) => {
  const { brokers } = await brokerFor(t);
  const controller = new AbortController();
  const running = runSimulation({ brokers: [brokers], servers: 3, intervalMs: 50, lbRate: 50, split: false, signal: controller.signal });
  const deadline = Date.now() + 60_000;
  while ((await topicSize(brokers, 'server-metrics')) < 9) {
    assert.ok(Date.now() < deadline, 'the fleet reports');
    await sleep(50);
  }
  controller.abort();
  const summary = await running;
  assert.equal(summary.interrupted, true);
  assert.ok(summary.reports >= 3);
  assert.equal(summary.acknowledged, summary.sent);
  assert.equal(summary.sent, summary.records + summary.lbLines);
  assert.equal(await topicSize(brokers, 'server-metrics'), summary.records);
  assert.equal(await topicSize(brokers, 'lb-logs'), summary.lbLines);
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  try {
    assert.deepEqual(await admin.listTopics(), ['lb-logs', 'server-metrics']);
  } finally {
    await admin.close();
  }
});
