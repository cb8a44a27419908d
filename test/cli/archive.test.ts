// streamwatch archive as users run it, against the embedded broker: files
// appear per topic and time bucket, offsets are committed after the files
// are written, and a second run merges into the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts';
import { parseCsvText } from '../../src/io/archive-csv.ts';
import { withBroker } from '../broker/helpers/broker.ts';
import { runCli } from '../io/sql/helpers/cli.ts';

async function produce(address: string, rows: ReadonlyArray<[string, object]>): Promise<void> {
  const producer = await KafkaProducer.connect({ brokers: [address], lingerMs: 1 });
  for (const [topic, row] of rows) await producer.send(topic, null, JSON.stringify(row));
  await producer.close();
}

test('archive: window rows filed by window start, rewritten whole, offsets committed; a second run merges', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-archive-cli-'));
  try {
    await withBroker(async (broker) => {
      const admin = await KafkaAdmin.connect({ brokers: [broker.address] });
      await admin.ensureTopics(['alerts-cpu-mem', 'alerts-net-disk'], 1);
      await produce(broker.address, [
        ['alerts-cpu-mem', { server_id: 'server_1', window_start: '20:53:00', window_end: '20:53:30', avg_cpu: 90.1, avg_mem: 10.0, alert: 'CPU spike suspected' }],
        ['alerts-cpu-mem', { server_id: 'server_2', window_start: '20:58:10', window_end: '20:58:40', avg_cpu: 1.5, avg_mem: 2.5, alert: '' }],
        ['alerts-net-disk', { server_id: 'server_1', window_start: '2022-08-03T06:51:40.000Z', window_end: '2022-08-03T06:52:10.000Z', max_net_in: 5000, max_disk_io: 1, alert: 'Possible DDoS' }],
      ]);
      // goal1-topic does not exist yet: the archive creates it, as produce would.
      const args = ['archive', '--topics', 'alerts-cpu-mem,alerts-net-disk,goal1-topic', '--partitions', '2', '--dir', dir, '--every', '300ms', '--until-idle', '1.5', '-b', broker.address, '--group', 'g-archive'];
      let result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /archive: 3 rows \(0 filed by arrival time\), 0 not JSON objects/);
      assert.match(result.stderr, /created topics goal1-topic \(2 partitions\)/);
      assert.equal((await admin.partitionCounts(['goal1-topic'])).get('goal1-topic'), 2);
      assert.deepEqual(parseCsvText(readFileSync(join(dir, 'alerts-cpu-mem/1970-01-01/2050.csv'), 'utf8')), [
        ['server_id', 'window_start', 'window_end', 'avg_cpu', 'avg_mem', 'alert'],
        ['server_1', '20:53:00', '20:53:30', '90.1', '10', 'CPU spike suspected'],
      ]);
      assert.equal(parseCsvText(readFileSync(join(dir, 'alerts-cpu-mem/1970-01-01/2055.csv'), 'utf8')).length, 2);
      assert.equal(parseCsvText(readFileSync(join(dir, 'alerts-net-disk/2022-08-03/0650.csv'), 'utf8'))[1]?.[5], 'Possible DDoS');
      const committed = await admin.committedOffsets('g-archive', ['alerts-cpu-mem', 'alerts-net-disk']);
      assert.deepEqual(committed.map((c) => c.offset), [2, 1]);

      await produce(broker.address, [['alerts-cpu-mem', { server_id: 'server_3', window_start: '20:54:00', window_end: '20:54:30', avg_cpu: 5, avg_mem: 5, alert: '' }]]);
      result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /archive: 1 rows/);
      assert.deepEqual(parseCsvText(readFileSync(join(dir, 'alerts-cpu-mem/1970-01-01/2050.csv'), 'utf8')).map((r) => r[0]), ['server_id', 'server_1', 'server_3']);
      await admin.close();
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('archive: usage errors are one line, exit status 2', async () => {
  const result = await runCli(['archive', '--topics', 'alerts-cpu-mem', '--dir', '/tmp/x', '--bucket', '7m']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'streamwatch: --bucket: whole minutes that divide a day (1m, 5m, 15m, 1h, ...)\n');
});
