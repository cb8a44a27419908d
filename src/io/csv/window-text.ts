// The CSV text of window rows (`key,start,end,value0,value1,alert`), made
// from their binary pieces. A piece holds one key's rows from one spill of
// WindowRows as columns: starts, values0, values1 (8 bytes each), alert
// codes (1 byte each), then the text of its odd rows (values that are not
// plain numbers), padded to 8 bytes. The main thread and its helper thread
// run this same code on the same pieces, so the text does not depend on
// which thread made it.

import { readSync } from 'node:fs';
import { formatUnits } from '../../engine/decimal.ts';
import { formatInstant, type TimeKind } from '../../engine/time.ts';

/** How rows are printed: plain data, so that a helper thread can be given it. */
export interface RowText {
  /** Decimals of the values' units. */
  digits: number;
  /** Window length (ms): a row's end is its start plus this. */
  size: number;
  /** Window slide (ms): window starts are its multiples. */
  slide: number;
  kind: TimeKind;
  /** Key names by key code. */
  keys: string[];
  /** Alert texts by alert code ('' for none). */
  alerts: string[];
}

/** Where pieces are: offsets below `memoryStart` are in the spill file `fd`, the others in `memory` (the last block, never spilled). */
export interface PieceSource {
  /** -1 when nothing was spilled. */
  fd: number;
  /** Starts at byteOffset 0 of its buffer (8-byte aligned). */
  memory: Uint8Array | null;
  memoryStart: number;
}

/** Numbers per piece in an item list: key code, spill, offset, rows, odd-text bytes. */
export const ITEM = 5;

/** Bytes a piece of `rows` rows takes, `oddBytes` of odd text included. */
export function pieceBytes(rows: number, oddBytes: number): number {
  return Math.ceil((rows * 25 + oddBytes) / 8) * 8;
}

/** Room for one number as formatUnits prints it. */
const MAX_NUMBER_BYTES = 40;
/** Windows whose bounds text is cached: consecutive windows take consecutive slots, so a key's run through 65,536 windows (a week of 10-second slides) is made once for all keys. */
const BOUNDS_CACHE = 1 << 16;
/** Bytes kept for one bounds text: two ISO instants with milliseconds and their commas take 50. */
const BOUNDS_ROOM = 64;

export class PieceFormatter {
  private readonly digits: number;
  private readonly size: number;
  private readonly kind: TimeKind;
  private readonly perSlide: number;
  /** Key k's `key,` text is prefixLength[k] bytes at prefixPool[prefixAt[k]...] (4-byte aligned, see copyWords). */
  private readonly prefixPool: DataView;
  private readonly prefixAt: Int32Array;
  private readonly prefixLength: Int32Array;
  /** Alert texts with their line break. */
  private readonly alerts: Buffer[];
  /** Window bounds text (`start,end,`) by start, cached: slot i holds that of boundsStarts[i] at boundsPool[i * BOUNDS_ROOM...], boundsLength[i] bytes. */
  private readonly boundsStarts = new Float64Array(BOUNDS_CACHE).fill(Number.NaN);
  private readonly boundsBytes = new Uint8Array(BOUNDS_CACHE * BOUNDS_ROOM);
  private readonly boundsPool = new DataView(this.boundsBytes.buffer);
  private readonly boundsLength = new Uint8Array(BOUNDS_CACHE);
  /** Pieces read from the spill file, one stretch per spill. */
  private scratch = new ArrayBuffer(1 << 20);

  constructor(text: RowText) {
    this.digits = text.digits;
    this.size = text.size;
    this.kind = text.kind;
    this.perSlide = 1 / text.slide;
    const prefixes = text.keys.map((key) => Buffer.from(`${key},`, 'latin1'));
    this.prefixAt = new Int32Array(prefixes.length + 1);
    this.prefixLength = Int32Array.from(prefixes, (p) => p.length);
    prefixes.forEach((p, k) => (this.prefixAt[k + 1] = this.prefixAt[k]! + Math.ceil(p.length / 4) * 4));
    const pool = new Uint8Array(this.prefixAt[prefixes.length]!);
    prefixes.forEach((p, k) => pool.set(p, this.prefixAt[k]!));
    this.prefixPool = new DataView(pool.buffer);
    this.alerts = text.alerts.map((alert) => Buffer.from(`${alert}\n`, 'latin1'));
  }

  /**
   * Prints the pieces items[from, to) (ITEM numbers each, in output order)
   * into `text`, replaced by a larger buffer when full (always one that
   * starts its own ArrayBuffer, so it can be handed to another thread).
   */
  format(items: Float64Array, from: number, to: number, source: PieceSource, text: Buffer): { text: Buffer; length: number } {
    const { f64, u8, base } = this.load(items, from, to, source);
    const { digits, alerts, boundsPool, boundsLength, prefixPool } = this;
    let view = new DataView(text.buffer, text.byteOffset, text.length);
    let at = 0;
    for (let j = from; j < to; j++) {
      const o = j * ITEM;
      const k = items[o]!;
      const spill = items[o + 1]!;
      const rows = items[o + 3]!;
      const oddBytes = items[o + 4]!;
      const f = f64[spill]!;
      const b = u8[spill]!;
      const p = base[spill]! + items[o + 2]!;
      const w = p / 8;
      const odd = oddBytes > 0 ? oddTexts(b, p + rows * 25, oddBytes) : null;
      const prefixFrom = this.prefixAt[k]!;
      const prefixLength = this.prefixLength[k]!;
      // Room for the longest row (copyWords may write up to 3 bytes past a text; the next text overwrites them).
      const most = prefixLength + BOUNDS_ROOM + 2 * MAX_NUMBER_BYTES + 8;
      for (let i = 0; i < rows; i++) {
        const alert = alerts[b[p + rows * 24 + i]!]!;
        if (at + most + alert.length > text.length) {
          text = grown(text, at, at + most + alert.length);
          view = new DataView(text.buffer, text.byteOffset, text.length);
        }
        copyWords(prefixPool, prefixFrom, prefixLength, view, at);
        at += prefixLength;
        const slot = this.boundsSlot(f[w + i]!);
        copyWords(boundsPool, slot * BOUNDS_ROOM, boundsLength[slot]!, view, at);
        at += boundsLength[slot]!;
        const value0 = f[w + rows + i]!;
        if (value0 === value0) {
          at = writeUnits(text, at, value0, digits);
          text[at++] = 44;
          at = writeUnits(text, at, f[w + 2 * rows + i]!, digits);
        } else {
          at += text.write(odd!.get(i)!, at, 'latin1');
        }
        text[at++] = 44;
        if (alert.length === 1) {
          text[at++] = 10; // no alert: just the line break
        } else {
          for (let q = 0; q < alert.length; q++) text[at++] = alert[q]!;
        }
      }
    }
    return { text, length: at };
  }

  /**
   * The bytes of items[from, to), by spill: spill s's pieces are at byte
   * base[s] + offset of u8[s] (f64[s] views the same bytes). Each spill's
   * pieces among the items lie back to back in the spill file (every spill
   * lists its keys in the output's order), so one read per spill fetches them.
   */
  private load(items: Float64Array, from: number, to: number, source: PieceSource): { f64: Float64Array[]; u8: Uint8Array[]; base: number[] } {
    const first: number[] = [];
    const end: number[] = [];
    for (let j = from; j < to; j++) {
      const o = j * ITEM;
      const spill = items[o + 1]!;
      const offset = items[o + 2]!;
      const last = offset + pieceBytes(items[o + 3]!, items[o + 4]!);
      if (first[spill] === undefined || offset < first[spill]!) first[spill] = offset;
      if (end[spill] === undefined || last > end[spill]!) end[spill] = last;
    }
    let needed = 0;
    first.forEach((offset, spill) => {
      if (offset < source.memoryStart) needed += end[spill]! - offset;
    });
    if (needed > this.scratch.byteLength) this.scratch = new ArrayBuffer(Math.max(needed, this.scratch.byteLength * 2));
    const scratch8 = new Uint8Array(this.scratch);
    const scratch64 = new Float64Array(this.scratch);
    const f64: Float64Array[] = [];
    const u8: Uint8Array[] = [];
    const base: number[] = [];
    let at = 0;
    first.forEach((offset, spill) => {
      if (offset >= source.memoryStart) {
        const memory = source.memory!;
        u8[spill] = memory;
        f64[spill] = new Float64Array(memory.buffer, 0, memory.byteLength >> 3);
        base[spill] = -source.memoryStart;
        return;
      }
      readFully(source.fd, scratch8, at, end[spill]! - offset, offset);
      u8[spill] = scratch8;
      f64[spill] = scratch64;
      base[spill] = at - offset;
      at += end[spill]! - offset;
    });
    return { f64, u8, base };
  }

  /** The cache slot holding the bounds text of the window starting at `start` (filled if need be). */
  private boundsSlot(start: number): number {
    // A direct-mapped cache by window number (a product may round down at an exact multiple: a miss, never a wrong text).
    const i = Math.floor(start * this.perSlide) & (BOUNDS_CACHE - 1);
    if (this.boundsStarts[i] === start) return i;
    const bounds = Buffer.from(`${formatInstant(start, this.kind)},${formatInstant(start + this.size, this.kind)},`, 'latin1');
    if (bounds.length > BOUNDS_ROOM) throw new RangeError(`window bounds text longer than ${BOUNDS_ROOM} bytes`);
    this.boundsBytes.set(bounds, i * BOUNDS_ROOM);
    this.boundsLength[i] = bounds.length;
    this.boundsStarts[i] = start;
    return i;
  }
}

/**
 * Copies `length` bytes from `from` (4-byte aligned) to `to` at `at`, four
 * at a time: the key and bounds texts make up two thirds of a row, and
 * copying them word by word took half the time of byte by byte. Up to 3
 * bytes past `at + length` are written too (the caller leaves room; the
 * next text overwrites them).
 */
function copyWords(from: DataView, start: number, length: number, to: DataView, at: number): void {
  for (let q = 0; q < length; q += 4) to.setUint32(at + q, from.getUint32(start + q, true), true);
}

/** The odd rows' texts of a piece (`value0,value1` by row index), stored as JSON after its columns. */
function oddTexts(bytes: Uint8Array, at: number, length: number): Map<number, string> {
  return new Map(JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('latin1')) as Array<[number, string]>);
}

/** The JSON that `oddTexts` reads back. */
export function oddTextBytes(rows: Array<[number, string]>): Buffer {
  return Buffer.from(JSON.stringify(rows), 'latin1');
}

function readFully(fd: number, buffer: Uint8Array, at: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const bytesRead = readSync(fd, buffer, at + done, length - done, position + done);
    if (bytesRead === 0) throw new Error('spill file shorter than written');
    done += bytesRead;
  }
}

/** A text buffer: `spare` (a used one) if given, else a new one of `bytes` (its own ArrayBuffer, not zero-filled). */
export function textBuffer(spare: ArrayBuffer | null | undefined, bytes: number): Buffer {
  return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(bytes);
}

/** A buffer of its own ArrayBuffer (transferable), at least `needed` bytes, holding text[0, used). */
function grown(text: Buffer, used: number, needed: number): Buffer {
  const bigger = Buffer.allocUnsafeSlow(Math.max(text.length * 2, needed));
  text.copy(bigger, 0, 0, used);
  return bigger;
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/**
 * Writes formatUnits(units, scale) for a number `units` at bytes[at];
 * returns the position after it. Values below 2^31 are done in int32
 * arithmetic (`%` on doubles is a call to fmod), others by formatUnits.
 */
function writeUnits(bytes: Buffer, at: number, units: number, scale: number): number {
  if (!(units >= 0 && units < 2 ** 31) || scale > 6) return at + bytes.write(formatUnits(units, scale), at, 'latin1');
  const pow = POW10[scale]!;
  const whole = units | 0;
  let int = (whole / pow) | 0;
  let frac = whole - int * pow;
  // Integer part: count its digits, then write them from the last.
  let digits = 1;
  for (let p = 10; p <= int; p *= 10) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = (int / 10) | 0;
    bytes[i] = 48 + int - q * 10;
    int = q;
  }
  at += digits;
  bytes[at++] = 46;
  if (frac === 0) {
    bytes[at++] = 48;
    return at;
  }
  // The fraction without trailing zeros, left-padded with zeros to its width.
  let width = scale;
  for (let q = (frac / 10) | 0; frac === q * 10; q = (frac / 10) | 0) {
    frac = q;
    width--;
  }
  for (let i = at + width - 1; i >= at; i--) {
    const q = (frac / 10) | 0;
    bytes[i] = 48 + frac - q * 10;
    frac = q;
  }
  return at + width;
}
