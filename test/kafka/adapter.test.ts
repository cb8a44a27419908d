// The Kafka adapter (src/kafka) against the embedded broker in-process:
// unreachable brokers, topics, produce with batching, a group consumer with
// manual commits and start offsets, offsets and group descriptions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { GroupConsumer, KafkaAdmin, KafkaProducer, type ConsumedRecord } from '../../src/kafka/index.ts';
import { StreamwatchError } from '../../src/errors.ts';
import { withBroker } from '../broker/helpers/broker.ts';

/** A port with nothing listening: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function readAll(consumer: GroupConsumer, count: number, timeoutMs = 15_000): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out with ${records.length} of ${count} records`);
    records.push(...(await consumer.poll(200)));
  }
  return records;
}

test('no broker: one SW_ERR_BROKER_UNREACHABLE line, quickly', async () => {
  const brokers = [`127.0.0.1:${await deadPort()}`];
  const started = Date.now();
  for (const attempt of [() => KafkaAdmin.connect({ brokers, retries: 0 }), () => KafkaProducer.connect({ brokers, retries: 0 })]) {
    await assert.rejects(attempt(), (error: unknown) => {
      assert.ok(error instanceof StreamwatchError);
      assert.equal(error.code, 'SW_ERR_BROKER_UNREACHABLE');
      assert.match(error.message, /^no Kafka broker answered at 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)$/);
      return true;
    });
  }
  assert.ok(Date.now() - started < 5000);
});

test('admin, batching producer, group consumer with manual commits and start offsets', async () => {
  await withBroker(async (broker) => {
    const brokers = [broker.address];
    const admin = await KafkaAdmin.connect({ brokers });
    const consumers: GroupConsumer[] = [];
    try {
      assert.deepEqual(await admin.ensureTopics(['a-topic', 'b-topic'], 3), ['a-topic', 'b-topic']);
      assert.deepEqual(await admin.ensureTopics(['a-topic', 'b-topic'], 3), []);
      assert.deepEqual((await admin.listTopics()).filter((t) => t.endsWith('-topic')), ['a-topic', 'b-topic']);
      const [described] = await admin.describeTopics(['a-topic']);
      assert.equal(described?.partitions.length, 3);

      const producer = await KafkaProducer.connect({ brokers, batchMessages: 64, lingerMs: 2 });
      // b-topic takes the direct path (own record batches), a-topic the client's generic send.
      await producer.useTopics(['b-topic']);
      for (let i = 0; i < 1000; i++) await producer.send(i % 2 === 0 ? 'a-topic' : 'b-topic', `key-${i % 7}`, JSON.stringify({ i }));
      await producer.close();
      assert.equal(producer.acknowledged, 1000);

      const latest = await admin.listOffsets(['a-topic', 'b-topic'], 'latest');
      assert.equal([...latest.values()].reduce((a, b) => a + b, 0), 1000);
      const earliest = await admin.listOffsets(['a-topic'], 'earliest');
      assert.deepEqual([...earliest.values()], [0, 0, 0]);

      const assigned: string[][] = [];
      const first = await GroupConsumer.start({ brokers, groupId: 'g1', topics: ['a-topic', 'b-topic'], onAssign: (parts) => assigned.push(parts.map((p) => `${p.topic}:${p.partition}`)) });
      consumers.push(first);
      const records = await readAll(first, 1000);
      assert.equal(new Set(records.map((r) => r.value?.toString())).size, 1000);
      // Same key, same partition (murmur2 of the key).
      const partitionOfKey = new Map<string, number>();
      for (const r of records) {
        const key = `${r.topic}/${r.key?.toString()}`;
        assert.equal(partitionOfKey.get(key) ?? r.partition, r.partition);
        partitionOfKey.set(key, r.partition);
      }
      assert.equal(assigned.at(-1)?.length, 6);
      assert.equal(first.assignments().length, 6);

      const next = new Map<string, { topic: string; partition: number; offset: number }>();
      for (const r of records) next.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
      await first.commit([...next.values()]);
      const committed = await admin.committedOffsets('g1');
      assert.equal(committed.reduce((sum, c) => sum + c.offset, 0), 1000);
      const groups = await admin.describeGroups(['g1']);
      assert.equal(groups[0]?.members.length, 1);
      assert.equal(groups[0]?.members[0]?.assignments.length, 6);
      await first.close();

      // A restarted member resumes after the commits, except where a start offset is given.
      const again = await GroupConsumer.start({ brokers, groupId: 'g1', topics: ['a-topic', 'b-topic'], startOffsets: [{ topic: 'a-topic', partition: 0, offset: 0 }] });
      consumers.push(again);
      const replayed = await readAll(again, latest.get('a-topic:0') ?? 0);
      assert.ok(replayed.every((r) => r.topic === 'a-topic' && r.partition === 0));
      assert.deepEqual(await again.poll(300), []);
    } finally {
      for (const consumer of consumers) await consumer.close();
      await admin.close();
    }
  });
});
