// Reads Kafka wire primitives from one request frame. Every read checks the
// bounds and throws ProtocolError, so a truncated or lying frame ends as a
// closed connection, never as an exception escaping into the server loop.
import { ProtocolError } from './errors.ts';

const TWO_32 = 4294967296;

export class Reader {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private take(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) throw new ProtocolError(`truncated: wanted ${n} bytes at ${at}, frame ends at ${this.end}`);
    this.offset = at + n;
    return at;
  }

  int8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  /** int64 as a JS number: exact for |v| < 2^53, which covers offsets, timestamps and producer ids in practice. */
  int64(): number {
    const at = this.take(8);
    return this.buffer.readInt32BE(at) * TWO_32 + this.buffer.readUInt32BE(at + 4);
  }

  float64(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }

  bool(): boolean {
    return this.buffer[this.take(1)] !== 0;
  }

  /** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.buffer[this.take(1)] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw new ProtocolError('uvarint overflows 32 bits');
        return value;
      }
      shift += 7;
    }
    throw new ProtocolError('uvarint longer than 5 bytes');
  }

  /** Zigzag varint (int32). */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zigzag varlong (int64), returned as a number (exact below 2^53). */
  varlong(): number {
    let raw = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const byte = this.buffer[this.take(1)] as number;
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return Number((raw >> 1n) ^ -(raw & 1n));
      shift += 7n;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  raw(n: number): Buffer {
    const at = this.take(n);
    return this.buffer.subarray(at, at + n);
  }

  /** INT16 length-prefixed string; -1 is null. */
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) {
      if (length !== -1) throw new ProtocolError(`bad string length ${length}`);
      return null;
    }
    const at = this.take(length);
    return this.buffer.toString('utf8', at, at + length);
  }

  /** UVARINT (length + 1) string; 0 is null. */
  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    const at = this.take(lengthPlusOne - 1);
    return this.buffer.toString('utf8', at, at + lengthPlusOne - 1);
  }

  /** INT32 length-prefixed bytes; -1 is null. Returns a view, not a copy. */
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) {
      if (length !== -1) throw new ProtocolError(`bad bytes length ${length}`);
      return null;
    }
    return this.raw(length);
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    return this.raw(lengthPlusOne - 1);
  }

  /** Array length: INT32 (classic) or UVARINT length + 1 (compact); -1 means null. */
  arrayLength(compact: boolean): number {
    const length = compact ? this.uvarint() - 1 : this.int32();
    if (length < -1) throw new ProtocolError(`bad array length ${length}`);
    // Each element takes at least one byte, so a longer claim is a lie; this
    // stops a tiny frame from making us allocate a huge array.
    if (length > this.remaining) throw new ProtocolError(`array length ${length} exceeds the ${this.remaining} bytes left`);
    return length;
  }

  /** UUID as 32 lowercase hex digits. */
  uuid(): string {
    const at = this.take(16);
    return this.buffer.toString('hex', at, at + 16);
  }

  /** Skips a tagged-field block, calling `onTag` for each tag so known tags can be decoded. */
  taggedFields(onTag?: (tag: number, size: number, reader: Reader) => boolean): void {
    const count = this.uvarint();
    if (count > this.remaining) throw new ProtocolError(`tagged field count ${count} exceeds the frame`);
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      const at = this.take(size);
      if (onTag) {
        const sub = new Reader(this.buffer, at, at + size);
        onTag(tag, size, sub);
      }
    }
  }
}
