// Writes ASCII bytes into ~1 MB chunks and hands full chunks to a byte sink,
// waiting whenever the sink says so. Generators produce hundreds of MB; one
// string per row (and toFixed per number) would cost more than the data
// itself, so rows are written as bytes straight into the chunk, by plain
// functions on (bytes, position) that V8 inlines into the row loop.

/** Where chunks go. `write` resolves when more may be written (backpressure). */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export const CHUNK_BYTES = 1 << 20;
/** Room kept free at the end of a chunk: the longest row a generator writes must fit. */
const ROW_ROOM = 4096;

/**
 * Hands out chunks to fill. Hot loops keep `bytes` and a position in locals,
 * write with the put* functions, and call `flush(pos)` when `pos > LIMIT`.
 */
export class ChunkWriter {
  readonly #sink: ByteSink;
  /** The chunk being filled; a new one after every flush (the sink may keep the old). */
  bytes: Uint8Array = new Uint8Array(CHUNK_BYTES);

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Sends bytes [0, pos) of the chunk; afterwards write into the new `bytes` from 0. */
  async flush(pos: number): Promise<void> {
    if (pos === 0) return;
    const filled = this.bytes.subarray(0, pos);
    this.bytes = new Uint8Array(CHUNK_BYTES);
    await this.#sink.write(filled);
  }

  async close(pos: number): Promise<void> {
    await this.flush(pos);
    await this.#sink.close();
  }
}

/** Flush when the position passes this: the longest row must fit in what is left. */
export const LIMIT = CHUNK_BYTES - ROW_ROOM;

export function putAscii(bytes: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) bytes[pos++] = text.charCodeAt(i);
  return pos;
}

export function putBytes(bytes: Uint8Array, pos: number, source: Uint8Array): number {
  // A plain loop: for ~10-byte pieces it beats TypedArray.set.
  for (let i = 0; i < source.length; i++) bytes[pos++] = source[i]!;
  return pos;
}

/**
 * A non-negative integer of hundredths (below 2^31) as a decimal with two
 * fraction digits, 3350 → `33.50`: integer digits only, no toFixed.
 */
export function putHundredths(bytes: Uint8Array, pos: number, value: number): number {
  let whole = (value / 100) | 0;
  const fraction = value - whole * 100;
  let end = pos + 1;
  for (let rest = whole; rest >= 10; rest = (rest / 10) | 0) end++;
  let at = end;
  do {
    const next = (whole / 10) | 0;
    bytes[--at] = 48 + whole - next * 10;
    whole = next;
  } while (whole > 0);
  const tens = (fraction / 10) | 0;
  bytes[end] = 46; // '.'
  bytes[end + 1] = 48 + tens;
  bytes[end + 2] = 48 + fraction - tens * 10;
  return end + 3;
}

/** Collects everything in memory: for tests and small datasets. */
export class MemorySink implements ByteSink {
  readonly chunks: Uint8Array[] = [];

  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
  }

  async close(): Promise<void> {}

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

/**
 * Writes ASCII lines (each shorter than the room a chunk keeps free) to a
 * sink in large chunks; stops early when the sink's reader went away.
 * Returns how many lines were written.
 */
export async function writeLines(lines: Iterable<string>, sink: ByteSink & { readonly stopped?: boolean }): Promise<number> {
  const out = new ChunkWriter(sink);
  let pos = 0;
  let written = 0;
  for (const line of lines) {
    pos = putAscii(out.bytes, pos, line);
    out.bytes[pos++] = 10;
    written++;
    if (pos > LIMIT) {
      await out.flush(pos);
      pos = 0;
      if (sink.stopped) return written;
    }
  }
  await out.close(pos);
  return written;
}
