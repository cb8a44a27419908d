// The output rows of the server-metrics batch jobs, kept compact until they
// are written: `key,window_start,window_end,value0,value1,alert`, in natural
// order of keys, then window start. Rows arrive in window-end order across
// keys, each key's in time order, so grouping rows by key is enough (no
// sort within a key).
//
// Rows are held as numbers (start, the two values as units, key and alert
// codes) in one block. When the block is full, its rows are counted by key
// and written, key by key in natural order, to a spill file as binary
// pieces (window-text.ts); each key keeps where its pieces lie. Text is made
// only at the end: while reading, both cores are busy (one parses, one
// windows), while at the end one would be idle, so the end's text is made
// in chunks by this thread and a helper thread together (`threads: 2`),
// then written in order. Binary pieces are also about half the size of
// their text, so the spill file costs less to write and read back. Memory
// stays flat however large the output or many the keys: one block, one or
// two spills' bytes, and a few chunks of text.

import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { formatUnits, type Units } from '../../engine/decimal.ts';
import { compareNatural } from '../../engine/natural-order.ts';
import type { TimeKind } from '../../engine/time.ts';
import { startWorker } from '../worker-boot.ts';
import { grownArray } from '../typed-arrays.ts';
import type { FileWriter } from './file-writer.ts';
import { ITEM, PieceFormatter, oddTextBytes, pieceBytes, textBuffer, type PieceSource, type RowText } from './window-text.ts';

export interface WindowRowFormat {
  /** Decimals of the values' units. */
  digits: number;
  /** Window length (ms): a row's end is its start plus this. */
  size: number;
  /** Window slide (ms). */
  slide: number;
  /** How instants are printed; asked when the rows are written. */
  timeKind(): TimeKind;
}

export interface WindowRowsOptions {
  /** Rows held before a spill. */
  blockRows?: number;
  /** Rows per chunk of output text (what the helper thread is handed at a time). */
  chunkRows?: number;
  /** 2: a helper thread makes half of the text, when there are HELPER_FROM_CHUNKS chunks or more and a second core. */
  threads?: 1 | 2;
  /** Start making text only once the helper thread is ready (tests: so that it surely takes part). */
  waitForHelper?: boolean;
  /** The helper thread's module (tests give one that fails). */
  helperModule?: URL;
}

const ALERT_CODES = 256;
const BLOCK_ROWS = 1 << 19;
const CHUNK_ROWS = 1 << 15;
/** Below this many chunks, starting a thread costs more than it saves. */
const HELPER_FROM_CHUNKS = 32;
/** Chunks made here beyond the one being written while the helper makes that one. */
const AHEAD = 4;
/** First size of a chunk's text buffer (grown when a chunk needs more). */
const TEXT_BYTES = 2 << 20;

/** What the helper thread is started with (see window-rows-worker.ts). */
export interface HelperInit {
  text: RowText;
  source: PieceSource;
  items: Float64Array;
  /** Chunk c is items[chunks[c], chunks[c + 1]). */
  chunks: Int32Array;
  textBytes: number;
}

export interface HelperRequest {
  chunk: number;
  /** A used text buffer to print into, if there is one to give. */
  spare: ArrayBuffer | null;
}

export interface HelperReply {
  chunk: number;
  text: ArrayBuffer;
  length: number;
}

interface ChunkText {
  text: Buffer;
  length: number;
}

export class WindowRows {
  private readonly format: WindowRowFormat;
  private readonly capacity: number;
  private readonly chunkRows: number;
  private readonly threads: 1 | 2;
  private readonly waitForHelper: boolean;
  private readonly helperModule: URL;
  /**
   * Row r is block[4r .. 4r+3] = (start, value0, value1, alert code), the
   * values as units (value0 NaN when they are not plain numbers: their text
   * is in `odd`). One record, not four arrays: packing reads the rows in key
   * order, far apart, and a row's fields then share a cache line.
   */
  private readonly block: Float64Array;
  private readonly keyOfRow: Int32Array;
  private size = 0;
  /** `value0,value1` as printed, of the block's rows whose units are not plain numbers (bigints), by row. */
  private odd = new Map<number, string>();
  private readonly keyCodes = new Map<string, number>();
  /** Key code by the caller's key number (-1 for none yet). */
  private codeOfNumber: Int32Array = new Int32Array(1024).fill(-1);
  private readonly keys: string[] = [];
  /** Per key: (spill, offset, rows, odd-text bytes) of each of its pieces, in spill order. */
  private readonly pieces: number[][] = [];
  /** Key codes in natural order of their keys (recomputed when keys are added). */
  private order: Int32Array = new Int32Array(0);
  private readonly alertTexts: string[] = [];
  private spillDir: string | null = null;
  private spillFile: Promise<FileHandle> | null = null;
  private spillSize = 0;
  private spills = 0;
  private writes: Array<Promise<void>> = [];
  /** Bytes of the last spill, reused once its write is done. */
  private spare: ArrayBuffer | null = null;
  /** The helper thread, once started (by warmUp or writeTo). */
  private helper: TextHelper | null = null;
  count = 0;
  /** Chunks of text the helper thread made in the last writeTo. */
  chunksByHelper = 0;

  constructor(format: WindowRowFormat, options: WindowRowsOptions = {}) {
    this.format = format;
    this.capacity = options.blockRows ?? BLOCK_ROWS;
    this.chunkRows = options.chunkRows ?? CHUNK_ROWS;
    this.threads = options.threads ?? 1;
    this.waitForHelper = options.waitForHelper ?? false;
    this.helperModule = options.helperModule ?? new URL('./window-rows-worker.ts', import.meta.url);
    this.block = new Float64Array(this.capacity * 4);
    this.keyOfRow = new Int32Array(this.capacity);
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
    const o = row * 4;
    const block = this.block;
    block[o] = start;
    if (typeof value0 === 'number' && typeof value1 === 'number') {
      block[o + 1] = value0;
      block[o + 2] = value1;
    } else {
      block[o + 1] = Number.NaN;
      this.odd.set(row, `${formatUnits(value0, this.format.digits)},${formatUnits(value1, this.format.digits)}`);
    }
    block[o + 3] = alertCode;
    this.keyOfRow[row] = keyCode;
    this.count++;
    return this.size === this.capacity ? this.spill() : undefined;
  }

  private addKey(key: string): number {
    const code = this.keys.length;
    this.keyCodes.set(key, code);
    this.keys.push(key);
    this.pieces.push([]);
    return code;
  }

  private addAlert(alert: string): number {
    const code = this.alertTexts.length;
    if (code >= ALERT_CODES) throw new RangeError('too many distinct alert texts');
    this.alertTexts.push(alert);
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

  /** Key codes in natural order of the keys. */
  private naturalOrder(): Int32Array {
    if (this.order.length !== this.keys.length) {
      const keys = this.keys;
      this.order = Int32Array.from(keys.keys()).sort((a, b) => compareNatural(keys[a]!, keys[b]!));
    }
    return this.order;
  }

  /**
   * The block as pieces, keys in natural order, recorded as spill number
   * `spill` at `position` on; empties the block. In a SharedArrayBuffer
   * when `shared` (the last block, read by the helper thread too).
   */
  private packBlock(spill: number, position: number, shared: boolean): Uint8Array {
    const { firstRow, order } = this.sortBlock();
    const natural = this.naturalOrder();
    let oddOf: Map<number, Buffer> | null = null;
    if (this.odd.size > 0) {
      oddOf = new Map();
      for (const k of natural) {
        const rows: Array<[number, string]> = [];
        for (let i = firstRow[k]!; i < firstRow[k + 1]!; i++) {
          const text = this.odd.get(order[i]!);
          if (text !== undefined) rows.push([i - firstRow[k]!, text]);
        }
        if (rows.length > 0) oddOf.set(k, oddTextBytes(rows));
      }
    }
    let total = 0;
    for (const k of natural) {
      const rows = firstRow[k + 1]! - firstRow[k]!;
      if (rows > 0) total += pieceBytes(rows, oddOf?.get(k)?.length ?? 0);
    }
    let buffer: ArrayBuffer | SharedArrayBuffer;
    if (shared) {
      buffer = new SharedArrayBuffer(total);
    } else {
      buffer = this.spare !== null && this.spare.byteLength >= total ? this.spare : new ArrayBuffer(total);
      this.spare = null;
    }
    const f64 = new Float64Array(buffer, 0, total >> 3);
    const u8 = new Uint8Array(buffer, 0, total);
    const block = this.block;
    let at = 0;
    for (const k of natural) {
      const from = firstRow[k]!;
      const rows = firstRow[k + 1]! - from;
      if (rows === 0) continue;
      const w = at >> 3;
      const codes = at + rows * 24;
      for (let i = 0; i < rows; i++) {
        const o = order[from + i]! * 4;
        f64[w + i] = block[o]!;
        f64[w + rows + i] = block[o + 1]!;
        f64[w + 2 * rows + i] = block[o + 2]!;
        u8[codes + i] = block[o + 3]!;
      }
      const odd = oddOf?.get(k);
      if (odd) u8.set(odd, codes + rows);
      const oddBytes = odd?.length ?? 0;
      this.pieces[k]!.push(spill, position + at, rows, oddBytes);
      at += pieceBytes(rows, oddBytes);
    }
    this.size = 0;
    this.odd = new Map();
    return u8;
  }

  /**
   * Packs the block and appends it to the spill file. Packing is done at
   * once, so rows added while the write is under way (the caller need not
   * wait) go to the emptied block and a later spill.
   */
  private spill(): Promise<void> {
    const position = this.spillSize;
    const bytes = this.packBlock(this.spills++, position, false);
    this.spillSize += bytes.length;
    const write = (async () => {
      const file = await this.openSpillFile();
      let done = 0;
      while (done < bytes.length) done += (await file.write(bytes, done, bytes.length - done, position + done)).bytesWritten;
      this.spare = bytes.buffer as ArrayBuffer;
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

  /** Every piece in output order (keys in natural order, each key's pieces in spill order), ITEM numbers each. */
  private outputItems(): Float64Array {
    let n = 0;
    for (const pieces of this.pieces) n += pieces.length / 4;
    const items = new Float64Array(n * ITEM);
    let o = 0;
    for (const k of this.naturalOrder()) {
      const pieces = this.pieces[k]!;
      for (let p = 0; p < pieces.length; p += 4, o += ITEM) {
        items[o] = k;
        items[o + 1] = pieces[p]!;
        items[o + 2] = pieces[p + 1]!;
        items[o + 3] = pieces[p + 2]!;
        items[o + 4] = pieces[p + 3]!;
      }
    }
    return items;
  }

  /** Splits the items into chunks of about chunkRows rows: chunk c is items[chunks[c], chunks[c + 1]). */
  private chunksOf(items: Float64Array): Int32Array {
    const bounds = [0];
    let rows = 0;
    const n = items.length / ITEM;
    for (let j = 0; j < n; j++) {
      rows += items[j * ITEM + 3]!;
      if (rows >= this.chunkRows && j + 1 < n) {
        bounds.push(j + 1);
        rows = 0;
      }
    }
    if (n > 0) bounds.push(n);
    return Int32Array.from(bounds);
  }

  /**
   * Starts the helper thread now, if writeTo may use one, so that it is
   * ready when the text is to be made (a thread takes ~50-90 ms to start).
   * Call when the rows are nearly all there: the reading thread has ended
   * and its core is free.
   */
  warmUp(): void {
    if (this.threads === 2 && availableParallelism() >= 2) this.helper ??= new TextHelper(this.helperModule);
  }

  /**
   * Writes every row, keys in natural order, to `out`; removes the spill
   * file. The text is made chunk by chunk, here and (for a large output
   * with `threads: 2`) in a helper thread, and written in order.
   */
  async writeTo(out: FileWriter): Promise<void> {
    let helper: TextHelper | null = null;
    this.chunksByHelper = 0;
    const warm = this.helper;
    this.helper = null;
    try {
      await Promise.all(this.writes);
      this.writes = [];
      this.spare = null;
      const fd = this.spillFile ? (await this.spillFile).fd : -1;
      const memoryStart = this.spillSize;
      const memory = this.size > 0 ? this.packBlock(this.spills, memoryStart, true) : null;
      const items = this.outputItems();
      const chunks = this.chunksOf(items);
      const chunkCount = chunks.length - 1;
      const text: RowText = { digits: this.format.digits, size: this.format.size, slide: this.format.slide, kind: this.format.timeKind(), keys: this.keys, alerts: this.alertTexts };
      const source: PieceSource = { fd, memory, memoryStart };
      const formatter = new PieceFormatter(text);
      if (this.threads === 2 && chunkCount >= HELPER_FROM_CHUNKS && availableParallelism() >= 2) {
        helper = warm ?? new TextHelper(this.helperModule);
        helper.start({ text, source, items, chunks, textBytes: TEXT_BYTES });
      } else {
        await warm?.close();
      }

      // Chunk c's text, once claimed (by this thread or the helper); `made[c]` once it is there.
      const results: Array<Promise<ChunkText> | undefined> = new Array(chunkCount);
      const made = new Uint8Array(chunkCount);
      const free: ArrayBuffer[] = [];
      let claimed = 0;
      // The helper keeps two chunks in hand (one made while the other travels), claimed once it has started.
      // A helper that fails leaves its chunks to this thread (the text is the same, only later).
      const lanes = helper === null ? [] : [0, 1].map(async () => {
        try {
          await helper!.ready;
          while (claimed < chunkCount) {
            const c = claimed++;
            const result = helper!.format(c, free.pop() ?? null);
            results[c] = result;
            await result;
            made[c] = 1;
            this.chunksByHelper++;
          }
        } catch {
          // Its chunk's result rejects too: the loop below makes that chunk itself.
        }
      });
      if (helper !== null && this.waitForHelper) {
        await helper.ready.catch(() => {});
        // Both lanes have claimed their first chunks once their `ready` continuations have run.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      let writing: Promise<void> = Promise.resolve();
      for (let c = 0; c < chunkCount; c++) {
        // Unclaimed: make it here. Being made by the helper: make later ones here meanwhile (a few).
        while (results[c] === undefined || (made[c] === 0 && claimed < chunkCount && claimed - c < AHEAD)) {
          const own = claimed++;
          const result = formatter.format(items, chunks[own]!, chunks[own + 1]!, source, textBuffer(free.pop(), TEXT_BYTES));
          results[own] = Promise.resolve(result);
          made[own] = 1;
          // Lets the helper's replies in.
          if (helper !== null) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const { text: chunkText, length } = (await results[c]!.catch(() => null)) ?? formatter.format(items, chunks[c]!, chunks[c + 1]!, source, textBuffer(null, TEXT_BYTES));
        results[c] = undefined;
        await writing;
        writing = out.writeBytes(chunkText.subarray(0, length)).then(() => {
          free.push(chunkText.buffer as ArrayBuffer);
        });
        // Awaited before the next write; until then a failure must not count as unhandled.
        writing.catch(() => {});
      }
      await writing;
      await Promise.all(lanes);
    } finally {
      await helper?.close();
      await this.discard();
    }
  }

  /** Removes the spill file (after writing, or when the rows are given up). */
  async discard(): Promise<void> {
    await this.helper?.close();
    this.helper = null;
    await Promise.allSettled(this.writes);
    this.writes = [];
    if (this.spillFile) await (await this.spillFile).close().catch(() => {});
    this.spillFile = null;
    if (this.spillDir) await rm(this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }
}

/** The helper thread, as the main thread sees it: chunks asked for by number, their text handed back. */
class TextHelper {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (text: ChunkText) => void; reject: (error: Error) => void }>();
  private failure: Error | null = null;
  readonly ready: Promise<void>;

  constructor(module: URL) {
    this.worker = startWorker(module, null);
    let started: () => void = () => {};
    let notStarted: (error: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      notStarted = reject;
    });
    // Nothing may wait on `ready` if the main thread finished alone: not an unhandled rejection then.
    this.ready.catch(() => {});
    this.worker.on('message', (message: HelperReply | 'ready') => {
      if (message === 'ready') {
        started();
        return;
      }
      const waiter = this.waiting.get(message.chunk);
      this.waiting.delete(message.chunk);
      waiter?.resolve({ text: Buffer.from(message.text), length: message.length });
    });
    // An error or an exit, before or after starting: whoever waits is told (a rejected `ready` once started is ignored).
    const fail = (error: Error): void => {
      this.failure ??= error;
      notStarted(error);
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the text helper thread stopped (exit code ${code})`)));
  }

  /** Gives the thread what to print; `ready` resolves once it has taken it. */
  start(init: HelperInit): void {
    this.worker.postMessage(init);
  }

  format(chunk: number, spare: ArrayBuffer | null): Promise<ChunkText> {
    if (this.failure) return Promise.reject(this.failure);
    const result = new Promise<ChunkText>((resolve, reject) => this.waiting.set(chunk, { resolve, reject }));
    const request: HelperRequest = { chunk, spare };
    this.worker.postMessage(request, spare ? [spare] : []);
    return result;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners();
    await this.worker.terminate();
  }
}
