// Builds RecordBatch v2 bytes for tests (uncompressed, CRC-32C filled in),
// the way clients do, so raw-socket tests can produce without a client.
import { Writer, concat } from '../../../src/broker/protocol/writer.ts';
import { crc32c } from '../../../src/broker/storage/crc32c.ts';

export function recordBatch(values: readonly string[], timestamp = Date.now()): Buffer {
  const records = new Writer();
  values.forEach((value, index) => {
    const body = new Writer();
    body.int8(0).varlong(0).varint(index).varint(-1);
    const bytes = Buffer.from(value);
    body.varint(bytes.length).raw(bytes).varint(0);
    const encoded = concat(body.finish());
    records.varint(encoded.length).raw(encoded);
  });
  const recordBytes = concat(records.finish());
  const batch = new Writer();
  batch.int64(0).int32(49 + recordBytes.length).int32(0).int8(2).uint32(0)
    .int16(0).int32(values.length - 1).int64(timestamp).int64(timestamp)
    .int64(-1).int16(-1).int32(-1).int32(values.length).raw(recordBytes);
  const bytes = concat(batch.finish());
  bytes.writeUInt32BE(crc32c(bytes, 21), 17);
  return bytes;
}
