// RecordBatch v2 header access for storage: splitting a Produce `records`
// blob into batches, validating them (length, magic, CRC-32C), rewriting
// baseOffset, and scanning stored bytes during reads and recovery. Storage
// works per batch only; records inside a batch are never decoded.
//
// Header layout (big-endian): baseOffset i64 @0 · batchLength i32 @8 (bytes
// after this field) · partitionLeaderEpoch i32 @12 · magic i8 @16 · crc u32
// @17 (CRC-32C of bytes 21..end) · attributes i16 @21 · lastOffsetDelta i32
// @23 · baseTimestamp i64 @27 · maxTimestamp i64 @35 · producerId i64 @43 ·
// producerEpoch i16 @51 · baseSequence i32 @53 · recordsCount i32 @57.

import { crc32c } from './crc32c.ts';
import { StorageErrorCode } from './types.ts';

export const BATCH_HEADER_BYTES = 61;
/** Bytes before batchLength's coverage starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD;
const CRC_START = 21;
const TWO_32 = 4294967296;
const MAX_CODEC = 4;

export interface BatchInfo {
  /** Byte position of the batch inside the scanned buffer. */
  position: number;
  /** Whole batch size in bytes (batchLength + 12). */
  size: number;
  baseOffset: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  attributes: number;
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  buf.writeInt32BE(high, at);
  buf.writeUInt32BE(value - high * TWO_32, at + 4);
}

export function batchInfoAt(buf: Buffer, at: number): BatchInfo {
  return {
    position: at,
    size: buf.readInt32BE(at + 8) + LOG_OVERHEAD,
    baseOffset: readInt64(buf, at),
    lastOffsetDelta: buf.readInt32BE(at + 23),
    maxTimestamp: readInt64(buf, at + 35),
    producerId: readInt64(buf, at + 43),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordsCount: buf.readInt32BE(at + 57),
    attributes: buf.readInt16BE(at + 21),
  };
}

export type ValidationResult =
  | { errorCode: 0; errorMessage: null; batches: BatchInfo[] }
  | { errorCode: number; errorMessage: string; batches: null };

function invalid(errorCode: number, errorMessage: string): ValidationResult {
  return { errorCode, errorMessage, batches: null };
}

/**
 * Splits a Produce `records` blob into batches and checks each one the way
 * a broker must before accepting it. The blob must be nothing but whole
 * batches: a trailing fragment is CORRUPT_MESSAGE, as Kafka treats it.
 */
export function validateBatches(records: Buffer): ValidationResult {
  if (records.length === 0) return invalid(StorageErrorCode.INVALID_RECORD, 'empty record set');
  const batches: BatchInfo[] = [];
  let at = 0;
  while (at < records.length) {
    const remaining = records.length - at;
    if (remaining < BATCH_HEADER_BYTES) return invalid(StorageErrorCode.CORRUPT_MESSAGE, `truncated batch header at byte ${at}`);
    const batchLength = records.readInt32BE(at + 8);
    if (batchLength < MIN_BATCH_LENGTH) return invalid(StorageErrorCode.CORRUPT_MESSAGE, `batch length ${batchLength} too small at byte ${at}`);
    if (batchLength + LOG_OVERHEAD > remaining) return invalid(StorageErrorCode.CORRUPT_MESSAGE, `batch at byte ${at} is truncated`);
    const magic = records[at + 16];
    if (magic !== 2) return invalid(StorageErrorCode.CORRUPT_MESSAGE, `unsupported magic ${magic} (only RecordBatch v2)`);
    const end = at + LOG_OVERHEAD + batchLength;
    const expectedCrc = records.readUInt32BE(at + 17);
    if (crc32c(records, at + CRC_START, end) !== expectedCrc) return invalid(StorageErrorCode.CORRUPT_MESSAGE, `CRC-32C mismatch in batch at byte ${at}`);
    const info = batchInfoAt(records, at);
    if ((info.attributes & 7) > MAX_CODEC) return invalid(StorageErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec ${info.attributes & 7}`);
    if (info.recordsCount <= 0 || info.lastOffsetDelta !== info.recordsCount - 1) {
      return invalid(StorageErrorCode.INVALID_RECORD, `batch at byte ${at}: ${info.recordsCount} records but lastOffsetDelta ${info.lastOffsetDelta}`);
    }
    if (info.attributes & 0x20) return invalid(StorageErrorCode.INVALID_RECORD, 'control batches cannot be produced');
    batches.push(info);
    at = end;
  }
  return { errorCode: 0, errorMessage: null, batches };
}

export interface ScanResult {
  batches: BatchInfo[];
  /** Position just after the last good batch (relative to the buffer). */
  validEnd: number;
  /** Why scanning stopped before the end of the buffer, or null when it did not. */
  stopReason: string | null;
  /** True when scanning stopped only because the last batch is cut by the buffer end. */
  incomplete: boolean;
}

/**
 * Walks stored batches in buf[from, to). With verify, also checks magic,
 * CRC and that offsets follow on from expectedNextOffset (recovery); a
 * batch cut by the buffer end is reported as incomplete so the caller can
 * read further before deciding it is a torn tail.
 */
export function scanBatches(buf: Buffer, from: number, to: number, verify: boolean, expectedNextOffset = -1): ScanResult {
  const batches: BatchInfo[] = [];
  let at = from;
  let next = expectedNextOffset;
  while (at < to) {
    const remaining = to - at;
    if (remaining < BATCH_HEADER_BYTES) return { batches, validEnd: at, stopReason: 'truncated header', incomplete: true };
    const batchLength = buf.readInt32BE(at + 8);
    if (batchLength < MIN_BATCH_LENGTH) return { batches, validEnd: at, stopReason: `bad batch length ${batchLength}`, incomplete: false };
    if (batchLength + LOG_OVERHEAD > remaining) return { batches, validEnd: at, stopReason: 'truncated batch', incomplete: true };
    const end = at + LOG_OVERHEAD + batchLength;
    if (verify) {
      if (buf[at + 16] !== 2) return { batches, validEnd: at, stopReason: 'bad magic', incomplete: false };
      if (crc32c(buf, at + CRC_START, end) !== buf.readUInt32BE(at + 17)) return { batches, validEnd: at, stopReason: 'CRC mismatch', incomplete: false };
    }
    const info = batchInfoAt(buf, at);
    if (verify) {
      if (info.lastOffsetDelta < 0) return { batches, validEnd: at, stopReason: 'negative lastOffsetDelta', incomplete: false };
      if (next >= 0 && info.baseOffset !== next) return { batches, validEnd: at, stopReason: `offset ${info.baseOffset} where ${next} was expected`, incomplete: false };
      next = info.baseOffset + info.lastOffsetDelta + 1;
    }
    batches.push(info);
    at = end;
  }
  return { batches, validEnd: at, stopReason: null, incomplete: false };
}

/** Zigzag varint (up to 64 bits, as a JS number) at `at`; returns the value and the next position. */
function readVarlong(buf: Buffer, at: number): [number, number] {
  let raw = 0;
  let scale = 1;
  let pos = at;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new RangeError('varint runs past the batch');
    const byte = buf[pos++]!;
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
    scale *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}

/**
 * In one uncompressed batch (starting at byte 0 of `batch`), the first
 * record whose timestamp is >= target. Only the record prefix (length,
 * attributes, timestampDelta, offsetDelta) is decoded.
 */
export function findRecord(batch: Buffer, target: number): { offsetDelta: number; timestamp: number } | null {
  const baseTimestamp = readInt64(batch, 27);
  const count = batch.readInt32BE(57);
  let at = BATCH_HEADER_BYTES;
  try {
    for (let i = 0; i < count && at < batch.length; i++) {
      const [length, bodyStart] = readVarlong(batch, at);
      const [timestampDelta, afterTimestamp] = readVarlong(batch, bodyStart + 1);
      const [offsetDelta] = readVarlong(batch, afterTimestamp);
      if (baseTimestamp + timestampDelta >= target) return { offsetDelta, timestamp: baseTimestamp + timestampDelta };
      at = bodyStart + length;
    }
  } catch {
    return null; // malformed records inside a valid CRC: fall back to the batch
  }
  return null;
}
