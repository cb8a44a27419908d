// Test helpers: builds real RecordBatch v2 bytes (uncompressed) the way a
// producer does, decodes them back, and makes temp data directories.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../../src/broker/storage/crc32c.ts';

export interface TestRecord {
  key?: Buffer | null;
  value: Buffer | null;
  timestampDelta?: number;
}

export interface BatchOptions {
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
}

function zigzagVarint(value: number, out: number[]): void {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let shift = 0;
  let raw = 0;
  let pos = at;
  for (;;) {
    const b = buf[pos++]!;
    raw += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  return [value, pos];
}

/** One RecordBatch v2 with baseOffset 0 and a correct CRC-32C. */
export function buildBatch(records: readonly TestRecord[], options: BatchOptions = {}): Buffer {
  const body: Buffer[] = records.map((r, i) => {
    const inner: number[] = [0]; // attributes
    zigzagVarint(r.timestampDelta ?? 0, inner);
    zigzagVarint(i, inner);
    const parts: Buffer[] = [];
    const key = r.key ?? null;
    zigzagVarint(key ? key.length : -1, inner);
    parts.push(Buffer.from(inner));
    if (key) parts.push(key);
    const tail: number[] = [];
    zigzagVarint(r.value ? r.value.length : -1, tail);
    parts.push(Buffer.from(tail));
    if (r.value) parts.push(r.value);
    parts.push(Buffer.from([0])); // no headers
    const recordBody = Buffer.concat(parts);
    const len: number[] = [];
    zigzagVarint(recordBody.length, len);
    return Buffer.concat([Buffer.from(len), recordBody]);
  });
  const recordsBytes = Buffer.concat(body);
  const header = Buffer.alloc(61);
  const baseTimestamp = options.baseTimestamp ?? 1_700_000_000_000;
  const maxDelta = Math.max(0, ...records.map((r) => r.timestampDelta ?? 0));
  header.writeBigInt64BE(0n, 0);
  header.writeInt32BE(61 - 12 + recordsBytes.length, 8);
  header.writeInt32BE(0, 12);
  header.writeInt8(2, 16);
  header.writeInt16BE(options.attributes ?? 0, 21);
  header.writeInt32BE(records.length - 1, 23);
  header.writeBigInt64BE(BigInt(baseTimestamp), 27);
  header.writeBigInt64BE(BigInt(baseTimestamp + maxDelta), 35);
  header.writeBigInt64BE(BigInt(options.producerId ?? -1), 43);
  header.writeInt16BE(options.producerEpoch ?? -1, 51);
  header.writeInt32BE(options.baseSequence ?? -1, 53);
  header.writeInt32BE(records.length, 57);
  const batch = Buffer.concat([header, recordsBytes]);
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  return batch;
}

/** n records whose values are `${prefix}-${i}` padded to `size` bytes. */
export function valueBatch(prefix: string, count: number, size = 20, options: BatchOptions = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`${prefix}-${i}`.padEnd(size, '.')) }));
  return buildBatch(records, options);
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Decodes concatenated uncompressed batches (as returned by a read) into records. */
export function decodeRecords(bytes: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let at = 0;
  while (at + 61 <= bytes.length) {
    const size = bytes.readInt32BE(at + 8) + 12;
    const baseOffset = Number(bytes.readBigInt64BE(at));
    const baseTimestamp = Number(bytes.readBigInt64BE(at + 27));
    const count = bytes.readInt32BE(at + 57);
    let pos = at + 61;
    for (let i = 0; i < count; i++) {
      let len;
      [len, pos] = readVarint(bytes, pos);
      const end = pos + len;
      pos += 1; // attributes
      let tsDelta;
      let offDelta;
      let keyLen;
      [tsDelta, pos] = readVarint(bytes, pos);
      [offDelta, pos] = readVarint(bytes, pos);
      [keyLen, pos] = readVarint(bytes, pos);
      const key = keyLen >= 0 ? bytes.subarray(pos, pos + keyLen) : null;
      if (keyLen > 0) pos += keyLen;
      let valueLen;
      [valueLen, pos] = readVarint(bytes, pos);
      const value = valueLen >= 0 ? bytes.subarray(pos, pos + valueLen) : null;
      out.push({ offset: baseOffset + offDelta, timestamp: baseTimestamp + tsDelta, key, value });
      pos = end;
    }
    at += size;
  }
  return out;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-storage-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
