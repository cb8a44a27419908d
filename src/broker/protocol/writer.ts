// Writes Kafka wire primitives into a list of buffers. Small values are copied
// into a growing scratch buffer; large byte strings (stored record batches)
// are appended by reference, so a Fetch response hands the socket the stored
// bytes without copying them.
const TWO_32 = 4294967296;
/** Byte strings at least this long are appended by reference, not copied. */
const ZERO_COPY_MIN = 4096;

export class Writer {
  private readonly chunks: Buffer[] = [];
  private scratch: Buffer;
  private position = 0;
  private flushed = 0;

  constructor(initialSize = 1024) {
    this.scratch = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushed + this.position;
  }

  private room(n: number): void {
    if (this.position + n <= this.scratch.length) return;
    this.cut();
    this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2, 1024));
  }

  /** Moves the filled part of the scratch buffer into the chunk list. */
  private cut(): void {
    if (this.position === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.position));
    this.flushed += this.position;
    this.scratch = this.scratch.subarray(this.position);
    this.position = 0;
  }

  int8(value: number): this {
    this.room(1);
    this.scratch.writeInt8(value, this.position);
    this.position += 1;
    return this;
  }

  int16(value: number): this {
    this.room(2);
    this.scratch.writeInt16BE(value, this.position);
    this.position += 2;
    return this;
  }

  uint16(value: number): this {
    this.room(2);
    this.scratch.writeUInt16BE(value, this.position);
    this.position += 2;
    return this;
  }

  int32(value: number): this {
    this.room(4);
    this.scratch.writeInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  uint32(value: number): this {
    this.room(4);
    this.scratch.writeUInt32BE(value >>> 0, this.position);
    this.position += 4;
    return this;
  }

  int64(value: number): this {
    this.room(8);
    const high = Math.floor(value / TWO_32);
    this.scratch.writeInt32BE(high, this.position);
    this.scratch.writeUInt32BE(value - high * TWO_32, this.position + 4);
    this.position += 8;
    return this;
  }

  float64(value: number): this {
    this.room(8);
    this.scratch.writeDoubleBE(value, this.position);
    this.position += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  uvarint(value: number): this {
    this.room(5);
    let rest = value >>> 0;
    while (rest >= 0x80) {
      this.scratch[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.scratch[this.position++] = rest;
    return this;
  }

  varint(value: number): this {
    return this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  varlong(value: number): this {
    const big = BigInt(value);
    let raw = (big << 1n) ^ (big >> 63n);
    raw &= 0xffffffffffffffffn;
    this.room(10);
    while (raw >= 0x80n) {
      this.scratch[this.position++] = Number(raw & 0x7fn) | 0x80;
      raw >>= 7n;
    }
    this.scratch[this.position++] = Number(raw);
    return this;
  }

  /** Appends bytes: copied when small, by reference when large. */
  raw(bytes: Uint8Array): this {
    if (bytes.length >= ZERO_COPY_MIN) {
      this.cut();
      this.chunks.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      this.flushed += bytes.length;
      return this;
    }
    this.room(bytes.length);
    this.scratch.set(bytes, this.position);
    this.position += bytes.length;
    return this;
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    this.int16(length);
    this.room(length);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const length = Buffer.byteLength(value);
    this.uvarint(length + 1);
    this.room(length);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  /** Bytes given as one buffer or as a list (stored batches sent back to back). */
  nullableBytes(value: Uint8Array | readonly Uint8Array[] | null, compact: boolean): this {
    if (value === null) return compact ? this.uvarint(0) : this.int32(-1);
    const parts: readonly Uint8Array[] = value instanceof Uint8Array ? [value] : value;
    let length = 0;
    for (const part of parts) length += part.length;
    if (compact) this.uvarint(length + 1);
    else this.int32(length);
    for (const part of parts) this.raw(part);
    return this;
  }

  arrayLength(length: number, compact: boolean): this {
    return compact ? this.uvarint(length + 1) : this.int32(length);
  }

  /** UUID from 32 hex digits (dashes allowed). */
  uuid(value: string): this {
    const hex = value.replaceAll('-', '');
    this.room(16);
    const written = this.scratch.write(hex, this.position, 16, 'hex');
    this.scratch.fill(0, this.position + written, this.position + 16);
    this.position += 16;
    return this;
  }

  /** Finishes and returns the chunks; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.cut();
    return this.chunks;
  }
}

/** Joins chunks into one buffer (for tests and small messages). */
export function concat(chunks: readonly Buffer[]): Buffer {
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}
