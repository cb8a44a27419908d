// Buffered text output to a file: lines are gathered into large strings and
// written with backpressure, so millions of rows cost few system calls.
// A regular file is written to a temporary name and renamed on close, so a
// reader never sees a half-written file. A path that is not a regular file
// (a device such as /dev/stdout, a FIFO) is written in place, and a symlink
// is followed: the link stays, its target gets the content.

import { lstat, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { StreamwatchError } from '../../errors.ts';

const FLUSH_CHARS = 1 << 20;
const SYNC_BYTES = 32 << 20;

export class FileWriter {
  private readonly handle: FileHandle;
  private readonly path: string;
  /** Null when writing in place. */
  private readonly tempPath: string | null;
  private readonly encoding: BufferEncoding;
  private pending = '';
  /** Bytes written since the last background sync was started, and that sync while under way. */
  private unsynced = 0;
  private syncing: Promise<void> | null = null;
  lines = 0;

  private constructor(handle: FileHandle, path: string, tempPath: string | null, encoding: BufferEncoding) {
    this.handle = handle;
    this.path = path;
    this.tempPath = tempPath;
    this.encoding = encoding;
  }

  static async create(path: string, encoding: BufferEncoding = 'utf8'): Promise<FileWriter> {
    try {
      let target = path;
      if ((await lstat(path).catch(() => null))?.isSymbolicLink()) target = await realpath(path);
      const existing = await stat(target).catch(() => null);
      if (existing !== null && !existing.isFile()) {
        if (existing.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        return new FileWriter(await open(target, 'w'), target, null, encoding);
      }
      const tempPath = `${target}.tmp-${process.pid}`;
      return new FileWriter(await open(tempPath, 'w'), target, tempPath, encoding);
    } catch (error) {
      throw outputError(path, error);
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
    await this.writeAll(bytes);
    this.syncSoon(bytes.length);
  }

  /** Writes all of `bytes` (a write may take fewer than it was given). */
  private async writeAll(bytes: Uint8Array): Promise<void> {
    try {
      for (let done = 0; done < bytes.length; ) done += (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten;
    } catch (error) {
      throw outputError(this.path, error);
    }
  }

  /**
   * A large file is flushed to disk as it is written (a sync every
   * SYNC_BYTES, not awaited), so the sync before the rename in `close`
   * has little left to do.
   */
  private syncSoon(written: number): void {
    if (this.tempPath === null) return;
    this.unsynced += written;
    if (this.unsynced < SYNC_BYTES || this.syncing !== null) return;
    this.unsynced = 0;
    const sync = this.handle.datasync().finally(() => {
      if (this.syncing === sync) this.syncing = null;
    });
    // Awaited by close (or abort); until then a failure must not count as unhandled.
    sync.catch(() => {});
    this.syncing = sync;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    const bytes = Buffer.from(text, this.encoding);
    await this.writeAll(bytes);
    this.syncSoon(bytes.length);
  }

  /** Flushes, syncs and moves the file into place. */
  async close(): Promise<void> {
    await this.flush();
    try {
      await this.syncing;
      if (this.tempPath !== null) await this.handle.sync();
      await this.handle.close();
      if (this.tempPath !== null) await rename(this.tempPath, this.path);
    } catch (error) {
      throw outputError(this.path, error);
    }
  }

  /** Gives up: the partial temporary file is removed. */
  async abort(): Promise<void> {
    await this.syncing?.catch(() => {});
    await this.handle.close().catch(() => {});
    if (this.tempPath !== null) await unlink(this.tempPath).catch(() => {});
  }
}

function outputError(path: string, error: unknown): StreamwatchError {
  if (error instanceof StreamwatchError) return error;
  return new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
}

/**
 * Writes a whole output file: the header line, then what `body` writes. On
 * failure the partial temporary file is removed and the error goes on.
 */
export async function writeCsvFile(path: string, header: string, body: (out: FileWriter) => Promise<void>): Promise<void> {
  const out = await FileWriter.create(path);
  try {
    await out.writeLine(header);
    await body(out);
    await out.close();
  } catch (error) {
    await out.abort();
    throw error;
  }
}
