import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../../src/broker/storage/crc32c.ts';
import { openBrokerStore, StorageErrorCode } from '../../../src/broker/storage/index.ts';
import { buildBatch, decodeRecords, valueBatch, withTempDir } from './helpers.ts';

test('crc32c matches the standard check value and a bit-by-bit reference', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  // Every length 0..40 agrees between the 8-byte and the byte-wise path.
  const bytes = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff));
  const bytewise = (b: Buffer): number => {
    let crc = 0xffffffff;
    for (const x of b) {
      crc ^= x;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    return (crc ^ 0xffffffff) >>> 0;
  };
  for (let n = 0; n <= 40; n++) assert.equal(crc32c(bytes, 0, n), bytewise(bytes.subarray(0, n)), `length ${n}`);
  assert.equal(crc32c(bytes, 3, 29), bytewise(bytes.subarray(3, 29)));
  // The word-at-a-time path, at every alignment of start and end, and on a view into a larger buffer.
  const big = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
  for (let start = 0; start < 8; start++) {
    for (let end = 290; end < 300; end++) assert.equal(crc32c(big, start, end), bytewise(big.subarray(start, end)), `${start}..${end}`);
  }
  const view = big.subarray(5, 250);
  assert.equal(crc32c(view), bytewise(view));
});

test('append assigns offsets batch by batch and read returns the same records', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    const created = await store.createTopic('events', 2);
    assert.equal(created.errorCode, 0);
    const log = store.partition('events', 1)!;
    const first = await log.append(valueBatch('a', 3), 1);
    assert.deepEqual(first, { errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0, errorMessage: null });
    // Two batches in one Produce blob: offsets continue across them.
    const second = await log.append(Buffer.concat([valueBatch('b', 2), valueBatch('c', 4)]), -1);
    assert.equal(second.baseOffset, 3);
    assert.equal(log.highWatermark, 9);

    const all = await log.read(0, 1 << 20);
    assert.equal(all.errorCode, 0);
    assert.equal(all.highWatermark, 9);
    const values = decodeRecords(all.records).map((r) => `${r.offset}:${r.value!.toString().replace(/\.+$/, '')}`);
    assert.deepEqual(values, ['0:a-0', '1:a-1', '2:a-2', '3:b-0', '4:b-1', '5:c-0', '6:c-1', '7:c-2', '8:c-3']);
    // Stored batches keep a valid CRC (only baseOffset changed).
    assert.equal(all.records.readUInt32BE(17), crc32c(all.records, 21, all.records.readInt32BE(8) + 12));

    // A fetch in the middle of a batch returns that whole batch.
    const middle = await log.read(6, 1);
    assert.deepEqual(decodeRecords(middle.records).map((r) => r.offset), [5, 6, 7, 8]);
    const atEnd = await log.read(9, 1000);
    assert.equal(atEnd.errorCode, 0);
    assert.equal(atEnd.records.length, 0);
    assert.ok(Buffer.isBuffer(atEnd.records));
    assert.equal((await log.read(10, 1000)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await log.read(-1, 1000)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    // maxBytes limits whole batches, but never below one batch.
    const limited = await log.read(0, 10);
    assert.deepEqual(decodeRecords(limited.records).map((r) => r.offset), [0, 1, 2]);
    await store.close();

    // Reopen: same data, same topic id.
    const again = await openBrokerStore(dir, { fsync: 'never' });
    assert.deepEqual(again.topic('events')!.topicId, created.topic!.topicId);
    assert.equal(again.topicById(created.topic!.topicId)!.name, 'events');
    assert.equal(again.partition('events', 1)!.highWatermark, 9);
    assert.equal(again.partition('events', 0)!.highWatermark, 0);
    const reread = await again.partition('events', 1)!.read(3, 1 << 20);
    assert.deepEqual(decodeRecords(reread.records).map((r) => r.offset), [3, 4, 5, 6, 7, 8]);
    const next = await again.partition('events', 1)!.append(valueBatch('d', 1), 1);
    assert.equal(next.baseOffset, 9);
    await again.close();
  });
});

test('bad batches are rejected with Kafka error codes and nothing is written', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', maxBatchBytes: 4096 });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    const good = valueBatch('x', 2);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x01;
    assert.equal((await log.append(flipped, 1)).errorCode, StorageErrorCode.CORRUPT_MESSAGE);
    const badMagic = Buffer.from(good);
    badMagic[16] = 1;
    assert.equal((await log.append(badMagic, 1)).errorCode, StorageErrorCode.CORRUPT_MESSAGE);
    assert.equal((await log.append(good.subarray(0, good.length - 1), 1)).errorCode, StorageErrorCode.CORRUPT_MESSAGE);
    // A good batch followed by a fragment: the whole request is rejected.
    assert.equal((await log.append(Buffer.concat([good, good.subarray(0, 30)]), 1)).errorCode, StorageErrorCode.CORRUPT_MESSAGE);
    assert.equal((await log.append(Buffer.alloc(0), 1)).errorCode, StorageErrorCode.INVALID_RECORD);
    // recordsCount disagreeing with lastOffsetDelta.
    const lying = Buffer.from(good);
    lying.writeInt32BE(5, 57);
    lying.writeUInt32BE(crc32c(lying, 21, lying.length), 17);
    assert.equal((await log.append(lying, 1)).errorCode, StorageErrorCode.INVALID_RECORD);
    const big = valueBatch('y', 100, 100);
    assert.equal((await log.append(big, 1)).errorCode, StorageErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(log.highWatermark, 0);
    assert.equal((await log.append(good, 1)).baseOffset, 0);
    await store.close();
  });
});

test('topic validation, ids, deletion and recreation', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    assert.equal((await store.createTopic('bad name', 1)).errorCode, StorageErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal((await store.createTopic('..', 1)).errorCode, StorageErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal((await store.createTopic('t', 0)).errorCode, StorageErrorCode.INVALID_PARTITIONS);
    assert.equal((await store.createTopic('t', 1, { 'retention.ms': 'soon' })).errorCode, StorageErrorCode.INVALID_CONFIG);
    const dry = await store.createTopic('t', 1, {}, true);
    assert.equal(dry.errorCode, 0);
    assert.equal(store.topic('t'), undefined);
    // Two concurrent creates of the same name: exactly one wins.
    const [a, b] = await Promise.all([store.createTopic('t', 3), store.createTopic('t', 3)]);
    assert.deepEqual([a.errorCode, b.errorCode].sort(), [0, StorageErrorCode.TOPIC_ALREADY_EXISTS]);
    const info = store.topic('t')!;
    assert.equal(info.topicId.length, 16);
    assert.ok(info.topicId.some((x) => x !== 0));
    assert.equal((info.topicId[6]! >> 4), 4, 'UUID v4');
    assert.match(info.topicIdString, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await store.partition('t', 2)!.append(valueBatch('v', 1), 1);
    await store.commitOffsets('g', [{ topic: 't', partition: 2, offset: 1, metadata: null, leaderEpoch: -1 }]);
    assert.equal(await store.deleteTopic('t'), 0);
    assert.equal(await store.deleteTopic('t'), StorageErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(store.partition('t', 0), undefined);
    assert.equal(store.topicById(info.topicId), undefined);
    assert.deepEqual(store.fetchOffsets('g'), []);
    const recreated = await store.createTopic('t', 1);
    assert.equal(recreated.errorCode, 0);
    assert.notDeepEqual(recreated.topic!.topicId, info.topicId);
    assert.equal(store.partition('t', 0)!.highWatermark, 0);
    assert.deepEqual(store.listTopics().map((x) => x.name), ['t']);
    await store.close();
    const again = await openBrokerStore(dir, { fsync: 'never' });
    assert.deepEqual(again.listTopics().map((x) => [x.name, x.partitions]), [['t', 1]]);
    await again.close();
  });
});

test('waitForData resolves on append, times out, and honours abort', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    const waiting = log.waitForData(0, 5000);
    await log.append(valueBatch('w', 1), 0);
    assert.equal(await waiting, true);
    assert.equal(await log.waitForData(0, 5000), true);
    const started = Date.now();
    assert.equal(await log.waitForData(1, 30), false);
    assert.ok(Date.now() - started >= 25);
    const controller = new AbortController();
    const aborted = log.waitForData(1, 5000, controller.signal);
    controller.abort();
    assert.equal(await aborted, false);
    let calls = 0;
    const off = log.onAppend(() => calls++);
    await log.append(valueBatch('w', 1), 1);
    off();
    await log.append(valueBatch('w', 1), 1);
    assert.equal(calls, 1);
    await store.close();
  });
});

test('offsetForTimestamp finds the first batch at or after a time', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096 });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    // 50 batches of 5 records with timestamps 1000, 1010, ... spread over several segments.
    for (let i = 0; i < 50; i++) await log.append(buildBatch(Array.from({ length: 5 }, (_, j) => ({ value: Buffer.alloc(100, j), timestampDelta: j })), { baseTimestamp: 1000 + i * 10 }), 1);
    assert.deepEqual(await log.offsetForTimestamp(-1), { errorCode: 0, offset: 250, timestamp: -1 });
    assert.deepEqual(await log.offsetForTimestamp(-2), { errorCode: 0, offset: 0, timestamp: -1 });
    // Uncompressed batches are resolved to the record: batch i holds offsets 5i..5i+4 at 1000+10i+j.
    assert.deepEqual(await log.offsetForTimestamp(0), { errorCode: 0, offset: 0, timestamp: 1000 });
    assert.deepEqual(await log.offsetForTimestamp(1204), { errorCode: 0, offset: 104, timestamp: 1204 });
    assert.deepEqual(await log.offsetForTimestamp(1202), { errorCode: 0, offset: 102, timestamp: 1202 });
    assert.deepEqual(await log.offsetForTimestamp(1205), { errorCode: 0, offset: 105, timestamp: 1210 });
    assert.deepEqual(await log.offsetForTimestamp(1494), { errorCode: 0, offset: 249, timestamp: 1494 });
    assert.deepEqual(await log.offsetForTimestamp(1495), { errorCode: 0, offset: -1, timestamp: -1 });
    assert.deepEqual(await log.offsetForTimestamp(-3), { errorCode: 0, offset: 249, timestamp: 1494 });
    // A compressed batch (gzip attribute; storage never decompresses) resolves to its first offset.
    await log.append(buildBatch(Array.from({ length: 5 }, (_, j) => ({ value: Buffer.alloc(10, j), timestampDelta: j })), { baseTimestamp: 5000, attributes: 1 }), 1);
    assert.deepEqual(await log.offsetForTimestamp(5002), { errorCode: 0, offset: 250, timestamp: 5004 });
    await store.close();
  });
});
