// Encodes Kafka RecordBatch v2 (magic 2) for one partition straight into
// one growing buffer: no object per record, no intermediate buffers. This is
// the producer's hot path; the client library's generic encoder builds
// several small buffers per record and was most of the producer's CPU time.
//
// Layout: baseOffset int64 · batchLength int32 · partitionLeaderEpoch int32 ·
// magic int8 = 2 · crc uint32 (CRC-32C of attributes..end) · attributes int16
// (bits 0-2 codec) · lastOffsetDelta int32 · baseTimestamp int64 ·
// maxTimestamp int64 · producerId int64 · producerEpoch int16 ·
// baseSequence int32 · recordsCount int32 · records. A record is: length
// varint · attributes int8 · timestampDelta varint · offsetDelta varint ·
// key (varint length, -1 for none) · value · header count varint.

import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import type { Compression } from './types.ts';

const HEADER_BYTES = 61;
const CODEC_BITS: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3 };

export interface BatchIdentity {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

export class BatchBuilder {
  private buffer: Buffer;
  /** End of the records written so far (they start at HEADER_BYTES). */
  private end = HEADER_BYTES;
  count = 0;
  private readonly timestamp = Date.now();

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, HEADER_BYTES + 64));
  }

  get bytes(): number {
    return this.end;
  }

  /** Appends a record; every record of the batch carries the batch's timestamp (delta 0). */
  add(key: Buffer | undefined, value: string | Buffer): void {
    const valueBytes = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    const keyBytes = key === undefined ? -1 : key.length;
    const offsetDelta = this.count;
    // Body: attributes + timestampDelta(0) + offsetDelta + key + value + headers(0)
    const bodyBytes = 2 + varintSize(offsetDelta) + varintSize(keyBytes) + Math.max(keyBytes, 0) + varintSize(valueBytes) + valueBytes + 1;
    this.reserve(5 + bodyBytes);
    const buffer = this.buffer;
    let at = writeVarint(buffer, this.end, bodyBytes);
    buffer[at++] = 0; // attributes
    buffer[at++] = 0; // timestampDelta
    at = writeVarint(buffer, at, offsetDelta);
    at = writeVarint(buffer, at, keyBytes);
    if (key !== undefined) at += key.copy(buffer, at);
    at = writeVarint(buffer, at, valueBytes);
    at += typeof value === 'string' ? buffer.write(value, at, 'utf8') : value.copy(buffer, at);
    buffer[at++] = 0; // no headers
    this.end = at;
    this.count++;
  }

  /** The complete batch (a fresh buffer); the builder is not used afterwards. */
  finish(identity: BatchIdentity | null, compression: Compression): Buffer {
    let records = this.buffer.subarray(HEADER_BYTES, this.end);
    let attributes = 0;
    if (compression !== 'none') {
      records = compressionsAlgorithms[compression].compressSync(records);
      attributes |= CODEC_BITS[compression];
    }
    const batch = Buffer.allocUnsafe(HEADER_BYTES + records.length);
    batch.writeBigInt64BE(0n, 0);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt32BE(-1, 12); // partitionLeaderEpoch: unknown
    batch.writeInt8(2, 16);
    batch.writeInt16BE(attributes, 21);
    batch.writeInt32BE(this.count - 1, 23);
    batch.writeBigInt64BE(BigInt(this.timestamp), 27);
    batch.writeBigInt64BE(BigInt(this.timestamp), 35);
    batch.writeBigInt64BE(identity?.producerId ?? -1n, 43);
    batch.writeInt16BE(identity?.producerEpoch ?? -1, 51);
    batch.writeInt32BE(identity?.baseSequence ?? -1, 53);
    batch.writeInt32BE(this.count, 57);
    records.copy(batch, HEADER_BYTES);
    batch.writeUInt32BE(crc32c(batch.subarray(21)) >>> 0, 17);
    return batch;
  }

  private reserve(bytes: number): void {
    if (this.end + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.end + bytes));
    this.buffer.copy(grown, 0, 0, this.end);
    this.buffer = grown;
  }
}

/** Bytes of a zigzag varint. */
function varintSize(value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  let size = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

function writeVarint(buffer: Buffer, at: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  while (v >= 128) {
    buffer[at++] = (v & 127) | 128;
    v = Math.floor(v / 128);
  }
  buffer[at++] = v;
  return at;
}
