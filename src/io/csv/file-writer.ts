// Buffered text output to a file: lines are gathered into large strings and
// written with backpressure, so millions of rows cost few system calls.
// Written to a temporary name and renamed on close, so a reader never sees a
// half-written file.

import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { StreamwatchError } from '../../errors.ts';

const FLUSH_CHARS = 1 << 20;

export class FileWriter {
  private readonly handle: FileHandle;
  private readonly path: string;
  private readonly tempPath: string;
  private readonly encoding: BufferEncoding;
  private pending = '';
  lines = 0;

  private constructor(handle: FileHandle, path: string, tempPath: string, encoding: BufferEncoding) {
    this.handle = handle;
    this.path = path;
    this.tempPath = tempPath;
    this.encoding = encoding;
  }

  static async create(path: string, encoding: BufferEncoding = 'utf8'): Promise<FileWriter> {
    const tempPath = `${path}.tmp-${process.pid}`;
    try {
      return new FileWriter(await open(tempPath, 'w'), path, tempPath, encoding);
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  /** Adds one line (without its newline). Await the result only when it is a promise. */
  writeLine(line: string): Promise<void> | undefined {
    this.pending += line + '\n';
    this.lines++;
    return this.pending.length >= FLUSH_CHARS ? this.flush() : undefined;
  }

  /** Writes bytes that already end with their newline(s), after what is pending. */
  async writeBytes(bytes: Buffer): Promise<void> {
    await this.flush();
    await this.handle.write(bytes);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    await this.handle.write(Buffer.from(text, this.encoding));
  }

  /** Flushes, syncs and moves the file into place. */
  async close(): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tempPath, this.path);
  }

  /** Gives up: the partial temporary file is removed. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }
}
