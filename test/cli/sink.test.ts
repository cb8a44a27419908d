// streamwatch sink postgres as users run it: the real CLI against the
// embedded broker, on both database targets. A kill -9 after a batch's
// transaction but before its offset commit loses nothing and duplicates
// nothing, SIGTERM writes the pending rows and commits; usage errors are one
// line with exit status 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts';
import { withBroker } from '../broker/helpers/broker.ts';
import { runCli, spawnCli } from '../io/sql/helpers/cli.ts';
import { sqlTargets } from '../io/sql/helpers/targets.ts';

const SERVERS = 10;
const INSTANTS = 150;

/** cpu and mem for SERVERS x INSTANTS instants (crossing midnight), keyed by server. */
async function produceMetrics(address: string): Promise<void> {
  const admin = await KafkaAdmin.connect({ brokers: [address] });
  try {
    await admin.ensureTopics(['topic-cpu', 'topic-mem'], 2);
  } finally {
    await admin.close();
  }
  const producer = await KafkaProducer.connect({ brokers: [address], lingerMs: 2 });
  for (let t = 0; t < INSTANTS; t++) {
    const seconds = (23 * 3600 + 59 * 60 + 50 + t * 5) % 86_400;
    const ts = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60].map((n) => String(n).padStart(2, '0')).join(':');
    for (let s = 0; s < SERVERS; s++) {
      await producer.send('topic-cpu', `server_${s}`, JSON.stringify({ ts, server_id: `server_${s}`, cpu_pct: (t + s) % 100 }));
      await producer.send('topic-mem', `server_${s}`, JSON.stringify({ ts, server_id: `server_${s}`, mem_pct: (t * 3 + s) % 100 }));
    }
  }
  await producer.send('topic-cpu', 'bad', '{"ts":"25:00:00","server_id":"bad","cpu_pct":1}');
  await producer.close();
}

async function committedTotal(address: string, group: string): Promise<number> {
  const admin = await KafkaAdmin.connect({ brokers: [address] });
  try {
    return (await admin.committedOffsets(group, ['topic-cpu', 'topic-mem'])).reduce((sum, o) => sum + o.offset, 0);
  } finally {
    await admin.close();
  }
}

test('usage errors are one line and exit status 2', async () => {
  for (const args of [['sink', 'postgres'], ['sink', 'postgres', '--topics', 'weird-topic', '--flush-interval', '1s']]) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^streamwatch: /);
  }
});

for (const target of sqlTargets()) {
  describe(`sink postgres CLI on ${target.name}`, { skip: target.skip ?? false }, () => {
    before(() => target.start());
    after(() => target.stop());

    test('kill -9 between the database commit and the offset commit loses nothing and duplicates nothing', async () => {
      await withBroker(async (broker) => {
        await produceMetrics(broker.address);
        const args = ['sink', 'postgres', '--topics', 'topic-cpu,topic-mem', '-b', broker.address, '--group', 'g-kill', '--batch-size', '700', '--session-timeout', '6s', ...target.cliArgs()];
        const first = spawnCli([...args, '--until-idle', '30'], { STREAMWATCH_TEST_HOLD_BEFORE_COMMIT_MS: '60000' });
        try {
          await first.waitForStderr(/batch 1 stored; holding/, 45_000);
        } finally {
          assert.equal(await first.kill('SIGKILL'), 'SIGKILL');
        }
        assert.equal(await committedTotal(broker.address, 'g-kill'), 0);
        // The kill came after the first transaction: its rows survived it (PGlite too), uncommitted in Kafka.
        const killed = await target.open();
        try {
          const stored = await killed.query<{ n: number }>('SELECT ((SELECT count(cpu_pct) + count(mem_pct) FROM server_metrics) + (SELECT count(*) FROM sink_rejects))::integer AS n');
          assert.equal(stored.rows[0]!.n, 700);
        } finally {
          await killed.close();
        }

        // The restart runs until SIGTERM, which must write the last, partial batch (a 2-minute interval would not) and commit.
        const second = spawnCli([...args, '--flush-interval', '2m']);
        try {
          await second.waitForStderr(/batch 4: 700 records/, 45_000);
          await new Promise((resolve) => setTimeout(resolve, 1500));
        } finally {
          await second.kill('SIGTERM');
        }
        assert.equal(await second.exited, 0, second.stderr());
        assert.match(second.stderr(), /sink: 3001 records in \d+ batches; metric rows \d+, events 0, windows 0, incidents 0, invalid 1 \(sink_rejects\)/);
        assert.equal(await committedTotal(broker.address, 'g-kill'), 2 * SERVERS * INSTANTS + 1);

        const db = await target.open();
        try {
          const rows = await db.query<{ n: number; both: number; days: number; last: Date }>(
            `SELECT count(*)::integer AS n, count(cpu_pct + mem_pct)::integer AS both, count(DISTINCT ts::date)::integer AS days, max(ts) AS last FROM server_metrics`,
          );
          assert.deepEqual(rows.rows[0], { n: SERVERS * INSTANTS, both: SERVERS * INSTANTS, days: 2, last: new Date('1970-01-02T00:12:15Z') });
          const rejects = await db.query<{ reason: string }>('SELECT reason FROM sink_rejects');
          assert.deepEqual(rejects.rows.map((r) => r.reason), ['time "25:00:00" does not parse']);
        } finally {
          await db.close();
        }
      });
    });
  });
}
