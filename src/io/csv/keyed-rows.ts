// Output rows grouped by key: rows arrive in time order across keys but each
// key's rows arrive in order, so the output (natural order of keys, then
// time) needs no sort: each key keeps its own text, and the keys are sorted
// once at the end. When the text held grows past a bound, every key's text
// is appended to one spill file and only its (offset, length) is kept, so
// memory stays flat however large the output. Rows are ASCII (keys are
// validated server ids), kept as latin1 bytes.

import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareNatural } from '../../engine/natural-order.ts';
import type { FileWriter } from './file-writer.ts';

export interface KeyRows {
  /** Rows not spilled yet, as latin1 bytes (rows are ASCII). */
  bytes: Buffer;
  length: number;
  /** Spilled pieces: offsets and lengths in the spill file. */
  spilled: number[];
}

export class KeyedRows {
  private readonly byKey = new Map<string, KeyRows>();
  private held = 0;
  private readonly maxHeldChars: number;
  private spillDir: string | null = null;
  private spillFile: Promise<FileHandle> | null = null;
  private spillSize = 0;
  /** Spill writes under way; each has its own file position, so they may overlap. */
  private writes: Array<Promise<void>> = [];
  count = 0;

  constructor(maxHeldChars = 32 << 20) {
    this.maxHeldChars = maxHeldChars;
  }

  /** Adds one line for `key`; await the result only when it is a promise (a spill). */
  add(key: string, line: string): Promise<void> | undefined {
    const rows = this.rowsOf(key);
    this.ensure(rows, line.length + 1);
    let length = rows.length;
    length += rows.bytes.write(line, length, 'latin1');
    rows.bytes[length++] = 10;
    return this.commit(rows, length - rows.length);
  }

  /** The rows of `key`, for a caller that writes row bytes itself (`ensure`, then `commit`). */
  rowsOf(key: string): KeyRows {
    let rows = this.byKey.get(key);
    if (rows === undefined) {
      rows = { bytes: Buffer.allocUnsafe(1024), length: 0, spilled: [] };
      this.byKey.set(key, rows);
    }
    return rows;
  }

  /** Makes room for `extra` more bytes after `rows.length` in `rows.bytes`. */
  ensure(rows: KeyRows, extra: number): void {
    const needed = rows.length + extra;
    if (needed > rows.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, rows.bytes.length * 2));
      rows.bytes.copy(grown, 0, 0, rows.length);
      rows.bytes = grown;
    }
  }

  /** Counts one row of `bytes` bytes (newline included) written at `rows.length`; a promise when that made the rows spill. */
  commit(rows: KeyRows, bytes: number): Promise<void> | undefined {
    rows.length += bytes;
    this.held += bytes;
    this.count++;
    return this.held >= this.maxHeldChars ? this.spill() : undefined;
  }

  /**
   * Moves every key's rows to the spill file. The rows are taken and their
   * file positions assigned at once, so rows added while the write is under
   * way (the caller need not wait) go to fresh buffers and a later spill.
   */
  private spill(): Promise<void> {
    const pieces: Buffer[] = [];
    const position = this.spillSize;
    for (const rows of this.byKey.values()) {
      if (rows.length === 0) continue;
      rows.spilled.push(this.spillSize, rows.length);
      this.spillSize += rows.length;
      pieces.push(rows.bytes.subarray(0, rows.length));
      rows.bytes = Buffer.allocUnsafe(Math.min(rows.bytes.length, 1 << 16));
      rows.length = 0;
    }
    this.held = 0;
    const write = (async () => {
      const file = await this.openSpillFile();
      await file.writev(pieces, position);
    })();
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

  /** Writes every key's rows, keys in natural order, to `out`; removes the spill file. */
  async writeTo(out: FileWriter): Promise<void> {
    try {
      await Promise.all(this.writes);
      const file = this.spillFile ? await this.spillFile : null;
      const keys = [...this.byKey.keys()].sort(compareNatural);
      for (const key of keys) {
        const rows = this.byKey.get(key)!;
        for (let i = 0; i < rows.spilled.length; i += 2) {
          const buffer = Buffer.allocUnsafe(rows.spilled[i + 1]!);
          await file!.read(buffer, 0, buffer.length, rows.spilled[i]!);
          await out.writeBytes(buffer);
        }
        if (rows.length > 0) await out.writeBytes(rows.bytes.subarray(0, rows.length));
      }
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
