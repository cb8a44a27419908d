// kafkajs 2.2.4 against the broker (non-flexible versions only): admin,
// produce, a consumer group of two members that rebalances when one leaves,
// and a new member that resumes from the committed offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { withBroker, kcat, batchCodecs } from './helpers/broker.ts';

async function until(what: string, check: () => boolean, state: () => unknown = () => '', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`);
    await sleep(25);
  }
}

test('kafkajs: produce, two-member group with a rebalance on leave, resume from committed offsets', async () => {
  await withBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'kjs-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const consumers: Consumer[] = [];
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }] }), true);
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      const send = async (from: number, count: number): Promise<void> => {
        const messages = Array.from({ length: count }, (_, i) => ({ value: `m${from + i}`, partition: (from + i) % 2 }));
        await producer.send({ topic: 'kjs', messages, acks: -1 });
      };
      await send(0, 100);
      const offsets = await admin.fetchTopicOffsets('kjs');
      assert.deepEqual(offsets.map((o) => [o.partition, o.high]).sort(), [[0, '50'], [1, '50']]);

      const received = new Map<string, string[]>();
      const assignments = new Map<string, number[]>();
      const snapshot = (): unknown => Object.fromEntries(assignments);
      const start = async (name: string): Promise<Consumer> => {
        const consumer = kafka.consumer({ groupId: 'kjs-group', heartbeatInterval: 300, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 300 });
        consumers.push(consumer);
        received.set(name, []);
        consumer.on(consumer.events.GROUP_JOIN, (event) => assignments.set(name, event.payload.memberAssignment.kjs ?? []));
        await consumer.connect();
        await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
        await consumer.run({ autoCommitInterval: 100, eachMessage: async ({ message }) => { received.get(name)?.push(String(message.value)); } });
        return consumer;
      };

      const a = await start('a');
      await until('a to read the first 100', () => new Set(received.get('a')).size === 100, () => received.get('a')?.length);
      const b = await start('b');
      await until('a and b to share the partitions', () => assignments.get('b')?.length === 1 && assignments.get('a')?.length === 1, snapshot);
      const described = await admin.describeGroups(['kjs-group']);
      assert.equal(described.groups[0]?.state, 'Stable');
      assert.equal(described.groups[0]?.members.length, 2);
      await send(100, 20);
      // A rebalance may deliver a record twice (at least once), so count distinct records.
      await until('both members to get their partition', () => new Set([...(received.get('a') ?? []), ...(received.get('b') ?? [])]).size === 120, () => ({ a: received.get('a')?.length, b: received.get('b')?.length, assigned: snapshot() }));
      assert.ok((received.get('b')?.length ?? 0) > 0, 'b received records of its partition');

      await b.disconnect();
      await until('a to own both partitions again', () => assignments.get('a')?.length === 2, snapshot);
      await send(120, 10);
      await until('a to read the records of both partitions', () => new Set(received.get('a')?.filter((v) => Number(v.slice(1)) >= 120)).size === 10, () => ({ a: received.get('a')?.slice(-15), assigned: snapshot() }));
      await a.disconnect();

      const committed = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs'] });
      assert.deepEqual(committed[0]?.partitions.map((p) => [p.partition, p.offset]).sort(), [[0, '65'], [1, '65']]);

      await send(130, 6);
      const c = await start('c');
      await until('c to resume after the committed offsets', () => new Set(received.get('c')).size >= 6, () => received.get('c'));
      await sleep(300);
      assert.deepEqual([...(received.get('c') ?? [])].sort(), ['m130', 'm131', 'm132', 'm133', 'm134', 'm135'], 'c starts after the committed offsets');
      await c.disconnect();
      await producer.disconnect();
      const groups = await admin.listGroups();
      assert.ok(groups.groups.some((g) => g.groupId === 'kjs-group'));
    } finally {
      for (const consumer of consumers) await consumer.disconnect().catch(() => {});
      await admin.disconnect();
    }
  });
});

test('kafkajs gzip batches (its only built-in codec) are stored as sent and read by kcat', async () => {
  await withBroker(async (broker) => {
    const kafka = new Kafka({ clientId: 'kjs-gzip', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const values = Array.from({ length: 40 }, (_, i) => `gzip ${i} ${'xyz'.repeat(10)}`);
      await producer.send({ topic: 'kjs-gzip', compression: CompressionTypes.GZIP, messages: values.map((value) => ({ value })) });
      const stored = await broker.store.partition('kjs-gzip', 0)?.read(0, 1 << 20);
      assert.deepEqual(batchCodecs(stored?.records ?? Buffer.alloc(0)), [1]);
      const consumed = await kcat(broker, ['-C', '-t', 'kjs-gzip', '-o', 'beginning', '-e', '-q']);
      assert.deepEqual(consumed.stdout.trimEnd().split('\n'), values);
    } finally {
      await producer.disconnect();
    }
  });
});
