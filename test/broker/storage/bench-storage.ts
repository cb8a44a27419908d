// Micro-benchmark of the storage hot paths (not a test; run by hand):
//   node_modules/.bin/node test/broker/storage/bench-storage.ts
// Appends batches of 10,000 records of 100 bytes (what kcat sends) to 4
// partitions with 8 appends in flight, with fsync 'always' and 'never', then
// reads everything back with 1 MiB fetches.
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { crc32c } from '../../../src/broker/storage/crc32c.ts';
import { valueBatch, withTempDir } from './helpers.ts';

const RECORDS_PER_BATCH = 10_000;
const BATCHES = Number(process.env.BATCHES ?? 300);
const template = valueBatch('bench', RECORDS_PER_BATCH, 100);

const crcStart = performance.now();
for (let i = 0; i < 50; i++) crc32c(template, 21);
console.log(`crc32c: ${((50 * template.length) / 1e6 / ((performance.now() - crcStart) / 1000)).toFixed(0)} MB/s`);

for (const fsync of ['always', 'never'] as const) {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync });
    await store.createTopic('bench', 4);
    let next = 0;
    const started = performance.now();
    const lane = async (): Promise<void> => {
      for (let i = next++; i < BATCHES; i = next++) {
        const result = await store.partition('bench', i % 4)!.append(Buffer.from(template), -1);
        if (result.errorCode !== 0) throw new Error(`append error ${result.errorCode}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    const seconds = (performance.now() - started) / 1000;
    const records = BATCHES * RECORDS_PER_BATCH;
    console.log(
      `append fsync=${fsync}: ${(records / seconds / 1e3).toFixed(0)}k records/s, ${((BATCHES * template.length) / 1e6 / seconds).toFixed(0)} MB/s, ` +
        `${BATCHES} appends, ${store.counters.fsyncRounds} fsync rounds, ${store.counters.fsyncs} fdatasyncs`,
    );

    const readStart = performance.now();
    let bytes = 0;
    for (let p = 0; p < 4; p++) {
      const log = store.partition('bench', p)!;
      for (let offset = 0; offset < log.highWatermark;) {
        const { records: chunk } = await log.read(offset, 1 << 20);
        bytes += chunk.length;
        let at = 0;
        while (at < chunk.length) {
          const last = Number(chunk.readBigInt64BE(at)) + chunk.readInt32BE(at + 23);
          at += chunk.readInt32BE(at + 8) + 12;
          offset = last + 1;
        }
      }
    }
    const readSeconds = (performance.now() - readStart) / 1000;
    console.log(`read: ${(records / readSeconds / 1e3).toFixed(0)}k records/s, ${(bytes / 1e6 / readSeconds).toFixed(0)} MB/s`);
    await store.close();
  });
}
