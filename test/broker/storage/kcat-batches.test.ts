// Record batches captured from kcat 1.7.1 (librdkafka 2.0.2): 300 records
// each, uncompressed, gzip, snappy, lz4, zstd, and lz4 from an idempotent
// producer (producerId 0, epoch 0, sequence 0). Captured from the log of
// the embedded broker, so baseOffset is 0 as assigned there; everything
// else is byte for byte what kcat sent.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { validateBatches } from '../../../src/broker/storage/record-batch.ts';
import { decodeRecords, withTempDir } from './helpers.ts';

const fixtures = ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'idempotent'] as const;
const codecOf = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4, idempotent: 3 };

async function fixture(name: string): Promise<Buffer> {
  return readFile(join(import.meta.dirname, 'fixtures', `kcat-${name}.batches`));
}

test('kcat batches of every codec validate, append after existing data, and read back byte for byte', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    for (const name of fixtures) {
      const bytes = await fixture(name);
      const validation = validateBatches(bytes);
      assert.equal(validation.errorCode, 0, name);
      const [batch] = validation.batches!;
      assert.equal(batch!.attributes & 7, codecOf[name], name);
      assert.equal(batch!.recordsCount, 300);

      await store.createTopic(name, 1);
      const log = store.partition(name, 0)!;
      // Appended twice: the second copy shows the rewritten baseOffset.
      const first = Buffer.from(bytes);
      assert.equal((await log.append(first, -1)).baseOffset, 0);
      const again = Buffer.from(bytes);
      const second = await log.append(again, -1);
      if (name === 'idempotent') {
        // The same producer/sequence again is a retry: answered with the original offset, not written.
        assert.deepEqual([second.errorCode, second.baseOffset, log.highWatermark], [0, 0, 300]);
        continue;
      }
      assert.equal(second.baseOffset, 300);
      const read = await log.read(300, 1 << 20);
      assert.equal(read.records.length, bytes.length);
      assert.equal(read.records.readBigInt64BE(0), 300n);
      assert.ok(read.records.subarray(8).equals(bytes.subarray(8)), `${name}: only baseOffset differs`);
    }
    const plain = decodeRecords((await store.partition('none', 0)!.read(0, 1 << 20)).records);
    assert.equal(plain.length, 600);
    assert.equal(plain[299]!.value!.toString(), 'kcat record number 300');
    assert.equal(plain[299]!.offset, 299);
    await store.close();
  });
});
