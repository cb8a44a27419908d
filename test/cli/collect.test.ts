// `streamwatch collect` as a process against the embedded broker: live
// metrics of this machine on the four metric topics, keyed by the host name,
// every message valid for the detectors' parser; --print without Kafka;
// Ctrl+C stops it cleanly with everything sent; bad flags are usage errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBroker, type RunningBroker } from '../../src/broker/server.ts';
import { KafkaAdmin } from '../../src/kafka/index.ts';
import { readRange } from '../../src/kafka/read-range.ts';
import { METRIC_TOPICS } from '../../src/io/kafka-metrics.ts';
import { MetricRowParser, metricColumns } from '../../src/io/metric-csv.ts';
import { serverIdFromHostname } from '../../src/io/collect/sample.ts';
import { parseMetricMessage } from '../../src/engine/metric-message.ts';
import { DayRollover } from '../../src/engine/time.ts';
import { cli, killChildren, startCli } from './helpers/kafka-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'streamwatch-collect-'));
let broker: RunningBroker | null = null;
after(async () => {
  killChildren();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function theBroker(): Promise<string> {
  broker ??= await startBroker({ port: 0, dataDir: join(dir, 'broker'), log: () => {} });
  return broker.address;
}

const host = serverIdFromHostname(hostname());

interface TopicMessage {
  key: string;
  instant: number;
  serverId: string;
  values: number[];
}

/** Every message of the four metric topics, each parsed as the detectors parse it (failing on any invalid one). */
async function readTopics(brokers: string): Promise<Map<string, TopicMessage[]>> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  const ends = await admin.listOffsets(METRIC_TOPICS.map((t) => t.topic), 'latest');
  await admin.close();
  const byTopic = new Map<string, TopicMessage[]>();
  for (const { topic, fields } of METRIC_TOPICS) {
    const messages: TopicMessage[] = [];
    for (const [key, end] of ends) {
      if (!key.startsWith(`${topic}:`)) continue;
      const partition = Number(key.slice(topic.length + 1));
      for (const record of await readRange({ brokers: [brokers] }, topic, partition, 0, end)) {
        const parsed = parseMetricMessage(record.value!.toString('utf8'), fields, new DayRollover());
        if (!parsed.ok) assert.fail(`${topic}: ${parsed.reason}: ${record.value!.toString('utf8')}`);
        assert.equal(parsed.message.kind, 'absolute', 'timestamps are absolute instants');
        messages.push({
          key: record.key!.toString('utf8'),
          instant: parsed.message.instant,
          serverId: parsed.message.serverId,
          values: parsed.message.units.map((u, i) => Number(u) / 10 ** parsed.message.scales[i]!),
        });
      }
    }
    byTopic.set(topic, messages.sort((a, b) => a.instant - b.instant));
  }
  return byTopic;
}

test('collect --count 3 --interval 200ms: three samples of this host on each metric topic, valid for the detectors', async () => {
  const brokers = await theBroker();
  const run = await cli(['collect', '--count', '3', '--interval', '200ms', '-b', brokers]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`streamwatch collect: 3 samples of '${host.replace(/\./g, '\\.')}' published \\(12 messages\\), skipped 0, rejected 0 in `));

  const topics = await readTopics(brokers);
  const instants = topics.get('topic-cpu')!.map((m) => m.instant);
  assert.equal(instants.length, 3);
  assert.ok(instants[0]! < instants[1]! && instants[1]! < instants[2]!, 'one instant per sample');
  for (const [topic, messages] of topics) {
    assert.deepEqual(messages.map((m) => m.instant), instants, `${topic}: the same instants on every topic (the jobs join on them)`);
    for (const m of messages) {
      assert.equal(m.key, host, `${topic}: key is the host name`);
      assert.equal(m.serverId, host);
      for (const v of m.values) assert.ok(v >= 0 && Number.isFinite(v), `${topic}: ${v}`);
    }
  }
  // Instants are of this run: between the start of the test file and now.
  assert.ok(instants[0]! > Date.now() - 10 * 60_000 && instants[2]! <= Date.now());
  for (const m of [...topics.get('topic-cpu')!, ...topics.get('topic-mem')!]) assert.ok(m.values[0]! <= 100);
  // This host has memory in use.
  assert.ok(topics.get('topic-mem')!.every((m) => m.values[0]! > 0));
});

test('collect --print writes the combined CSV rows to stdout without Kafka (no broker at that address)', async () => {
  const run = await cli(['collect', '--print', '--count', '2', '--interval', '200ms', '--server-id', 'box:1', '-b', '127.0.0.1:1']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines[0], 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io');
  assert.equal(lines.length, 3);
  const columns = metricColumns(lines[0]!, [], 'stdout');
  const parser = new MetricRowParser(columns, { kind: null });
  for (const row of lines.slice(1)) {
    assert.ok(parser.parse(row), `${row}: ${parser.reason}`);
    assert.match(row, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,box:1,\d+\.\d{1,2},\d+\.\d{1,2},\d+\.\d{1,2},\d+\.\d{1,2},\d+\.\d{1,2}$/);
  }
  assert.match(run.stderr, /collect: 2 samples of 'box:1' printed, skipped 0/);
});

test('collect --print | head: the reader going away (EPIPE) stops it quietly, exit 0', async () => {
  const run = startCli(['collect', '--print', '--interval', '100ms'], { timeoutMs: 30_000 });
  // The header and a first row, then the reader closes its end, as `head -2` does.
  await new Promise<void>((resolve) => {
    let seen = '';
    run.child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.split('\n').length > 2) resolve();
    });
  });
  run.child.stdout!.destroy();
  const result = await run.done;
  assert.equal(result.signal, null, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /EPIPE|Error/);
  assert.match(result.stderr, /collect: \d+ samples of '.+' printed/);
});

test('Ctrl+C (SIGINT) stops collect cleanly: exit 0, one summary line, every counted message on the topics', async () => {
  const brokers = await theBroker();
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  const published = async () => [...(await admin.listOffsets(['topic-disk'], 'latest')).values()].reduce((a, b) => a + b, 0);
  const before = await published();
  const { child, done } = startCli(['collect', '--interval', '200ms', '--server-id', 'sigint-host', '-b', brokers]);
  // Wait (generously) until it has published something, then interrupt it.
  try {
    for (let waited = 0; ; waited += 100) {
      if ((await published()) > before) break;
      if (waited > 50_000) assert.fail('collect published nothing');
      await sleep(100);
    }
  } finally {
    await admin.close();
  }
  child.kill('SIGINT');
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  const summaries = result.stderr.split('\n').filter((l) => l.startsWith('streamwatch collect: ') && l.includes(' samples of '));
  assert.equal(summaries.length, 1, result.stderr);
  const samples = Number(/(\d+) samples of 'sigint-host' published \((\d+) messages\)/.exec(summaries[0]!)![1]);
  assert.ok(samples >= 1);
  for (const [topic, messages] of await readTopics(brokers)) {
    assert.equal(messages.filter((m) => m.key === 'sigint-host').length, samples, `${topic}: every sample counted is on the topic`);
  }
});

test('bad flags are usage errors (exit 2, one line)', async () => {
  const cases = [
    [['--interval', '10ms'], /--interval: '10ms' is shorter than 100ms/],
    [['--interval', 'soon'], /--interval: 'soon' is not a duration/],
    [['--server-id', 'a b'], /--server-id: server_id holds a character outside/],
    [['--count', '0'], /--count: '0' is not a valid value/],
    [['--interfaces', ','], /--interfaces: empty list/],
  ] as const;
  const runs = await Promise.all(cases.map(([args]) => cli(['collect', '--print', ...args])));
  cases.forEach(([args, message], i) => {
    const run = runs[i]!;
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.equal(run.stdout, '', 'nothing on stdout, not even the header');
  });
});
