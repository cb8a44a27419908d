// The consumer's own record-set decoder against the client library's reader
// (an independent implementation) on batches from both encoders: every
// codec, headers, timestamp deltas, multi-byte varints; then the rules it
// keeps from Kafka's consumer: start offset inside a batch, a set cut at
// any byte, control batches, aborted transactions, LogAppendTime, and
// corrupt input reported as an error, never misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, createRecordsBatch, readRecordsBatches } from '@platformatic/kafka';
import { BatchBuilder } from '../../src/kafka/record-batch.ts';
import { CorruptRecordSetError, decodeRecordSet } from '../../src/kafka/record-decoder.ts';
import { COMPRESSIONS, type ConsumedRecord } from '../../src/kafka/types.ts';

/** Sets a batch's base offset (the broker does this on append). */
function at(batch: Buffer, baseOffset: number): Buffer {
  const copy = Buffer.from(batch);
  copy.writeBigInt64BE(BigInt(baseOffset), 0);
  return copy;
}

function ours(batch: number, compression: (typeof COMPRESSIONS)[number]): Buffer {
  const builder = new BatchBuilder(256);
  for (let i = 0; i < 300; i++) builder.add(i % 4 === 0 ? undefined : Buffer.from(`server_${batch}_${i}`), `{"batch":${batch},"i":${i},"s":"${'é'.repeat(i % 90)}"}`);
  return builder.finish(null, compression);
}

function theirs(batch: number, compression: string): Buffer {
  const messages = Array.from({ length: 200 }, (_, i) => ({
    topic: 't',
    key: Buffer.from(`k${i}`),
    value: Buffer.from('v'.repeat(i * 3)),
    timestamp: 1_700_000_000_000n + BigInt(i * 1000 + batch),
    headers: new Map([[Buffer.from('h'), Buffer.from(`header ${i}`)]]),
  }));
  return createRecordsBatch(messages, { compression: compression as 'none' }).buffer;
}

function decodeAll(data: Buffer, from = 0, aborted: Parameters<typeof decodeRecordSet>[4] = null): { records: ConsumedRecord[]; next: number } {
  const records: ConsumedRecord[] = [];
  const { next, records: count } = decodeRecordSet(data, 't', 3, from, aborted, records);
  assert.equal(count, records.length);
  return { records, next };
}

test('record sets decode as the client library reads them: every codec, both encoders, headers and timestamps', () => {
  const batches: Buffer[] = [];
  let offset = 0;
  for (const compression of COMPRESSIONS) {
    batches.push(at(ours(batches.length, compression), offset));
    offset += 300;
  }
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    batches.push(at(theirs(batches.length, compression), offset));
    offset += 200;
  }
  const data = Buffer.concat(batches);
  const { records, next } = decodeAll(data);
  assert.equal(next, offset);
  const expected = readRecordsBatches(Reader.from(data)).flatMap((batch) =>
    batch.records.map((r) => ({
      topic: 't',
      partition: 3,
      offset: Number(batch.firstOffset) + r.offsetDelta,
      key: r.key === null ? null : r.key.toString('latin1'),
      value: r.value === null ? null : r.value.toString('latin1'),
      timestamp: Number(batch.firstTimestamp + r.timestampDelta),
    })),
  );
  assert.equal(records.length, offset);
  assert.deepEqual(
    records.map((r) => ({ ...r, key: r.key === null ? null : r.key.toString('latin1'), value: r.value === null ? null : r.value.toString('latin1') })),
    expected,
  );
});

test('records below the start offset are skipped, inside a batch too', () => {
  const data = Buffer.concat([at(ours(0, 'lz4'), 100), at(ours(1, 'none'), 400)]);
  const { records, next } = decodeAll(data, 450);
  assert.equal(next, 700);
  assert.deepEqual(records.map((r) => r.offset), Array.from({ length: 250 }, (_, i) => 450 + i));
  assert.deepEqual(decodeAll(data, 700), { records: [], next: 700 });
});

test('a record set cut at any byte yields its complete batches and the offset after them', () => {
  const first = at(theirs(0, 'none'), 0);
  const second = at(ours(1, 'snappy'), 200);
  const data = Buffer.concat([first, second]);
  for (let cut = 0; cut <= data.length; cut += cut < first.length - 40 ? 37 : 1) {
    const { records, next } = decodeAll(data.subarray(0, cut));
    const complete = cut >= data.length ? 500 : cut >= first.length ? 200 : 0;
    assert.equal(records.length, complete, `cut at ${cut}`);
    assert.equal(next, complete);
  }
});

test('control batches and the batches of aborted transactions are skipped; their offsets are passed', () => {
  const transactional = (batch: Buffer, producerId: bigint, control = false): Buffer => {
    batch.writeInt16BE(batch.readInt16BE(21) | 0x10 | (control ? 0x20 : 0), 21);
    batch.writeBigInt64BE(producerId, 43);
    return batch;
  };
  const marker = (producerId: bigint, offset: number): Buffer => {
    const builder = new BatchBuilder();
    builder.add(Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 0, 0]));
    return transactional(at(builder.finish(null, 'none'), offset), producerId, true);
  };
  const data = Buffer.concat([
    at(ours(0, 'none'), 0), // 0-299 plain
    transactional(at(ours(1, 'lz4'), 300), 7n), // 300-599 aborted
    transactional(at(ours(2, 'none'), 600), 8n), // 600-899 committed
    marker(7n, 900), // abort of producer 7
    marker(8n, 901), // commit of producer 8
    transactional(at(ours(3, 'none'), 902), 7n), // 902-1201: a later transaction of 7, committed
  ]);
  const { records, next } = decodeAll(data, 0, [{ producerId: 7n, firstOffset: 300 }]);
  assert.equal(next, 1202);
  const offsets = records.map((r) => r.offset);
  assert.deepEqual(offsets, [...Array.from({ length: 300 }, (_, i) => i), ...Array.from({ length: 300 }, (_, i) => 600 + i), ...Array.from({ length: 300 }, (_, i) => 902 + i)]);
  // read_uncommitted (no aborted list): every data batch, no control batch.
  assert.equal(decodeAll(data).records.length, 1200);
});

test('LogAppendTime batches give every record the batch max timestamp', () => {
  const batch = at(theirs(0, 'none'), 0);
  batch.writeInt16BE(batch.readInt16BE(21) | 0x08, 21);
  batch.writeBigInt64BE(1_800_000_000_000n, 35);
  assert.deepEqual(new Set(decodeAll(batch).records.map((r) => r.timestamp)), new Set([1_800_000_000_000]));
});

test('corrupt record sets are errors, never misread', () => {
  const good = at(ours(0, 'none'), 0);
  const oldMagic = Buffer.from(good);
  oldMagic[16] = 1;
  assert.throws(() => decodeAll(oldMagic), CorruptRecordSetError);
  const badCodec = Buffer.from(good);
  badCodec.writeInt16BE(6, 21);
  assert.throws(() => decodeAll(badCodec), CorruptRecordSetError);
  // The batch length says it ends 10 bytes early: its last record runs past it.
  const short = Buffer.from(good.subarray(0, good.length - 10));
  short.writeInt32BE(short.length - 12, 8);
  assert.throws(() => decodeAll(short), CorruptRecordSetError);
});
