// Streams a text file line by line without loading it whole. Lines come out
// of a buffered chunk synchronously (`next()`); only refilling the buffer is
// asynchronous, so per-line cost stays a few string operations. Bytes are
// decoded as latin1, which maps every byte to one character: raw lines can be
// written back (to a rejects file) byte for byte, and ASCII data is unchanged.
// A quoted CSV field may hold line breaks: such a record spans several lines
// and is returned whole, numbered by its first line.

import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { StreamwatchError } from '../../errors.ts';

const CHUNK_BYTES = 1 << 20;

export class LineReader {
  private readonly handle: FileHandle;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private text = '';
  private pos = 0;
  private eof = false;
  /** Physical line number of the line last returned (1-based). */
  lineNumber = 0;
  private nextLineNumber = 1;
  /** Bytes read so far. */
  bytesRead = 0;

  private readonly decoder: StringDecoder | null;

  private constructor(handle: FileHandle, encoding: 'latin1' | 'utf8') {
    this.handle = handle;
    this.decoder = encoding === 'utf8' ? new StringDecoder('utf8') : null;
  }

  /** Opens a file; a missing file, a directory or an unreadable one is a clear SW_ERR_INPUT_NOT_FOUND. */
  static async open(path: string, encoding: 'latin1' | 'utf8' = 'latin1'): Promise<LineReader> {
    let handle: FileHandle | null = null;
    try {
      handle = await open(path, 'r');
      if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      return new LineReader(handle, encoding);
    } catch (error) {
      await handle?.close();
      throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  /** Text holding the record last found by `nextRange()`, and where it lies in it. */
  recordText = '';
  recordStart = 0;
  recordEnd = 0;

  /**
   * Finds the next record without copying it: 1 when one is ready in
   * `recordText` between `recordStart` and `recordEnd`, 0 when `fill()` must
   * be awaited first, -1 at end of file.
   */
  nextRange(): 1 | 0 | -1 {
    const text = this.text;
    const pos = this.pos;
    const newline = text.indexOf('\n', pos);
    if (newline < 0) {
      if (!this.eof) return 0;
      if (pos >= text.length) return -1;
    }
    let end = newline < 0 ? text.length : newline;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    // A quote may open a field that runs over the line break.
    for (let i = pos; i < end; i++) {
      if (text.charCodeAt(i) === 34) return this.quotedRange(end);
    }
    this.pos = newline < 0 ? text.length : newline + 1;
    this.lineNumber = this.nextLineNumber++;
    this.recordText = text;
    this.recordStart = pos;
    this.recordEnd = end;
    if (this.lineNumber === 1) this.skipBom();
    return 1;
  }

  private quotedRange(firstEnd: number): 1 | 0 | -1 {
    const line = this.text.slice(this.pos, firstEnd);
    if (quotesBalanced(line)) {
      const newline = this.text.indexOf('\n', this.pos);
      this.pos = newline < 0 ? this.text.length : newline + 1;
      this.lineNumber = this.nextLineNumber++;
      this.recordText = line;
    } else {
      const record = this.nextQuoted();
      if (record === undefined) return 0;
      if (record === null) return -1;
      this.recordText = record;
    }
    this.recordStart = 0;
    this.recordEnd = this.recordText.length;
    if (this.lineNumber === 1) this.skipBom();
    return 1;
  }

  private skipBom(): void {
    const t = this.recordText;
    const s = this.recordStart;
    if (t.charCodeAt(s) === 0xfeff) this.recordStart += 1;
    else if (t.charCodeAt(s) === 0xef && t.charCodeAt(s + 1) === 0xbb && t.charCodeAt(s + 2) === 0xbf) this.recordStart += 3;
  }

  /** The record last found by `nextRange()`, as a string. */
  record(): string {
    return this.recordText.slice(this.recordStart, this.recordEnd);
  }

  /** The next record, null at end of file, or undefined when `fill()` must be awaited first. */
  next(): string | null | undefined {
    const found = this.nextRange();
    return found === 1 ? this.record() : found === 0 ? undefined : null;
  }

  /** A record whose quoted field spans lines: take lines until the quotes balance. */
  private nextQuoted(): string | null | undefined {
    const text = this.text;
    let end = this.pos;
    let lines = 0;
    for (;;) {
      const newline = text.indexOf('\n', end);
      if (newline < 0 && !this.eof) return undefined;
      lines++;
      const stop = newline < 0 ? text.length : newline;
      const candidate = text.slice(this.pos, stop);
      if (quotesBalanced(candidate) || newline < 0) {
        this.pos = newline < 0 ? text.length : newline + 1;
        this.lineNumber = this.nextLineNumber;
        this.nextLineNumber += lines;
        return candidate.endsWith('\r') ? candidate.slice(0, -1) : candidate;
      }
      end = newline + 1;
    }
  }

  /** Reads the next chunk; resolves when `next()` can make progress. */
  async fill(): Promise<void> {
    if (this.eof) return;
    const { bytesRead } = await this.handle.read(this.buffer, 0, CHUNK_BYTES, null);
    this.bytesRead += bytesRead;
    const rest = this.text.slice(this.pos);
    this.pos = 0;
    if (bytesRead === 0) {
      this.eof = true;
      this.text = rest + (this.decoder?.end() ?? '');
      return;
    }
    const chunk = this.buffer.subarray(0, bytesRead);
    if (this.decoder) {
      this.text = rest + this.decoder.write(chunk);
    } else {
      // Decode leftover and new bytes together: one flat string. (Concatenated
      // strings are ropes, and reading a rope char by char is several times slower.)
      const joined = Buffer.allocUnsafe(rest.length + bytesRead);
      joined.write(rest, 0, 'latin1');
      chunk.copy(joined, rest.length);
      this.text = joined.toString('latin1');
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function quotesBalanced(text: string): boolean {
  let count = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) count++;
  return count % 2 === 0;
}

