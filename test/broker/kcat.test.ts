// kcat 1.7.1 (librdkafka 2.0.2) against the broker: produce with every
// compression codec and with idempotence, consume to the end, and a consumer
// group. These are the versions and features librdkafka negotiates from
// our ApiVersions answer, so a wrong range shows up here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withBroker, kcat, batchCodecs, batchProducerIds, KCAT_SKIP } from './helpers/broker.ts';

const CODECS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** Compressible lines, so librdkafka really compresses (it sends plain batches when compression does not pay). */
function lines(count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `${tag} line ${i} ${'streamwatch '.repeat(8)}`.trimEnd());
}

test('kcat produces with gzip, snappy, lz4 and zstd; kcat consumes every record in order', { skip: KCAT_SKIP }, async () => {
  await withBroker(async (broker) => {
    for (const [codec, bits] of Object.entries(CODECS)) {
      const topic = `kcat-${codec}`;
      const sent = lines(500, codec);
      const produced = await kcat(broker, ['-P', '-t', topic, '-z', codec, '-X', 'linger.ms=20'], `${sent.join('\n')}\n`);
      assert.equal(produced.code, 0, produced.stderr);
      const stored = await broker.store.partition(topic, 0)?.read(0, 64 * 1024 * 1024);
      assert.ok(stored, `${topic} exists`);
      assert.ok(batchCodecs(stored.records).includes(bits), `${codec}: a batch is stored with codec ${bits}, got ${batchCodecs(stored.records).join(',')}`);
      const consumed = await kcat(broker, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q']);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trimEnd().split('\n'), sent);
    }
  });
});

test('kcat idempotent producer gets a producer id and its records arrive once', { skip: KCAT_SKIP }, async () => {
  await withBroker(async (broker) => {
    const sent = lines(2000, 'idem');
    const produced = await kcat(broker, ['-P', '-t', 'kcat-idem', '-X', 'enable.idempotence=true', '-X', 'batch.num.messages=100'], `${sent.join('\n')}\n`);
    assert.equal(produced.code, 0, produced.stderr);
    const stored = await broker.store.partition('kcat-idem', 0)?.read(0, 64 * 1024 * 1024);
    assert.ok(stored);
    const ids = new Set(batchProducerIds(stored.records));
    assert.equal(ids.size, 1);
    assert.ok(![...ids].includes(-1), 'batches carry the allocated producer id');
    const consumed = await kcat(broker, ['-C', '-t', 'kcat-idem', '-o', 'beginning', '-e', '-q']);
    assert.deepEqual(consumed.stdout.trimEnd().split('\n'), sent);
  });
});

test('kcat with keys over several partitions: every key stays in its partition, in order', { skip: KCAT_SKIP }, async () => {
  await withBroker(async (broker) => {
    const sent = Array.from({ length: 300 }, (_, i) => `key${i % 7}:value ${i}`);
    const produced = await kcat(broker, ['-P', '-t', 'kcat-keys', '-K', ':'], `${sent.join('\n')}\n`);
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(broker.store.topic('kcat-keys')?.partitions, 3);
    const consumed = await kcat(broker, ['-C', '-t', 'kcat-keys', '-o', 'beginning', '-e', '-q', '-f', '%k=%s\n']);
    const got = consumed.stdout.trimEnd().split('\n');
    assert.equal(got.length, sent.length);
    for (let key = 0; key < 7; key++) {
      const want = sent.filter((line) => line.startsWith(`key${key}:`)).map((line) => line.replace(':', '='));
      assert.deepEqual(got.filter((line) => line.startsWith(`key${key}=`)), want);
    }
  }, { defaultPartitions: 3 });
});

test('kcat -L lists the broker and its topics with their partitions', { skip: KCAT_SKIP }, async () => {
  await withBroker(async (broker) => {
    await broker.store.createTopic('listed', 4);
    const listed = await kcat(broker, ['-L']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`broker 0 at ${broker.address.replace(/[.[\]]/g, '\\$&')}`));
    assert.match(listed.stdout, /topic "listed" with 4 partitions/);
  });
});

test('kcat consumer group (-G) reads everything once, commits, and resumes after the committed offset', { skip: KCAT_SKIP }, async () => {
  await withBroker(async (broker) => {
    const first = lines(100, 'first');
    assert.equal((await kcat(broker, ['-P', '-t', 'kcat-group'], `${first.join('\n')}\n`)).code, 0);
    const run1 = await kcat(broker, ['-G', 'kcat-g', '-o', 'beginning', '-e', '-q', 'kcat-group']);
    assert.equal(run1.code, 0, run1.stderr);
    assert.deepEqual(run1.stdout.trimEnd().split('\n'), first);
    const committed = broker.store.fetchOffsets('kcat-g', 'kcat-group', 0);
    assert.equal(committed[0]?.offset, 100);
    const second = lines(50, 'second');
    assert.equal((await kcat(broker, ['-P', '-t', 'kcat-group'], `${second.join('\n')}\n`)).code, 0);
    const run2 = await kcat(broker, ['-G', 'kcat-g', '-e', '-q', 'kcat-group']);
    assert.equal(run2.code, 0, run2.stderr);
    assert.deepEqual(run2.stdout.trimEnd().split('\n'), second);
  });
});
