// The group consumer's own fetching against the embedded broker: where
// partitions start (a start offset past the log end falls back; a partition
// received again in a later rebalance starts at the group's commit, not at
// where this member had read to), and poll() batches bounded by
// maxPollRecords handing out every record once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupConsumer, KafkaAdmin, KafkaProducer, type ConsumedRecord } from '../../src/kafka/index.ts';
import { withBroker } from '../broker/helpers/broker.ts';

async function readAll(consumer: GroupConsumer, count: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count) {
    if (Date.now() > deadline) throw new Error(`timed out with ${records.length} of ${count} records`);
    records.push(...(await consumer.poll(200)));
  }
  return records;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function produce(brokers: string[], topic: string, partitions: number, count: number): Promise<void> {
  const admin = await KafkaAdmin.connect({ brokers });
  await admin.ensureTopics([topic], partitions);
  await admin.close();
  const producer = await KafkaProducer.connect({ brokers, batchMessages: 500, lingerMs: 2 });
  await producer.useTopics([topic]);
  for (let i = 0; i < count; i++) {
    const wait = producer.send(topic, null, `{"i":${i}}`, i % partitions);
    if (wait) await wait;
  }
  await producer.close();
}

test('poll() hands out at most maxPollRecords, every record once and in order; a start offset past the end falls back to the earliest', async () => {
  await withBroker(async (broker) => {
    const brokers = [broker.address];
    await produce(brokers, 'many', 2, 20_000);
    const consumer = await GroupConsumer.start({ brokers, groupId: 'g', topics: ['many'], maxPollRecords: 700, startOffsets: [{ topic: 'many', partition: 1, offset: 1_000_000 }] });
    try {
      const records: ConsumedRecord[] = [];
      const deadline = Date.now() + 20_000;
      while (records.length < 20_000) {
        assert.ok(Date.now() < deadline, `timed out with ${records.length} records`);
        const batch = await consumer.poll(200);
        assert.ok(batch.length <= 700, `a poll gave ${batch.length} records`);
        records.push(...batch);
      }
      for (const partition of [0, 1]) {
        const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
        assert.deepEqual(offsets, Array.from({ length: 10_000 }, (_, i) => i), `partition ${partition}`);
      }
      assert.deepEqual(records.filter((r) => r.partition === 0).slice(0, 3).map((r) => r.value?.toString()), ['{"i":0}', '{"i":2}', '{"i":4}']);
      assert.deepEqual(await consumer.poll(300), []);
    } finally {
      await consumer.close();
    }
  });
});

test('a partition received again in a later rebalance starts at the group\'s commit, not where this member had read to', async () => {
  await withBroker(async (broker) => {
    const brokers = [broker.address];
    await produce(brokers, 'moving', 2, 200);
    const options = { brokers, groupId: 'g', topics: ['moving'], sessionTimeoutMs: 6000, heartbeatIntervalMs: 200 };
    const first = await GroupConsumer.start(options);
    let second: GroupConsumer | undefined;
    try {
      // The first member reads everything and commits nothing.
      assert.equal((await readAll(first, 200)).length, 200);
      // A second member takes one partition, reads it, commits part of it and leaves.
      second = await GroupConsumer.start(options);
      const member = second;
      await until(() => member.assignments().length === 1 && first.assignments().length === 1, 'the partitions to be shared');
      const [moved] = member.assignments();
      const read = await readAll(member, 100);
      assert.ok(read.every((r) => r.partition === moved!.partition));
      await member.commit([{ topic: 'moving', partition: moved!.partition, offset: 60 }]);
      await member.close();
      second = undefined;
      // The first member gets the partition back and reads it again from offset 60.
      await until(() => first.assignments().length === 2, 'the partition to come back');
      const again = await readAll(first, 40);
      assert.deepEqual(again.map((r) => `${r.partition}:${r.offset}`), Array.from({ length: 40 }, (_, i) => `${moved!.partition}:${60 + i}`));
      assert.deepEqual(await first.poll(300), []);
    } finally {
      await second?.close();
      await first.close();
    }
  });
});
