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
import { withBroker, kcat, batchCodecs } from './helpers/broker.ts';

async function until(what: string, check: () => boolean, state: () => unknown = () => '', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`);
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
      const snapshot = (): unknown => consumers.map(({ consumer }) => consumer.assignments);

      const a = await start('a');
      await until('a to read the first 100', () => new Set(received.get('a')).size === 100, () => received.get('a')?.length);
      const b = await start('b');
      await until('a and b to share the partitions', () => assigned(a) === 1 && assigned(b) === 1, snapshot);
      const groups = await admin.describeGroups({ groups: ['plt-group'] });
      assert.equal(groups.get('plt-group')?.members.size, 2);
      await send(100, 20);
      // A rebalance may deliver a record twice (at least once), so count distinct records.
      await until('both members to read their partition', () => new Set([...(received.get('a') ?? []), ...(received.get('b') ?? [])]).size === 120, () => ({ a: received.get('a')?.length, b: received.get('b')?.length, assigned: snapshot() }));
      assert.ok((received.get('b')?.length ?? 0) > 0);

      await b.close(true);
      await until('a to own both partitions again', () => assigned(a) === 2, snapshot);
      await send(120, 10);
      await until('a to read records of both partitions', () => new Set(received.get('a')?.filter((v) => Number(v.slice(1)) >= 120)).size === 10, () => ({ a: received.get('a')?.slice(-15), assigned: snapshot() }));
      await sleep(300); // one more autocommit interval
      await a.close(true);

      const committed = await admin.listConsumerGroupOffsets({ groups: ['plt-group'] });
      const offsets = committed[0]?.topics.find((t) => t.name === 'plt')?.partitions.map((p) => [p.partitionIndex, p.committedOffset]);
      assert.deepEqual(offsets?.sort(), [[0, 65n], [1, 65n]]);

      await send(130, 6);
      await start('c');
      await until('c to resume after the committed offsets', () => new Set(received.get('c')).size >= 6, () => received.get('c'));
      await sleep(300);
      assert.deepEqual([...(received.get('c') ?? [])].sort(), ['m130', 'm131', 'm132', 'm133', 'm134', 'm135'], 'c starts after the committed offsets');
    } finally {
      for (const { consumer } of consumers) await consumer.close(true).catch(() => {});
      await producer.close().catch(() => {});
      await admin.close().catch(() => {});
    }
  });
});

test('platformatic and kcat read each other\'s compressed batches (gzip, snappy, lz4, zstd)', async () => {
  await withBroker(async (broker) => {
    const bootstrapBrokers = [broker.address];
    const producer = new Producer({ clientId: 'plt-codecs', bootstrapBrokers, serializers: stringSerializers, autocreateTopics: true });
    const codecs = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
    const expected = new Map<string, string[]>();
    try {
      for (const [codec, bits] of Object.entries(codecs)) {
        const values = Array.from({ length: 50 }, (_, i) => `${codec} ${i} ${'abc'.repeat(20)}`);
        await producer.send({ messages: values.map((value) => ({ topic: `plt-${codec}`, value, partition: 0 })), compression: codec as keyof typeof codecs });
        const stored = await broker.store.partition(`plt-${codec}`, 0)?.read(0, 1 << 20);
        assert.deepEqual(batchCodecs(stored?.records ?? Buffer.alloc(0)), [bits]);
        const consumed = await kcat(broker, ['-C', '-t', `plt-${codec}`, '-o', 'beginning', '-e', '-q']);
        assert.deepEqual(consumed.stdout.trimEnd().split('\n'), values, `kcat reads platformatic ${codec}`);

        const sent = values.map((value) => `kcat ${value}`);
        assert.equal((await kcat(broker, ['-P', '-t', `kcat-${codec}`, '-z', codec], `${sent.join('\n')}\n`)).code, 0);
        expected.set(`kcat-${codec}`, sent);
      }
      // One consumer for the four kcat topics: a group join per codec would cost a rebalance each.
      const consumer = new Consumer({ groupId: 'codecs', clientId: 'plt-codecs', bootstrapBrokers, deserializers: stringDeserializers, maxWaitTime: 100 });
      try {
        const stream = await consumer.consume({ topics: [...expected.keys()], mode: 'earliest', autocommit: false });
        const got = new Map<string, string[]>([...expected.keys()].map((topic) => [topic, []]));
        const total = [...expected.values()].reduce((sum, list) => sum + list.length, 0);
        let seen = 0;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`platformatic read ${seen} of ${total} records`)), 10_000);
          stream.on('data', (message) => {
            got.get(message.topic)?.push(message.value);
            if (++seen === total) {
              clearTimeout(timer);
              resolve();
            }
          });
          stream.on('error', reject);
        });
        for (const [topic, sent] of expected) assert.deepEqual(got.get(topic), sent, `platformatic reads ${topic}`);
      } finally {
        await consumer.close(true);
      }
    } finally {
      await producer.close();
    }
  });
});
