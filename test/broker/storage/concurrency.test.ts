import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBrokerStore, StorageErrorCode } from '../../../src/broker/storage/index.ts';
import { validateBatches } from '../../../src/broker/storage/record-batch.ts';
import { decodeRecords, valueBatch, withTempDir } from './helpers.ts';

test('readers running alongside appends only ever see whole, valid batches below the high watermark', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 16 * 1024 });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    let writing = true;
    const appends = (async () => {
      const pending = [];
      for (let i = 0; i < 300; i++) pending.push(log.append(valueBatch(`w${i}`, 1 + (i % 7), 50), 1));
      await Promise.all(pending);
      writing = false;
    })();
    let reads = 0;
    let offset = 0;
    const seen: number[] = [];
    while (writing || offset < log.highWatermark) {
      const hw = log.highWatermark;
      const result = await log.read(offset, 2000);
      assert.equal(result.errorCode, 0);
      if (result.records.length > 0) {
        assert.equal(validateBatches(result.records).errorCode, 0, 'whole batches with valid CRCs');
        for (const r of decodeRecords(result.records)) {
          assert.ok(r.offset < result.highWatermark && result.highWatermark >= hw);
          if (r.offset >= offset) seen.push(r.offset);
        }
        offset = seen[seen.length - 1]! + 1;
      } else {
        await log.waitForData(offset, 50);
      }
      reads++;
    }
    await appends;
    assert.deepEqual(seen, Array.from({ length: log.highWatermark }, (_, i) => i));
    assert.ok(reads > 1);
    await store.close();
  });
});

test('a read racing with retention gets data or an empty answer, never an error or a throw', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 2048, retentionBytes: 0 });
    await store.createTopic('t', 1);
    const log = store.partition('t', 0)!;
    for (let i = 0; i < 40; i++) await log.append(valueBatch(`r${i}`, 5, 40), 1);
    const reads = Array.from({ length: 40 }, (_, i) => log.read(i * 5, 1000));
    await store.enforceRetention();
    for (const result of await Promise.all(reads)) assert.ok(result.errorCode === 0 || result.errorCode === StorageErrorCode.OFFSET_OUT_OF_RANGE);
    assert.ok(log.logStartOffset > 150, 'only the active segment is left');
    assert.equal((await log.read(0, 1000)).errorCode, StorageErrorCode.OFFSET_OUT_OF_RANGE);
    await store.close();
  });
});

test('reads racing with topic deletion and close finish without throwing', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 4096 });
    await store.createTopic('t', 2);
    for (let i = 0; i < 30; i++) await store.partition('t', i % 2)!.append(valueBatch(`d${i}`, 5, 40), 1);
    const logs = [store.partition('t', 0)!, store.partition('t', 1)!];
    const reads = Array.from({ length: 60 }, (_, i) => logs[i % 2]!.read((i * 3) % 70, 500));
    const waits = logs.map((l) => l.waitForData(l.highWatermark, 10_000));
    assert.equal(await store.deleteTopic('t'), 0);
    for (const result of await Promise.all(reads)) assert.equal(result.errorCode, 0);
    assert.deepEqual(await Promise.all(waits), [false, false], 'long polls end when the log goes');
    assert.equal((await logs[0]!.append(valueBatch('late', 1), 1)).errorCode, StorageErrorCode.KAFKA_STORAGE_ERROR);
    await store.close();
  });
});

test('topics created at the same time are all in topics.json: a restart keeps every one (regression: the last write lost the others)', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'always' });
    const names = Array.from({ length: 12 }, (_, i) => `concurrent-${i}`);
    // Equal work per create makes them reach the metadata write together, as clients starting at once do.
    const results = await Promise.all(names.map((name) => store.createTopic(name, 2)));
    assert.deepEqual(results.map((r) => r.errorCode), names.map(() => 0));
    // What a kill -9 now would leave: the file as written.
    assert.deepEqual(listedTopics(dir), [...names].sort());
    await store.partition('concurrent-5', 0)!.append(valueBatch('kept', 1, 10), 1);
    // A delete racing with creates must not bring a deleted topic back either.
    const [, deleted] = await Promise.all([store.createTopic('late-create', 1), store.deleteTopic('concurrent-0')]);
    assert.equal(deleted, 0);
    assert.deepEqual(listedTopics(dir), [...names.slice(1), 'late-create'].sort());
    await store.close();

    const reopened = await openBrokerStore(dir, { fsync: 'never' });
    try {
      for (const [i, name] of names.entries()) {
        if (i === 0) assert.equal(reopened.topic(name), undefined, 'the deleted topic stays deleted');
        else assert.equal(reopened.topic(name)?.partitions, 2, `${name} survives the restart`);
      }
      assert.ok(reopened.topic('late-create'));
      assert.equal(reopened.partition('concurrent-5', 0)!.highWatermark, 1, 'and so does its data');
    } finally {
      await reopened.close();
    }
  });
});

function listedTopics(dir: string): string[] {
  return (JSON.parse(readFileSync(join(dir, 'topics.json'), 'utf8')) as { topics: { name: string }[] }).topics.map((topic) => topic.name).sort();
}
