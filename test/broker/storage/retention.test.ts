import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore, StorageErrorCode, type StorageEvent } from '../../../src/broker/storage/index.ts';
import { buildBatch, decodeRecords, valueBatch, withTempDir } from './helpers.ts';

async function logFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
}

test('segments roll at segmentBytes and are named by base offset', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096 });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    const batch = valueBatch('r', 10, 100); // ~1.2 KB: three per segment
    for (let i = 0; i < 10; i++) await log.append(Buffer.from(batch), 1);
    const files = await logFiles(join(dir, 't-0'));
    assert.deepEqual(files, ['00000000000000000000.log', '00000000000000000030.log', '00000000000000000060.log', '00000000000000000090.log']);
    // A batch bigger than a segment still goes in, alone.
    await log.append(valueBatch('big', 60, 100), 1);
    assert.equal(log.highWatermark, 160);
    // Reads across segment boundaries.
    const seen: number[] = [];
    for (let offset = 0; offset < log.highWatermark;) {
      const records = decodeRecords((await log.read(offset, 100)).records);
      for (const r of records) if (r.offset >= offset) seen.push(r.offset);
      offset = records[records.length - 1]!.offset + 1;
    }
    assert.deepEqual(seen, Array.from({ length: 160 }, (_, i) => i));
    await store.close();
  });
});

test('retention by size and by age deletes whole old segments and moves logStartOffset', async () => {
  await withTempDir(async (dir) => {
    // A realistic clock: after a restart, the age of a segment also counts its file's mtime.
    let now = Date.now();
    const events: StorageEvent[] = [];
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096, retentionBytes: 8192, retentionMs: 60_000, now: () => now, onEvent: (e) => events.push(e) });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    for (let i = 0; i < 12; i++) {
      await log.append(buildBatch(Array.from({ length: 10 }, () => ({ value: Buffer.alloc(100, i) })), { baseTimestamp: now + i * 1000 }), 1);
    }
    assert.equal((await logFiles(join(dir, 't-0'))).length, 4);
    await store.enforceRetention();
    // ~13.7 KB in 4 segments of ~3.4 KB: as in Kafka, a segment goes only while what remains is still >= retention.bytes.
    const left = await logFiles(join(dir, 't-0'));
    assert.equal(left.length, 3);
    assert.equal(log.logStartOffset, 30);
    assert.deepEqual(events, [{ type: 'retention', topic: 't', partition: 0, deletedSegments: 1, logStartOffset: 30 }]);
    assert.equal((await log.read(0, 100)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await log.read(29, 100)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(decodeRecords((await log.read(30, 100)).records)[0]!.offset, 30);
    assert.deepEqual(await log.offsetForTimestamp(-2), { errorCode: 0, offset: 30, timestamp: -1 });

    // Age: segments whose newest batch (now+5000, now+8000) is older than 60 s go; the active one never.
    now += 8000 + 60_001;
    await store.enforceRetention();
    assert.equal(log.logStartOffset, 90);
    await store.close();
    const again = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096, retentionMs: 60_000, now: () => now });
    const relog = again.partition('t', 0)!;
    assert.equal(relog.logStartOffset, 90);
    assert.equal(relog.highWatermark, 120);

    // Once even the newest batch has expired, the active segment is rolled and deleted too.
    now += 1_000_000;
    await again.enforceRetention();
    assert.equal(relog.logStartOffset, 120);
    assert.equal(relog.highWatermark, 120);
    assert.deepEqual(await logFiles(join(dir, 't-0')), ['00000000000000000120.log']);
    assert.equal((await relog.read(119, 100)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await relog.append(valueBatch('fresh', 2), 1)).baseOffset, 120);
    assert.equal(decodeRecords((await relog.read(120, 100)).records).length, 2);
    await again.close();
    const third = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096 });
    assert.deepEqual([third.partition('t', 0)!.logStartOffset, third.partition('t', 0)!.highWatermark], [120, 122]);
    await third.close();
  });
});

test('per-topic retention.bytes overrides the store default', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096, retentionMs: -1 });
    await store.createTopic('small', 1, { 'retention.bytes': '1', 'segment.bytes': '2048' });
    const log = store.partition('small', 0)!;
    for (let i = 0; i < 6; i++) await log.append(valueBatch('x', 10, 100), 1);
    await store.enforceRetention();
    assert.equal((await logFiles(join(dir, 'small-0'))).length, 1);
    assert.equal(log.logStartOffset, 50);
    await store.close();
  });
});

test('replayed old data (old record timestamps) stays for retention.ms after it arrived', async () => {
  await withTempDir(async (dir) => {
    let now = Date.now();
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096, retentionMs: 60_000, now: () => now });
    await store.createTopic('replay', 1);
    const log = store.partition('replay', 0)!;
    for (let i = 0; i < 8; i++) await log.append(buildBatch([{ value: Buffer.alloc(1000, i) }], { baseTimestamp: Date.UTC(2020, 0, 1) + i }), 1);
    await store.enforceRetention();
    assert.equal(log.logStartOffset, 0, 'nothing deleted right after arrival');
    now += 60_001;
    await store.enforceRetention();
    assert.equal(log.logStartOffset, 8, 'gone once retention.ms passed since the last append');
    await store.close();
  });
});
