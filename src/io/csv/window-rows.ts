// The output rows of the server-metrics batch jobs, kept compact until they
// are written: `key,window_start,window_end,value0,value1,alert`, in natural
// order of keys, then window start. Rows arrive in window-end order across
// keys, each key's in time order, so grouping rows by key is enough (no
// sort within a key).
//
// A row is held as four numbers (start, the two values as units, key and
// alert codes) in one block. When the block is full, its rows are counted by
// key, formatted as CSV text key by key in natural order, and appended to a
// spill file; each key keeps where its piece of every spill lies. At the end
// the pieces are read back key by key: as every spill holds its keys in the
// output's order, each spill is read front to back in large reads. Memory
// stays flat however large the output or many the keys: one block, the
// text of one spill (two while a spill is still being written) and a read
// buffer per spill.

import { readSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUnits, type Units } from '../../engine/decimal.ts';
import { compareNatural } from '../../engine/natural-order.ts';
import type { FileWriter } from './file-writer.ts';
import { grownArray } from '../typed-arrays.ts';

export interface WindowRowFormat {
  /** Decimals of the values' units. */
  digits: number;
  /** `start,end` of the window starting at `start`, as printed. */
  bounds(start: number): string;
}

/** Numbers per row in the block: start, value0, value1 (the key and alert codes are in their own arrays). */
const FIELDS = 3;
const ALERT_CODES = 256;
const OUT_BYTES = 4 << 20;
const BOUNDS_CACHE = 4096;
/** Bytes kept for one bounds text: two ISO instants with milliseconds and their commas take 50. */
const BOUNDS_ROOM = 64;

export class WindowRows {
  private readonly format: WindowRowFormat;
  private readonly digits: number;
  private readonly block: Float64Array;
  private readonly keyOfRow: Int32Array;
  private readonly alertOfRow: Uint8Array;
  private readonly capacity: number;
  private size = 0;
  /** Formatted values of rows whose units are not plain numbers (bigints), by row index in the block. */
  private odd = new Map<number, [string, string]>();
  private readonly keyCodes = new Map<string, number>();
  /** Key code by the caller's key number (-1 for none yet). */
  private codeOfNumber: Int32Array = new Int32Array(1024).fill(-1);
  private readonly keys: string[] = [];
  /** Key k's `key,` text is prefixPool[prefixAt[k], prefixAt[k + 1]): one array to copy from, not a buffer per key. */
  private prefixPool: Uint8Array = new Uint8Array(1 << 14);
  private prefixAt: Int32Array = new Int32Array(1025);
  /** Per key: (spill number, offset, length) in the spill file of its piece of each spill. */
  private readonly pieces: number[][] = [];
  /** Key codes in natural order of their keys (recomputed when keys are added). */
  private order: Int32Array = new Int32Array(0);
  /** Where each spill starts in the spill file, and where the last one ends. */
  private readonly spillStarts: number[] = [0];
  private readonly alertTexts: string[] = [];
  private readonly alerts: Buffer[] = [];
  /** Window bounds text (`start,end,`) by start, cached: slot i holds that of boundsStarts[i] at boundsPool[i * BOUNDS_ROOM...], boundsLength[i] bytes. */
  private readonly boundsStarts = new Float64Array(BOUNDS_CACHE).fill(Number.NaN);
  private readonly boundsPool = new Uint8Array(BOUNDS_CACHE * BOUNDS_ROOM);
  private readonly boundsLength = new Uint8Array(BOUNDS_CACHE);
  private spillDir: string | null = null;
  private spillFile: Promise<FileHandle> | null = null;
  private spillSize = 0;
  private writes: Array<Promise<void>> = [];
  /** Text of the last spill, reused once its write is done. */
  private spare: Buffer | null = null;
  count = 0;

  constructor(format: WindowRowFormat, blockRows = 1 << 19) {
    this.format = format;
    this.digits = format.digits;
    this.capacity = blockRows;
    this.block = new Float64Array(blockRows * FIELDS);
    this.keyOfRow = new Int32Array(blockRows);
    this.alertOfRow = new Uint8Array(blockRows);
  }

  /**
   * Adds one row; await the result only when it is a promise (a spill).
   * `keyNumber`, when the caller numbers its keys (0, 1, ...), saves
   * looking the key up by name.
   */
  add(key: string, start: number, value0: Units, value1: Units, alert: string, keyNumber = -1): Promise<void> | undefined {
    let keyCode = keyNumber >= 0 && keyNumber < this.codeOfNumber.length ? this.codeOfNumber[keyNumber]! : -1;
    if (keyCode < 0) {
      keyCode = this.keyCodes.get(key) ?? this.addKey(key);
      if (keyNumber >= 0) {
        if (keyNumber >= this.codeOfNumber.length) this.codeOfNumber = grownArray(this.codeOfNumber, keyNumber + 1, -1);
        this.codeOfNumber[keyNumber] = keyCode;
      }
    }
    // Alerts are a handful of texts: a scan beats a map.
    let alertCode = this.alertTexts.indexOf(alert);
    if (alertCode < 0) alertCode = this.addAlert(alert);
    const row = this.size++;
    const o = row * FIELDS;
    const block = this.block;
    block[o] = start;
    if (typeof value0 === 'number' && typeof value1 === 'number') {
      block[o + 1] = value0;
      block[o + 2] = value1;
    } else {
      block[o + 1] = Number.NaN;
      this.odd.set(row, [formatUnits(value0, this.format.digits), formatUnits(value1, this.format.digits)]);
    }
    this.keyOfRow[row] = keyCode;
    this.alertOfRow[row] = alertCode;
    this.count++;
    return this.size === this.capacity ? this.spill() : undefined;
  }

  private addKey(key: string): number {
    const code = this.keys.length;
    this.keyCodes.set(key, code);
    this.keys.push(key);
    const prefix = Buffer.from(`${key},`, 'latin1');
    const at = this.prefixAt[code]!;
    if (code + 2 > this.prefixAt.length) this.prefixAt = grownArray(this.prefixAt, code + 2);
    if (at + prefix.length > this.prefixPool.length) this.prefixPool = grownArray(this.prefixPool, at + prefix.length);
    this.prefixPool.set(prefix, at);
    this.prefixAt[code + 1] = at + prefix.length;
    this.pieces.push([]);
    return code;
  }

  private addAlert(alert: string): number {
    const code = this.alerts.length;
    if (code >= ALERT_CODES) throw new RangeError('too many distinct alert texts');
    this.alertTexts.push(alert);
    this.alerts.push(Buffer.from(`${alert}\n`, 'latin1'));
    return code;
  }

  /** The block's rows in key order (a counting sort): key k's rows are order[firstRow[k], firstRow[k + 1]). */
  private sortBlock(): { firstRow: Int32Array; order: Int32Array } {
    const { keyOfRow, size } = this;
    const keyCount = this.keys.length;
    const firstRow = new Int32Array(keyCount + 1);
    for (let row = 0; row < size; row++) firstRow[keyOfRow[row]! + 1]!++;
    for (let k = 0; k < keyCount; k++) firstRow[k + 1]! += firstRow[k]!;
    const order = new Int32Array(size);
    const next = firstRow.slice(0, keyCount);
    for (let row = 0; row < size; row++) order[next[keyOfRow[row]!]!++] = row;
    return { firstRow, order };
  }

  /**
   * Formats the rows order[from, to) of key k into text[at...] while they
   * fit (each row is given room for its longest form); returns the index of
   * the first row not written and the position after the text written.
   */
  private formatRows(k: number, order: Int32Array, from: number, to: number, text: Buffer, at: number): [number, number] {
    const { block, digits, alertOfRow, alerts, boundsPool, boundsLength } = this;
    const prefixPool = this.prefixPool;
    const prefixFrom = this.prefixAt[k]!;
    const prefixLength = this.prefixAt[k + 1]! - prefixFrom;
    const room = text.length;
    let i = from;
    for (; i < to; i++) {
      const row = order[i]!;
      const o = row * FIELDS;
      const slot = this.boundsSlot(block[o]!);
      const boundsFrom = slot * BOUNDS_ROOM;
      const boundsTo = boundsFrom + boundsLength[slot]!;
      const alert = alerts[alertOfRow[row]!]!;
      if (at + prefixLength + BOUNDS_ROOM + 2 * MAX_NUMBER_BYTES + 2 + alert.length > room) break;
      // Byte loops from two long-lived arrays: for a few bytes, faster than `set`.
      for (let j = prefixFrom, end = prefixFrom + prefixLength; j < end; j++) text[at++] = prefixPool[j]!;
      for (let j = boundsFrom; j < boundsTo; j++) text[at++] = boundsPool[j]!;
      const value0 = block[o + 1]!;
      if (value0 === value0) {
        at = writeUnits(text, at, value0, digits);
        text[at++] = 44;
        at = writeUnits(text, at, block[o + 2]!, digits);
      } else {
        const [a, b] = this.odd.get(row)!;
        at += text.write(`${a},${b}`, at, 'latin1');
      }
      text[at++] = 44;
      if (alert.length === 1) {
        text[at++] = 10; // no alert: just the line break
      } else {
        at = copyInto(text, at, alert);
      }
    }
    return [i, at];
  }

  /** Key codes in natural order of the keys. */
  private naturalOrder(): Int32Array {
    if (this.order.length !== this.keys.length) {
      const keys = this.keys;
      this.order = Int32Array.from(keys.keys()).sort((a, b) => compareNatural(keys[a]!, keys[b]!));
    }
    return this.order;
  }

  /** Formats the whole block, keys in natural order, into one text buffer; `ends[k]` is where key k's text ends. */
  private formatBlock(): { text: Buffer; ends: Int32Array } {
    const { firstRow, order } = this.sortBlock();
    let text = this.spare ?? Buffer.allocUnsafe(this.size * 64);
    this.spare = null;
    const ends = new Int32Array(this.keys.length);
    let at = 0;
    for (const k of this.naturalOrder()) {
      let i = firstRow[k]!;
      for (;;) {
        [i, at] = this.formatRows(k, order, i, firstRow[k + 1]!, text, at);
        if (i === firstRow[k + 1]) break;
        text = grown(text, at, at + 4096);
      }
      ends[k] = at;
    }
    this.size = 0;
    this.odd = new Map();
    return { text, ends };
  }

  /** The cache slot holding the bounds text of the window starting at `start` (filled if need be). */
  private boundsSlot(start: number): number {
    // A direct-mapped cache by second: a key's rows run through consecutive windows, and every key through the same ones.
    const i = Math.floor(start / 1000) & (BOUNDS_CACHE - 1);
    if (this.boundsStarts[i] === start) return i;
    const bounds = Buffer.from(`${this.format.bounds(start)},`, 'latin1');
    if (bounds.length > BOUNDS_ROOM) throw new RangeError(`window bounds text longer than ${BOUNDS_ROOM} bytes`);
    this.boundsPool.set(bounds, i * BOUNDS_ROOM);
    this.boundsLength[i] = bounds.length;
    this.boundsStarts[i] = start;
    return i;
  }

  /**
   * Formats the block and appends it to the spill file. Formatting is done at
   * once, so rows added while the write is under way (the caller need not
   * wait) go to the emptied block and a later spill.
   */
  private spill(): Promise<void> {
    const { text, ends } = this.formatBlock();
    const position = this.spillSize;
    const spill = this.spillStarts.length - 1;
    let from = 0;
    for (const k of this.naturalOrder()) {
      if (ends[k]! > from) this.pieces[k]!.push(spill, position + from, ends[k]! - from);
      from = ends[k]!;
    }
    this.spillSize += from;
    this.spillStarts.push(this.spillSize);
    const write = (async () => {
      const file = await this.openSpillFile();
      let done = 0;
      while (done < from) done += (await file.write(text, done, from - done, position + done)).bytesWritten;
      this.spare = text;
    })();
    // Awaited by the caller later (writing overlaps reading) or by writeTo/discard; until then a failure is not unhandled.
    write.catch(() => {});
    this.writes.push(write);
    return write;
  }

  private openSpillFile(): Promise<FileHandle> {
    this.spillFile ??= (async () => {
      this.spillDir = await mkdtemp(join(tmpdir(), 'streamwatch-rows-'));
      return open(join(this.spillDir, 'rows'), 'w+');
    })();
    return this.spillFile;
  }

  /**
   * Writes every row, keys in natural order, to `out`; removes the spill
   * file. Each key's spilled pieces are copied (every spill is read in
   * order through a buffer of its own) and its rows still in the block
   * formatted after them, into one output buffer written whenever full.
   */
  async writeTo(out: FileWriter): Promise<void> {
    try {
      await Promise.all(this.writes);
      this.writes = [];
      this.spare = null;
      const file = this.spillFile ? await this.spillFile : null;
      const { firstRow, order } = this.sortBlock();
      const spills = this.spillStarts.length - 1;
      const readers = Array.from({ length: spills }, (_, j) => new SpillReader(file!, this.spillStarts[j]!, this.spillStarts[j + 1]!, Math.max(64 << 10, Math.min(1 << 20, (32 << 20) / spills))));
      // Two buffers: one is filled while the other is being written.
      let buffer = Buffer.allocUnsafe(OUT_BYTES);
      let other = Buffer.allocUnsafe(OUT_BYTES);
      let writing: Promise<void> = Promise.resolve();
      let used = 0;
      const flush = async (): Promise<void> => {
        await writing;
        if (used > 0) {
          writing = out.writeBytes(buffer.subarray(0, used));
          // Awaited at the next flush; until then a failure must not count as unhandled.
          writing.catch(() => {});
        }
        [buffer, other] = [other, buffer];
        used = 0;
      };
      for (const k of this.naturalOrder()) {
        const pieces = this.pieces[k]!;
        for (let p = 0; p < pieces.length; p += 3) {
          const length = pieces[p + 2]!;
          if (used + length > buffer.length) await flush();
          if (length > buffer.length) buffer = Buffer.allocUnsafe(length);
          readers[pieces[p]!]!.copy(buffer, used, pieces[p + 1]!, length);
          used += length;
        }
        let i = firstRow[k]!;
        const to = firstRow[k + 1]!;
        while (i < to) {
          [i, used] = this.formatRows(k, order, i, to, buffer, used);
          if (i < to) await flush();
        }
      }
      await flush();
      await writing;
      this.size = 0;
    } finally {
      await this.discard();
    }
  }

  /** Removes the spill file (after writing, or when the rows are given up). */
  async discard(): Promise<void> {
    await Promise.allSettled(this.writes);
    this.writes = [];
    if (this.spillFile) await (await this.spillFile).close().catch(() => {});
    this.spillFile = null;
    if (this.spillDir) await rm(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }
}

/**
 * Reads one spill of the spill file front to back through a buffer: pieces
 * are asked for in increasing offsets. Reads are synchronous: this is the
 * batch job's last phase, its event loop has nothing else to serve, and a
 * round trip through the thread pool per read cost more than the read
 * (~160 ms for the 225 MB of 10 M input rows, against ~20 ms).
 */
class SpillReader {
  private readonly fd: number;
  private readonly end: number;
  private readonly buffer: Buffer;
  /** The buffer holds the file's bytes [at, at + size). */
  private at: number;
  private size = 0;

  constructor(file: FileHandle, start: number, end: number, bufferBytes: number) {
    this.fd = file.fd;
    this.at = start;
    this.end = end;
    this.buffer = Buffer.allocUnsafe(Math.min(bufferBytes, end - start));
  }

  /** Copies the file's bytes [offset, offset + length) to target[into...]. */
  copy(target: Buffer, into: number, offset: number, length: number): void {
    if (offset < this.at || offset + length > this.at + this.size) {
      if (length > this.buffer.length) {
        readFully(this.fd, target, into, length, offset);
        return;
      }
      const size = Math.min(this.buffer.length, this.end - offset);
      readFully(this.fd, this.buffer, 0, size, offset);
      this.at = offset;
      this.size = size;
    }
    this.buffer.copy(target, into, offset - this.at, offset - this.at + length);
  }
}

function readFully(fd: number, buffer: Buffer, at: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const bytesRead = readSync(fd, buffer, at + done, length - done, position + done);
    if (bytesRead === 0) throw new Error('spill file shorter than written');
    done += bytesRead;
  }
}

function grown(text: Buffer, used: number, needed: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(text.length * 2, needed));
  text.copy(bigger, 0, 0, used);
  return bigger;
}

/** Copies `bytes` to text[at...]; returns the position after them. A loop: for a few bytes, `set` costs more. */
function copyInto(text: Buffer, at: number, bytes: Buffer): number {
  const n = bytes.length;
  if (n > 64) {
    text.set(bytes, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) text[at + i] = bytes[i]!;
  return at + n;
}

/** Room for one number as formatUnits prints it. */
const MAX_NUMBER_BYTES = 40;
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
