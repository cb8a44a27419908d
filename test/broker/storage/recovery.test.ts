import assert from 'node:assert/strict';
import { appendFile, readdir, stat, truncate, writeFile, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore, type BrokerStore, type StorageEvent } from '../../../src/broker/storage/index.ts';
import { decodeRecords, valueBatch, withTempDir } from './helpers.ts';

const RECORDS_PER_BATCH = 3;

async function fill(dir: string, batches: number, segmentBytes = 1 << 20): Promise<void> {
  const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes });
  await store.createTopic('t', 1);
  for (let i = 0; i < batches; i++) await store.partition('t', 0)!.append(valueBatch(`b${i}`, RECORDS_PER_BATCH, 30), 1);
  await store.close();
}

async function allValues(store: BrokerStore): Promise<string[]> {
  const log = store.partition('t', 0)!;
  const out: string[] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const { records, errorCode } = await log.read(offset, 1 << 16);
    assert.equal(errorCode, 0);
    const decoded = decodeRecords(records);
    for (const r of decoded) {
      assert.equal(r.offset, offset, 'offsets are contiguous');
      out.push(r.value!.toString().replace(/\.+$/, ''));
      offset++;
    }
  }
  return out;
}

function expected(batches: number): string[] {
  return Array.from({ length: batches * RECORDS_PER_BATCH }, (_, i) => `b${Math.floor(i / RECORDS_PER_BATCH)}-${i % RECORDS_PER_BATCH}`);
}

async function segmentFiles(dir: string, ext: string): Promise<string[]> {
  return (await readdir(join(dir, 't-0'))).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, 't-0', f));
}

test('garbage after the last batch is cut off on open and appends continue', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, 10);
    const [log] = await segmentFiles(dir, '.log');
    const goodSize = (await stat(log!)).size;
    await appendFile(log!, Buffer.from('this is not a record batch, just noise from a torn write'));
    const store = await openBrokerStore(dir, { fsync: 'never' });
    assert.equal((await stat(log!)).size, goodSize);
    assert.deepEqual(await allValues(store), expected(10));
    assert.equal((await store.partition('t', 0)!.append(valueBatch('b10', RECORDS_PER_BATCH, 30), 1)).baseOffset, 30);
    assert.deepEqual(await allValues(store), expected(11));
    await store.close();
  });
});

test('a segment cut at random byte offsets recovers to a prefix of whole batches', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, 20);
    const [log] = await segmentFiles(dir, '.log');
    const original = await stat(log!);
    const batchSize = original.size / 20;
    // Deterministic pseudo-random cuts, including 0 and positions inside headers.
    let seed = 7;
    const cuts = [0, 1, 12, 60, batchSize, batchSize + 1, original.size - 1];
    for (let i = 0; i < 12; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      cuts.push(seed % original.size);
    }
    cuts.sort((a, b) => b - a); // cut ever shorter
    for (const cut of cuts) {
      await truncate(log!, cut);
      const store = await openBrokerStore(dir, { fsync: 'never' });
      const whole = Math.floor(cut / batchSize);
      assert.equal(store.partition('t', 0)!.highWatermark, whole * RECORDS_PER_BATCH, `cut at ${cut}`);
      assert.deepEqual(await allValues(store), expected(whole));
      await store.close();
    }
  });
});

test('a corrupted byte in the last segment truncates from that batch; later segments go too', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, 40, 2048); // several segments
    const logs = await segmentFiles(dir, '.log');
    assert.ok(logs.length >= 4, `expected several segments, got ${logs.length}`);
    const secondLast = logs[logs.length - 2]!;
    // Flip one byte in the second batch of the second-to-last segment.
    const handle = await open(secondLast, 'r+');
    const header = Buffer.alloc(12);
    await handle.read(header, 0, 12, 0);
    const firstBatchSize = header.readInt32BE(8) + 12;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, firstBatchSize + 70);
    byte[0]! ^= 0xff;
    await handle.write(byte, 0, 1, firstBatchSize + 70);
    await handle.close();
    const firstOffsetOfSegment = Number(secondLast.slice(-24, -4));

    const events: StorageEvent[] = [];
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 2048, onEvent: (e) => events.push(e) });
    const log = store.partition('t', 0)!;
    assert.equal(log.highWatermark, firstOffsetOfSegment + RECORDS_PER_BATCH);
    assert.deepEqual(events.map((e) => e.type), ['truncated', 'segments-dropped']);
    assert.equal(events[0]!.type === 'truncated' && events[0]!.reason, 'CRC mismatch');
    assert.deepEqual(await allValues(store), expected(40).slice(0, firstOffsetOfSegment + RECORDS_PER_BATCH));
    assert.equal((await segmentFiles(dir, '.log')).length, logs.length - 1);
    assert.equal((await log.append(valueBatch('again', 1, 30), 1)).baseOffset, firstOffsetOfSegment + RECORDS_PER_BATCH);
    await store.close();
  });
});

test('missing or garbage index files are rebuilt', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, 300, 8192);
    const indexes = await segmentFiles(dir, '.index');
    assert.ok(indexes.length >= 3);
    await rm(indexes[0]!);
    await writeFile(indexes[1]!, Buffer.alloc(48, 0xab));
    await truncate(indexes[indexes.length - 1]!, 5);
    const store = await openBrokerStore(dir, { fsync: 'never', segmentBytes: 8192 });
    assert.deepEqual(await allValues(store), expected(300));
    // Random-access reads land on the right batch in every segment.
    for (const offset of [0, 1, 150, 451, 899]) {
      const { records } = await store.partition('t', 0)!.read(offset, 1);
      const first = decodeRecords(records);
      assert.ok(first[0]!.offset <= offset && first[first.length - 1]!.offset >= offset, `read at ${offset}`);
    }
    await store.close();
  });
});

test('a crash between creating partition directories and writing topics.json leaves no topic behind', async () => {
  await withTempDir(async (dir) => {
    await fill(dir, 1);
    // Simulate the leftovers of a half-done create.
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'ghost-0')));
    await writeFile(join(dir, 'ghost-0', '00000000000000000000.log'), '');
    const store = await openBrokerStore(dir, { fsync: 'never' });
    assert.equal(store.topic('ghost'), undefined);
    assert.ok(!(await readdir(dir)).includes('ghost-0'));
    assert.equal((await store.createTopic('ghost', 1)).errorCode, 0);
    await store.close();
  });
});
