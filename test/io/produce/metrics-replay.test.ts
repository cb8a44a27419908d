// The metrics replay in process (as `up` calls it): skipRows resumes after
// the rows already published, and a signal stops a paced replay cleanly
// with everything sent acknowledged. The full CLI behaviour is tested in
// test/cli/produce-consume*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { replayMetrics } from '../../../src/io/produce/metrics-replay.ts';
import { brokerFor, key, readTopic, text, topicSize } from './helpers.ts';

const HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';

test('replayMetrics: skipRows passes over the first valid rows; rejects still counted', async (t) => {
  const { dir, brokers } = await brokerFor(t);
  const file = join(dir, 'm.csv');
  await writeFile(file, [
    HEADER,
    '20:53:00,server_1,1.5,2,3,4,5',
    '20:53:00,server_2,101,2,3,4,5',
    '20:53:05,server_1,10,20,30,40,50',
    '20:53:05,server_2,11,21,31,41,51',
    '',
  ].join('\n'));
  const rejects = join(dir, 'rejects.csv');
  const summary = await replayMetrics({ file, brokers: [brokers], partitions: 1, skipRows: 1, rejects });
  assert.deepEqual(summary, { rows: 2, skipped: 1, rejected: 1, sent: 8, acknowledged: 8, interrupted: false });
  const cpu = await readTopic(brokers, 'topic-cpu');
  assert.deepEqual(cpu.map(text), ['{"ts":"20:53:05","server_id":"server_1","cpu_pct":10}', '{"ts":"20:53:05","server_id":"server_2","cpu_pct":11}']);
  assert.deepEqual(cpu.map(key), ['server_1', 'server_2']);
  assert.match((await readFile(rejects, 'utf8')).split('\n')[1]!, /m\.csv,3,cpu_pct/);
});

test('replayMetrics: a signal stops a paced replay; every row sent is acknowledged and in the topics', async (t) => {
  const { dir, brokers } = await brokerFor(t);
  const file = join(dir, 'm.csv');
  const rows = [HEADER];
  for (let i = 0; i < 600; i++) rows.push(`20:${String(53 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},server_1,1,2,3,4,5`);
  await writeFile(file, rows.join('\n') + '\n');
  const controller = new AbortController();
  // One row a second of data time at speed 20: 30 s for the file, far longer than the test waits.
  const running = replayMetrics({ file, brokers: [brokers], speed: 20, signal: controller.signal });
  const deadline = Date.now() + 60_000;
  while ((await topicSize(brokers, 'topic-cpu')) < 3) {
    assert.ok(Date.now() < deadline, 'the replay publishes');
    await sleep(50);
  }
  controller.abort();
  const summary = await running;
  assert.equal(summary.interrupted, true);
  assert.ok(summary.rows >= 3 && summary.rows < 600, `rows ${summary.rows}`);
  assert.equal(summary.sent, summary.rows * 4);
  assert.equal(summary.acknowledged, summary.sent);
  for (const topic of ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk']) assert.equal(await topicSize(brokers, topic), summary.rows, topic);
});
