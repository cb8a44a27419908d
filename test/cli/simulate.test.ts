// `streamwatch simulate` as a user runs it, on the embedded broker: --reports
// stops after N intervals with a record of every server on every topic and
// balancer lines that parse; SIGTERM stops it cleanly with everything it
// sent acknowledged and in the topics; bad usage exits 2.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseMetricMessage } from '../../src/engine/metric-message.ts';
import { METRIC_FIELDS } from '../../src/engine/metric-record.ts';
import { DayRollover } from '../../src/engine/time.ts';
import { parseLbLine } from '../../src/io/parsers/lb.ts';
import { brokerFor, readTopic, text, topicSize } from '../io/produce/helpers.ts';
import { cli, killChildren, startCli } from './helpers/kafka-cli.ts';

after(killChildren);

const TOPICS = ['server-metrics', 'topic-cpu', 'topic-mem', 'topic-net', 'topic-disk', 'lb-logs'];

test('simulate --reports 3: every server reports on every topic each interval; balancer lines parse', async (t) => {
  const { brokers } = await brokerFor(t);
  const result = await cli(['simulate', '--servers', '3', '--interval', '200ms', '--rate', '50', '--reports', '3', '--seed', '9', '-b', brokers]);
  assert.equal(result.code, 0, result.stderr);
  const summary = /simulate: 3 reports, 9 server records, (\d+) balancer lines, \d+ episodes; sent (\d+) messages \((\d+) acknowledged\), rejected 0 in /.exec(result.stderr);
  assert.ok(summary, result.stderr);
  assert.equal(Number(summary[2]), 9 * 5 + Number(summary[1]));
  assert.equal(summary[2], summary[3]);
  const records = await readTopic(brokers, 'server-metrics');
  const seen = new Map<string, number>();
  for (const record of records) {
    const parsed = parseMetricMessage(text(record), METRIC_FIELDS, new DayRollover());
    assert.ok(parsed.ok, text(record));
    seen.set(parsed.message.serverId, (seen.get(parsed.message.serverId) ?? 0) + 1);
  }
  assert.deepEqual([...seen].sort(), [['server_1', 3], ['server_2', 3], ['server_3', 3]]);
  for (const topic of ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk']) assert.equal(await topicSize(brokers, topic), 9, topic);
  const lines = await readTopic(brokers, 'lb-logs');
  assert.equal(lines.length, Number(summary[1]));
  for (const line of lines) assert.ok(parseLbLine(text(line)).ok, text(line));
});

test('simulate stopped by SIGTERM: clean exit, everything sent acknowledged and in the topics', async (t) => {
  const { brokers } = await brokerFor(t);
  const running = startCli(['simulate', '--servers', '2', '--interval', '100ms', '-b', brokers]);
  const deadline = Date.now() + 60_000;
  while ((await topicSize(brokers, 'server-metrics')) < 6) {
    assert.ok(Date.now() < deadline, 'the fleet reports');
    await sleep(50);
  }
  running.child.kill('SIGTERM');
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  const summary = /simulate: (\d+) reports, (\d+) server records, (\d+) balancer lines, \d+ episodes; sent (\d+) messages \((\d+) acknowledged\), rejected 0 \(stopped\) in /.exec(result.stderr);
  assert.ok(summary, result.stderr);
  assert.equal(summary[4], summary[5]);
  let total = 0;
  for (const topic of TOPICS) total += await topicSize(brokers, topic);
  assert.equal(total, Number(summary[4]));
  assert.equal(await topicSize(brokers, 'server-metrics'), Number(summary[2]));
});

test('simulate usage: bad values exit 2 with one line', async () => {
  const bad = [['--interval', '0'], ['--servers', '0'], ['--bogus']];
  const results = await Promise.all(bad.map((args) => cli(['simulate', ...args])));
  results.forEach((result, i) => {
    assert.equal(result.code, 2, `${bad[i]!.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
});
