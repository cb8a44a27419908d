// Streams a log file line by line, one physical line per record. The CSV
// LineReader (csv/line-reader.ts) joins lines while a record's quotes are
// unbalanced, which is right for CSV but wrong for log lines: one JSON line
// cut inside a string would swallow every following line into one record
// (and hold them all in memory). Same interface otherwise: `next()` is
// synchronous, `fill()` refills; bytes are decoded as latin1 so a line can
// be written back to a rejects file byte for byte.

import { open, type FileHandle } from 'node:fs/promises';

const CHUNK_BYTES = 1 << 20;

export class RawLineReader {
  private readonly handle: FileHandle;
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private text = '';
  private pos = 0;
  private eof = false;
  /** Line number of the line last returned (1-based). */
  lineNumber = 0;

  private constructor(handle: FileHandle) {
    this.handle = handle;
  }

  static async open(path: string): Promise<RawLineReader> {
    return new RawLineReader(await open(path, 'r'));
  }

  /** The next line without its line break, null at end of file, undefined when `fill()` must be awaited first. */
  next(): string | null | undefined {
    const text = this.text;
    const newline = text.indexOf('\n', this.pos);
    if (newline < 0 && !this.eof) return undefined;
    if (newline < 0 && this.pos >= text.length) return null;
    const end = newline < 0 ? text.length : newline;
    const line = text.slice(this.pos, end > this.pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    this.pos = newline < 0 ? text.length : newline + 1;
    this.lineNumber++;
    return this.lineNumber === 1 && line.startsWith('\u00ef\u00bb\u00bf') ? line.slice(3) : line;
  }

  async fill(): Promise<void> {
    if (this.eof) return;
    const { bytesRead } = await this.handle.read(this.buffer, 0, CHUNK_BYTES, null);
    const rest = this.text.slice(this.pos);
    this.pos = 0;
    if (bytesRead === 0) {
      this.eof = true;
      this.text = rest;
      return;
    }
    this.text = rest + this.buffer.toString('latin1', 0, bytesRead);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
