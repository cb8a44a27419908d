// @platformatic/kafka 2.x (the project's own client) against the broker: it
// negotiates the newest versions (flexible encoding, Fetch by topic id, Metadata
// v12), so this covers the other half of the field tables from kafkajs.
// Admin, produce, a two-member group that rebalances when one leaves, and
// resuming from committed offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { MessagesStream } from '@platformatic/kafka';
import { withBroker } from './helpers/broker.ts';

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

type StringConsumer = Consumer<string, string, string, string>;

test('platformatic: produce, two-member group with a rebalance on leave, resume from committed offsets', async () => {
  await withBroker(async (broker) => {
    const bootstrapBrokers = [broker.address];
    const admin = new Admin({ clientId: 'plt-admin', bootstrapBrokers });
    const producer = new Producer({ clientId: 'plt-producer', bootstrapBrokers, serializers: stringSerializers, idempotent: true, acks: -1 });
    const consumers: { consumer: StringConsumer; stream: MessagesStream<string, string, string, string> }[] = [];
    try {
      await admin.createTopics({ topics: ['plt'], partitions: 2, replicas: 1 });
      const send = async (from: number, count: number): Promise<void> => {
        await producer.send({ messages: Array.from({ length: count }, (_, i) => ({ topic: 'plt', value: `m${from + i}`, partition: (from + i) % 2 })) });
      };
      await send(0, 100);
      const listed = await admin.listOffsets({ topics: [{ name: 'plt', partitions: [{ partitionIndex: 0, timestamp: -1n }, { partitionIndex: 1, timestamp: -1n }] }] });
      assert.deepEqual(listed[0]?.partitions.map((p) => [p.partitionIndex, p.offset]), [[0, 50n], [1, 50n]]);

      const received = new Map<string, string[]>();
      const start = async (name: string): Promise<StringConsumer> => {
        const consumer = new Consumer({
          groupId: 'plt-group', clientId: `plt-${name}`, bootstrapBrokers, deserializers: stringDeserializers,
          sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 300, maxWaitTime: 300,
        });
        received.set(name, []);
        const stream = await consumer.consume({ topics: ['plt'], mode: 'committed', fallbackMode: 'earliest', autocommit: 100 });
        stream.on('data', (message) => received.get(name)?.push(message.value));
        consumers.push({ consumer, stream });
        return consumer;
      };
      const assigned = (consumer: StringConsumer): number => (consumer.assignments ?? []).reduce((sum, a) => sum + a.partitions.length, 0);

      const a = await start('a');
      await until('a to read the first 100', () => received.get('a')?.length === 100);
      const b = await start('b');
      await until('a and b to share the partitions', () => assigned(a) === 1 && assigned(b) === 1);
      const groups = await admin.describeGroups({ groups: ['plt-group'] });
      assert.equal(groups.get('plt-group')?.members.size, 2);
      await send(100, 20);
      await until('both members to read their partition', () => (received.get('a')?.length ?? 0) + (received.get('b')?.length ?? 0) === 120);
      assert.ok((received.get('b')?.length ?? 0) > 0);

      await b.close(true);
      await until('a to own both partitions again', () => assigned(a) === 2);
      await send(120, 10);
      await until('a to read records of both partitions', () => received.get('a')?.filter((v) => Number(v.slice(1)) >= 120).length === 10);
      await sleep(300); // one more autocommit interval
      await a.close(true);

      const committed = await admin.listConsumerGroupOffsets({ groups: ['plt-group'] });
      const offsets = committed[0]?.topics.find((t) => t.name === 'plt')?.partitions.map((p) => [p.partitionIndex, p.committedOffset]);
      assert.deepEqual(offsets?.sort(), [[0, 65n], [1, 65n]]);

      await send(130, 6);
      await start('c');
      await until('c to resume after the committed offsets', () => received.get('c')?.length === 6);
      await sleep(300);
      assert.deepEqual([...(received.get('c') ?? [])].sort(), ['m130', 'm131', 'm132', 'm133', 'm134', 'm135']);
    } finally {
      for (const { consumer } of consumers) await consumer.close(true).catch(() => {});
      await producer.close().catch(() => {});
      await admin.close().catch(() => {});
    }
  });
});
