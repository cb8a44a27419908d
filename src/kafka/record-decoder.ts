// Decodes the record set of one partition from a Fetch response (RecordBatch
// v2, the layout is at the top of record-batch.ts) into ConsumedRecords: one
// object per record whose key and value are views of the (decompressed)
// batch, no intermediate record objects, no bigint. The client library's
// reader builds several objects, a headers array and bigints per record, and
// its stream adds a message object with closures on top: that was most of
// the consumer's CPU time.
//
// In two steps, so that records are made only when handed out: a fetch is
// split into its batches at once (headers only: offsets, filters), and each
// batch is decompressed and decoded when the caller takes its records. A
// fetch unpacks to ~90,000 metric records; made all at once they outlived
// the young generation and the GC copied them (a seventh of the detector's
// CPU).
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
type Codec = (typeof CODECS)[number];
const TIMESTAMP_LOG_APPEND = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: number;
}

/** A record set that does not decode (bad magic, lengths past the end, unknown codec). */
export class CorruptRecordSetError extends Error {}

/** Value of the last varint read by varintEnd (module state: no object per read; the positions stay in locals). */
let varintValue = 0;

/** Reads the (zigzag) varint at `at` into varintValue and returns its end. */
function varintEnd(bytes: Buffer, at: number): number {
  let byte = bytes[at++] ?? 0;
  let value = byte & 127;
  let scale = 128;
  for (let i = 1; byte >= 128; i++) {
    if (i === 10) throw new CorruptRecordSetError('varint longer than 10 bytes');
    byte = bytes[at++] ?? 0;
    value += (byte & 127) * scale;
    scale *= 128;
  }
  varintValue = value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  return at;
}

/** Signed 64-bit big-endian as a number (exact below 2^53). */
function int64(bytes: Buffer, offset: number): number {
  return bytes.readInt32BE(offset) * 4294967296 + bytes.readUInt32BE(offset + 4);
}

/** One data batch of a fetched record set; its records are decoded as they are taken. */
export class FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: number;
  /** Records of the batch not taken yet (including any below the start offset). */
  remaining: number;
  /** The batch's records: the fetched bytes, or the decompressed ones once decoding has begun. */
  private bytes: Buffer;
  private at: number;
  private end: number;
  private codec: Codec;
  private readonly from: number;
  private readonly baseTimestamp: number;
  private readonly logAppendTime: number | null;

  constructor(topic: string, partition: number, data: Buffer, start: number, end: number, from: number) {
    this.topic = topic;
    this.partition = partition;
    this.baseOffset = int64(data, start);
    const attributes = data.readInt16BE(start + 21);
    const codec = CODECS[attributes & 7];
    if (codec === undefined) throw new CorruptRecordSetError(`record batch codec ${attributes & 7} at offset ${this.baseOffset}`);
    this.codec = codec;
    this.remaining = data.readInt32BE(start + 57);
    this.baseTimestamp = int64(data, start + 27);
    this.logAppendTime = (attributes & TIMESTAMP_LOG_APPEND) !== 0 ? int64(data, start + 35) : null;
    this.bytes = data;
    this.at = start + HEADER_BYTES;
    this.end = end;
    this.from = from;
  }

  /** Appends up to `max` of the batch's next records (those at or after the start offset) to `out`; returns how many it took from the batch. */
  take(out: ConsumedRecord[], max: number): number {
    if (this.codec !== 'none') {
      this.bytes = compressionsAlgorithms[this.codec].decompressSync(this.bytes.subarray(this.at, this.end));
      this.at = 0;
      this.end = this.bytes.length;
      this.codec = 'none';
    }
    const { bytes, end, topic, partition, baseOffset, baseTimestamp, logAppendTime, from } = this;
    let at = this.at;
    let taken = 0;
    for (; taken < max && this.remaining > 0; this.remaining--) {
      // Single-byte varints (most fields here) are read inline.
      let b = bytes[at]!;
      let length: number;
      if (b < 128) {
        length = (b >>> 1) ^ -(b & 1);
        at++;
      } else {
        at = varintEnd(bytes, at);
        length = varintValue;
      }
      const recordEnd = at + length;
      if (length < 0 || recordEnd > end) throw new CorruptRecordSetError(`a record of the batch at offset ${baseOffset} runs past the batch`);
      at++; // attributes
      at = varintEnd(bytes, at);
      const timestampDelta = varintValue;
      b = bytes[at]!;
      let offset: number;
      if (b < 128) {
        offset = baseOffset + ((b >>> 1) ^ -(b & 1));
        at++;
      } else {
        at = varintEnd(bytes, at);
        offset = baseOffset + varintValue;
      }
      at = varintEnd(bytes, at);
      const keyLength = varintValue;
      const keyAt = at;
      if (keyLength > 0) at += keyLength;
      b = bytes[at]!;
      let valueLength: number;
      if (b < 128) {
        valueLength = (b >>> 1) ^ -(b & 1);
        at++;
      } else {
        at = varintEnd(bytes, at);
        valueLength = varintValue;
      }
      // Headers are not read by anything here; the record length skips them.
      if (at + Math.max(valueLength, 0) > recordEnd) throw new CorruptRecordSetError(`a record of the batch at offset ${baseOffset} runs past its length`);
      if (offset >= from) {
        out.push({
          topic,
          partition,
          offset,
          key: keyLength < 0 ? null : bytes.subarray(keyAt, keyAt + keyLength),
          value: valueLength < 0 ? null : bytes.subarray(at, at + valueLength),
          timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
        });
        taken++;
      }
      at = recordEnd;
    }
    this.at = at;
    return taken;
  }
}

export interface SplitRecordSet {
  /** Next offset to fetch: past the last complete batch (or `from` when there was none). */
  next: number;
  /** Records in the batches appended (an upper bound of what they hand out: some may lie below `from`). */
  records: number;
}

/**
 * Appends the data batches of `data` that hold records at or after `from`
 * to `out`, without decoding their records. `aborted` (read_committed) is
 * the response's list of aborted transactions, or null.
 */
export function splitRecordSet(data: Buffer, topic: string, partition: number, from: number, aborted: readonly AbortedTransaction[] | null, out: FetchedBatch[]): SplitRecordSet {
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
    const start = batchStart;
    batchStart = batchEnd;
    const attributes = data.readInt16BE(start + 21);
    const lastOffset = int64(data, start) + data.readInt32BE(start + 23);
    if (lastOffset < from) continue;
    next = lastOffset + 1;
    if ((attributes & TRANSACTIONAL) !== 0 && pendingAborts !== null) {
      const producerId = data.readBigInt64BE(start + 43);
      while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
      if ((attributes & CONTROL) !== 0) {
        // The marker ends the transaction (commit or abort alike).
        abortedProducers.delete(producerId);
        continue;
      }
      if (abortedProducers.has(producerId)) continue;
    }
    if ((attributes & CONTROL) !== 0) continue;
    const batch = new FetchedBatch(topic, partition, data, start, batchEnd, from);
    records += batch.remaining;
    out.push(batch);
  }
  return { next, records };
}

export interface DecodedRecordSet {
  next: number;
  /** Records appended to `out`. */
  records: number;
}

/** splitRecordSet and every record of it at once (for tests and small reads). */
export function decodeRecordSet(data: Buffer, topic: string, partition: number, from: number, aborted: readonly AbortedTransaction[] | null, out: ConsumedRecord[]): DecodedRecordSet {
  const batches: FetchedBatch[] = [];
  const { next } = splitRecordSet(data, topic, partition, from, aborted, batches);
  let records = 0;
  for (const batch of batches) records += batch.take(out, Infinity);
  return { next, records };
}
