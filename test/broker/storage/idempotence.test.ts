import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openBrokerStore, StorageErrorCode } from '../../../src/broker/storage/index.ts';
import { valueBatch, withTempDir } from './helpers.ts';

const pid = 4000;

test('idempotent producer: in-order sequences append, retries of the last five are answered with their original offset', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    const batch = (seq: number, n = 2, epoch = 0): Buffer => valueBatch(`s${seq}`, n, 10, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
    const offsets: number[] = [];
    for (let i = 0; i < 7; i++) offsets.push((await log.append(batch(i * 2), 1)).baseOffset);
    assert.deepEqual(offsets, [0, 2, 4, 6, 8, 10, 12]);
    // Retry of one of the last five batches: success, original offset, nothing written.
    const retry = await log.append(batch(8), 1);
    assert.equal(retry.errorCode, 0);
    assert.equal(retry.baseOffset, 8);
    assert.equal(log.highWatermark, 14);
    // Older than the last five: out of order.
    assert.equal((await log.append(batch(2), 1)).errorCode, StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A gap: out of order.
    assert.equal((await log.append(batch(20), 1)).errorCode, StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A stale epoch is fenced; a new epoch must restart at 0.
    assert.equal((await log.append(batch(14, 2, 1), 1)).errorCode, StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await log.append(batch(0, 2, 1), 1)).baseOffset, 14);
    assert.equal((await log.append(batch(16, 2, 0), 1)).errorCode, StorageErrorCode.INVALID_PRODUCER_EPOCH);
    // Non-idempotent batches (producerId -1) are never checked, whatever their sequence says.
    assert.equal((await log.append(valueBatch('plain', 1, 10, { producerId: -1, producerEpoch: 0, baseSequence: 0 }), 1)).baseOffset, 16);
    assert.equal((await log.append(valueBatch('plain', 1, 10, { producerId: -1, producerEpoch: 0, baseSequence: 0 }), 1)).baseOffset, 17);
    // Concurrent in-flight appends (as kcat pipelines them) keep their order.
    const inFlight = await Promise.all([2, 4, 6].map((seq) => log.append(batch(seq, 2, 1), 1)));
    assert.deepEqual(inFlight.map((r) => r.baseOffset), [18, 20, 22]);
    await store.close();

    // Producer state is rebuilt from the log on reopen.
    const again = await openBrokerStore(dir, { fsync: 'never' });
    const relog = again.partition('t', 0)!;
    const dup = await relog.append(batch(4, 2, 1), 1);
    assert.deepEqual([dup.errorCode, dup.baseOffset], [0, 20]);
    assert.equal((await relog.append(batch(10, 2, 1), 1)).errorCode, StorageErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await relog.append(batch(8, 2, 1), 1)).baseOffset, 24);
    // An unknown producer may start anywhere (its history may have aged out).
    assert.equal((await relog.append(valueBatch('new', 1, 10, { producerId: 77, producerEpoch: 0, baseSequence: 500 }), 1)).errorCode, 0);
    await again.close();
  });
});

test('producer ids are never handed out twice, even across restarts', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    const first = await Promise.all(Array.from({ length: 1500 }, () => store.allocateProducerId()));
    assert.equal(new Set(first).size, 1500);
    assert.ok(Math.min(...first) > 0, 'never 0');
    await store.close();
    const again = await openBrokerStore(dir, { fsync: 'never' });
    const next = await again.allocateProducerId();
    assert.ok(next > Math.max(...first));
    await again.close();
  });
});

test('a retry that arrives while the original is still being written waits for it and gets the same offset', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'always' });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    const original = valueBatch('once', 3, 10, { producerId: pid, producerEpoch: 0, baseSequence: 0 });
    const order: string[] = [];
    const first = log.append(Buffer.from(original), -1).then((r) => (order.push('original'), r));
    const retry = log.append(Buffer.from(original), -1).then((r) => (order.push('retry'), r));
    const [a, b] = await Promise.all([first, retry]);
    assert.deepEqual([a.errorCode, a.baseOffset, b.errorCode, b.baseOffset], [0, 0, 0, 0]);
    assert.deepEqual(order, ['original', 'retry']);
    assert.equal(log.highWatermark, 3, 'written once');
    await store.close();
  });
});
