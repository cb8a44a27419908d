// Reads a text file record by record as bytes, for the hot loops of the
// batch jobs: records are found in the chunk buffer with Buffer.indexOf and
// handed out as byte ranges, so a parser can read fields without decoding a
// string per chunk or per line. Records are the same as LineReader's (latin1
// decoding is byte for byte): a quoted field may hold line breaks, then the
// record spans several lines, is numbered by its first one, and is flagged
// `quoted` so the caller takes its quote-aware path on `text()`.

import { open, type FileHandle } from 'node:fs/promises';
import { StreamwatchError } from '../../errors.ts';

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;

export class ByteLineReader {
  private readonly handle: FileHandle;
  private readonly chunkBytes: number;
  /** Room kept before a chunk for the end of the previous one (a record cut by the chunk boundary). */
  private reserve: number;
  /** The buffer `view` lies in, and the one the next chunk is read into. */
  private current: Buffer;
  private spare: Buffer;
  private pending: Promise<number> | null = null;
  /** Bytes read and not yet consumed are `view[pos, size)`. */
  view: Buffer;
  private size = 0;
  pos = 0;
  /** `view[0, complete)` ends with a line break: a record starting before it ends with one too (see `skipLine`). */
  complete = 0;
  /** Position of the next quote at or after `pos`, `size` when none; below `pos` when unknown. */
  private quoteAt = -1;
  private eof = false;
  private nextLineNumber = 1;
  /** Physical line number of the record last found (1-based). */
  lineNumber = 0;
  /** Bytes read from the file so far. */
  bytesRead = 0;
  /** The record last found by `nextRecord()` is `bytes[start, end)` (valid until the next `fill()`). */
  bytes: Buffer;
  start = 0;
  end = 0;
  /** Whether that record holds a quote: fields must then be split by the quote-aware CSV path. */
  quoted = false;

  private constructor(handle: FileHandle, chunkBytes: number) {
    this.handle = handle;
    this.chunkBytes = chunkBytes;
    this.reserve = Math.max(64, chunkBytes >> 4);
    this.current = Buffer.allocUnsafe(this.reserve + chunkBytes);
    this.spare = Buffer.allocUnsafe(this.reserve + chunkBytes);
    this.view = this.current.subarray(0, 0);
    this.bytes = this.view;
  }

  /** Opens a file; a missing file, a directory or an unreadable one is a clear SW_ERR_INPUT_NOT_FOUND. */
  static async open(path: string, chunkBytes = CHUNK_BYTES): Promise<ByteLineReader> {
    let handle: FileHandle | null = null;
    try {
      handle = await open(path, 'r');
      if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      return new ByteLineReader(handle, Math.max(2, chunkBytes));
    } catch (error) {
      await handle?.close();
      throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  /**
   * Finds the next record: 1 when it is in `bytes[start, end)`, 0 when
   * `fill()` must be awaited first, -1 at end of file. A trailing CR is not
   * part of the record.
   */
  nextRecord(): 1 | 0 | -1 {
    const view = this.view;
    const pos = this.pos;
    const size = this.size;
    const newline = view.indexOf(NEWLINE, pos);
    if (newline < 0) {
      if (!this.eof) return 0;
      if (pos >= size) return -1;
    }
    let end = newline < 0 ? size : newline;
    if (end > pos && view[end - 1] === CR) end--;
    if (this.quoteAt < pos) {
      const quote = view.indexOf(QUOTE, pos);
      this.quoteAt = quote < 0 ? size : quote;
    }
    if (this.quoteAt < end) return this.quotedRecord(end);
    this.pos = newline < 0 ? size : newline + 1;
    this.found(pos, end, false, 1);
    return 1;
  }

  /**
   * Moves past a one-line record at `pos` that the caller read itself from
   * `view` (scanning up to its line break, which lies before `complete`);
   * `next` is the position after that line break.
   */
  skipLine(next: number): void {
    this.pos = next;
    this.nextLineNumber++;
  }

  private found(start: number, end: number, quoted: boolean, lines: number): void {
    this.lineNumber = this.nextLineNumber;
    this.nextLineNumber += lines;
    this.bytes = this.view;
    this.start = start;
    this.end = end;
    this.quoted = quoted;
    // A UTF-8 byte order mark before the first line is not part of it.
    if (this.lineNumber === 1 && end - start >= 3 && this.view[start] === 0xef && this.view[start + 1] === 0xbb && this.view[start + 2] === 0xbf) this.start += 3;
  }

  /** A record with a quote: it runs over line breaks until its quotes balance (or the file ends). */
  private quotedRecord(firstEnd: number): 1 | 0 | -1 {
    const view = this.view;
    const pos = this.pos;
    const size = this.size;
    let quotes = countQuotes(view, pos, firstEnd);
    let newline = view.indexOf(NEWLINE, pos);
    if (quotes % 2 === 0 || newline < 0) {
      this.pos = newline < 0 ? size : newline + 1;
      this.found(pos, firstEnd, true, 1);
      return 1;
    }
    let lines = 1;
    for (;;) {
      // The quotes of [pos, newline) are unbalanced: take the next line too.
      const from = newline + 1;
      newline = view.indexOf(NEWLINE, from);
      if (newline < 0 && !this.eof) return 0;
      lines++;
      const stop = newline < 0 ? size : newline;
      quotes += countQuotes(view, from, stop);
      if (quotes % 2 === 0 || newline < 0) {
        this.pos = newline < 0 ? size : newline + 1;
        this.found(pos, stop > pos && view[stop - 1] === CR ? stop - 1 : stop, true, lines);
        return 1;
      }
    }
  }

  /** The record last found, decoded as latin1 (byte for byte). */
  text(): string {
    return this.bytes.toString('latin1', this.start, this.end);
  }

  /** The next record as text, null at end of file, or undefined when `fill()` must be awaited first. */
  next(): string | null | undefined {
    const found = this.nextRecord();
    return found === 1 ? this.text() : found === 0 ? undefined : null;
  }

  /**
   * Reads more of the file; resolves when `nextRecord()` can make progress.
   * The next chunk is read ahead into a second buffer while this one is
   * parsed, so the parser does not wait for the disk. That buffer keeps
   * room at its front for the unfinished record this chunk ends with.
   */
  async fill(): Promise<void> {
    if (this.eof) return;
    this.pending ??= this.readInto(this.spare);
    const bytesRead = await this.pending;
    this.pending = null;
    this.bytesRead += bytesRead;
    const rest = this.size - this.pos;
    const next = this.spare;
    let view: Buffer;
    if (rest <= this.reserve) {
      // The unfinished record goes just before the new bytes.
      this.view.copy(next, this.reserve - rest, this.pos, this.size);
      view = next.subarray(this.reserve - rest, this.reserve + bytesRead);
    } else {
      // A record longer than the reserve: join it to the new bytes in a buffer of their own.
      view = Buffer.allocUnsafe(rest + bytesRead);
      this.view.copy(view, 0, this.pos, this.size);
      next.copy(view, rest, this.reserve, this.reserve + bytesRead);
      if (rest > this.reserve) this.reserve = Math.min(rest * 2, 1 << 26);
    }
    this.spare = this.current;
    this.current = next;
    if (this.spare.length < this.reserve + this.chunkBytes) this.spare = Buffer.allocUnsafe(this.reserve + this.chunkBytes);
    this.view = view;
    this.size = view.length;
    this.pos = 0;
    this.complete = view.lastIndexOf(NEWLINE) + 1;
    this.quoteAt = -1;
    if (bytesRead === 0) this.eof = true;
    // Read ahead into the buffer just released (nothing refers to it once this returns).
    else this.pending = this.readInto(this.spare);
  }

  private readInto(buffer: Buffer): Promise<number> {
    const read = this.handle.read(buffer, this.reserve, this.chunkBytes, null).then((r) => r.bytesRead);
    // Awaited by the next fill() or by close(); until then a failed read must not count as unhandled.
    read.catch(() => {});
    return read;
  }

  async close(): Promise<void> {
    // A read ahead may still be under way: let it end before closing the file.
    await this.pending?.catch(() => {});
    await this.handle.close();
  }
}

function countQuotes(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = bytes.indexOf(QUOTE, from); i >= 0 && i < to; i = bytes.indexOf(QUOTE, i + 1)) count++;
  return count;
}
