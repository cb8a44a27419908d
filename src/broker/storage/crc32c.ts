// CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2. Node's zlib
// only has CRC-32 (IEEE), so this is a table-driven slice-by-8 version:
// eight lookups per 8 input bytes keeps it well above disk speed in plain JS.
// On little-endian machines the 8 bytes are loaded as two 32-bit words
// through an Int32Array view, which about doubles the speed (~1 GB/s).

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const POLY_REFLECTED = 0x82f63b78;

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    table[i] = c >>> 0;
  }
  // Table t gives the CRC contribution of a byte followed by t zero bytes.
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 8; t++) {
      const prev = table[(t - 1) * 256 + i]!;
      table[t * 256 + i] = (prev >>> 8) ^ table[prev & 0xff]!;
    }
  }
  return table;
}

/** CRC-32C of bytes[start, end). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return LITTLE_ENDIAN && end - start >= 64 ? crcWords(bytes, start, end) : crcBytes(bytes, start, end);
}

function crcWords(bytes: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let crc = 0xffffffff;
  let i = start;
  // Int32Array views need 4-byte alignment: do the head byte by byte.
  while (i < end && ((bytes.byteOffset + i) & 3) !== 0) crc = (crc >>> 8) ^ t[(crc ^ bytes[i++]!) & 0xff]!;
  const pairs = (end - i) >>> 3;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, pairs * 2);
  for (let w = 0; w < words.length; w += 2) {
    const low = crc ^ words[w]!;
    const high = words[w + 1]!;
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + (high & 0xff)]! ^
      t[512 + ((high >>> 8) & 0xff)]! ^
      t[256 + ((high >>> 16) & 0xff)]! ^
      t[high >>> 24]!;
  }
  i += pairs * 8;
  while (i < end) crc = (crc >>> 8) ^ t[(crc ^ bytes[i++]!) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

function crcBytes(bytes: Uint8Array, start: number, end: number): number {
  const t = TABLE;
  let crc = 0xffffffff;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  while (i < end8) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc =
      t[1792 + (crc & 0xff)]! ^
      t[1536 + ((crc >>> 8) & 0xff)]! ^
      t[1280 + ((crc >>> 16) & 0xff)]! ^
      t[1024 + (crc >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = (crc >>> 8) ^ t[(crc ^ bytes[i++]!) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}
