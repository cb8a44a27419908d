// Decodes the record set of one partition from a Fetch response (RecordBatch
// v2, the layout is at the top of record-batch.ts) straight into
// ConsumedRecords: one object per record whose key and value are views of
// the (decompressed) batch, no intermediate record objects, no bigint.
// The client library's reader builds several objects, a headers array and
// bigints per record, and its stream adds a message object with closures on
// top: that was most of the consumer's CPU time.
//
// Rules kept from Kafka's consumer: records below the requested offset are
// skipped (a batch may start before it); control batches are skipped;
// read_committed drops the batches of aborted transactions (the response
// lists them); a record's timestamp is the batch's max timestamp when the
// batch says LogAppendTime; a batch cut short at the end of the response is
// left for the next fetch. CRCs are not checked (librdkafka's default too).

import { compressionsAlgorithms } from '@platformatic/kafka';
import type { ConsumedRecord } from './types.ts';

const HEADER_BYTES = 61;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const TIMESTAMP_LOG_APPEND = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: number;
}

export interface DecodedRecordSet {
  /** Next offset to fetch: past the last complete batch (or `from` when there was none). */
  next: number;
  /** Records appended to `out`. */
  records: number;
}

/** A record set that does not decode (bad magic, lengths past the end, unknown codec). */
export class CorruptRecordSetError extends Error {}

/** Cursor of the varint reader (module state: no object per read). */
let at = 0;

function varint(bytes: Buffer): number {
  let byte = bytes[at++]!;
  if (byte < 128) return (byte >>> 1) ^ -(byte & 1);
  let value = byte & 127;
  let scale = 128;
  for (let i = 1; i < 10; i++) {
    byte = bytes[at++] ?? 0;
    value += (byte & 127) * scale;
    if (byte < 128) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    scale *= 128;
  }
  throw new CorruptRecordSetError('varint longer than 10 bytes');
}

/** Signed 64-bit big-endian as a number (exact below 2^53). */
function int64(bytes: Buffer, offset: number): number {
  return bytes.readInt32BE(offset) * 4294967296 + bytes.readUInt32BE(offset + 4);
}

/**
 * Appends the records of `data` with offset >= `from` to `out`. `aborted`
 * (read_committed) is the response's list of aborted transactions, or null.
 */
export function decodeRecordSet(data: Buffer, topic: string, partition: number, from: number, aborted: readonly AbortedTransaction[] | null, out: ConsumedRecord[]): DecodedRecordSet {
  let next = from;
  let records = 0;
  let batchStart = 0;
  const pendingAborts = aborted !== null && aborted.length > 0 ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : null;
  const abortedProducers = new Set<bigint>();
  while (batchStart + 17 <= data.length) {
    const batchEnd = batchStart + 12 + data.readInt32BE(batchStart + 8);
    if (batchEnd > data.length) break; // cut short by the fetch size: fetched again next time
    const magic = data[batchStart + 16];
    if (magic !== 2) throw new CorruptRecordSetError(`record batch magic ${magic} at offset ${int64(data, batchStart)} (only v2 is read)`);
    if (batchEnd < batchStart + HEADER_BYTES) throw new CorruptRecordSetError(`record batch of ${batchEnd - batchStart} bytes`);
    const baseOffset = int64(data, batchStart);
    const attributes = data.readInt16BE(batchStart + 21);
    const lastOffset = baseOffset + data.readInt32BE(batchStart + 23);
    const start = batchStart;
    batchStart = batchEnd;
    if (lastOffset < from) continue;
    next = lastOffset + 1;
    if ((attributes & TRANSACTIONAL) !== 0 && pendingAborts !== null) {
      const producerId = data.readBigInt64BE(start + 43);
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
      if ((attributes & CONTROL) !== 0) {
        // The marker ends the transaction: key = version int16, type int16 (0 abort, 1 commit).
        abortedProducers.delete(producerId);
        continue;
      }
      if (abortedProducers.has(producerId)) continue;
    }
    if ((attributes & CONTROL) !== 0) continue;
    const codec = CODECS[attributes & 7];
    if (codec === undefined) throw new CorruptRecordSetError(`record batch codec ${attributes & 7} at offset ${baseOffset}`);
    const count = data.readInt32BE(start + 57);
    const baseTimestamp = int64(data, start + 27);
    const logAppendTime = (attributes & TIMESTAMP_LOG_APPEND) !== 0;
    const maxTimestamp = int64(data, start + 35);
    let bytes = data;
    at = start + HEADER_BYTES;
    let end = batchEnd;
    if (codec !== 'none') {
      bytes = compressionsAlgorithms[codec].decompressSync(data.subarray(start + HEADER_BYTES, batchEnd));
      at = 0;
      end = bytes.length;
    }
    for (let i = 0; i < count; i++) {
      const length = varint(bytes);
      const recordEnd = at + length;
      if (length < 0 || recordEnd > end) throw new CorruptRecordSetError(`record ${i} of the batch at offset ${baseOffset} runs past the batch`);
      at++; // attributes
      const timestampDelta = varint(bytes);
      const offset = baseOffset + varint(bytes);
      const keyLength = varint(bytes);
      const key = keyLength < 0 ? null : bytes.subarray(at, at + keyLength);
      if (keyLength > 0) at += keyLength;
      const valueLength = varint(bytes);
      const value = valueLength < 0 ? null : bytes.subarray(at, at + valueLength);
      // Headers are not read by anything here; the record length skips them.
      if (at + Math.max(valueLength, 0) > recordEnd) throw new CorruptRecordSetError(`record ${i} of the batch at offset ${baseOffset} runs past its length`);
      at = recordEnd;
      if (offset < from) continue;
      out.push({ topic, partition, offset, key, value, timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta });
      records++;
    }
  }
  return { next, records };
}
