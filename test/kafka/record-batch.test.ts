// The producer's own RecordBatch encoder, decoded by the client library's
// reader (which checks nothing) and by a CRC-32C check here: every codec,
// keys present and absent, multi-byte UTF-8, idempotence fields, and a
// batch large enough to grow the buffer and need multi-byte varints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, crc32c, readRecordsBatch } from '@platformatic/kafka';
import { BatchBuilder } from '../../src/kafka/record-batch.ts';
import { COMPRESSIONS } from '../../src/kafka/types.ts';

for (const compression of COMPRESSIONS) {
  test(`record batch round trip (${compression})`, () => {
    const builder = new BatchBuilder(128);
    const values: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const value = i % 7 === 0 ? `{"ts":"élan ${i}","v":${'x'.repeat(i % 300)}}` : `{"i":${i}}`;
      values.push(value);
      builder.add(i % 5 === 0 ? undefined : Buffer.from(`server_${i % 13}`), i % 2 === 0 ? value : Buffer.from(value));
    }
    const batch = builder.finish({ producerId: 1234n, producerEpoch: 2, baseSequence: 77 }, compression);
    assert.equal(batch.readInt32BE(8), batch.length - 12);
    assert.equal(batch.readUInt32BE(17), crc32c(batch.subarray(21)) >>> 0);
    assert.equal(batch.readInt16BE(21) & 7, { none: 0, gzip: 1, snappy: 2, lz4: 3 }[compression]);
    const decoded = readRecordsBatch(Reader.from(batch));
    assert.equal(decoded.producerId, 1234n);
    assert.equal(decoded.producerEpoch, 2);
    assert.equal(decoded.firstSequence, 77);
    assert.equal(decoded.lastOffsetDelta, 2999);
    assert.equal(decoded.records.length, 3000);
    decoded.records.forEach((record, i) => {
      assert.equal(record.offsetDelta, i);
      assert.equal(record.value?.toString('utf8'), values[i]);
      assert.equal(record.key?.toString() ?? null, i % 5 === 0 ? null : `server_${i % 13}`);
      assert.deepEqual(record.headers, []);
    });
  });
}
