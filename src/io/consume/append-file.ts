// An output file that only grows by whole, synced batches. On open it is
// cut back to the length the checkpoint vouches for, which drops whatever a
// crash left after the last complete batch.

import { open, type FileHandle } from 'node:fs/promises';
import { StreamwatchError } from '../../errors.ts';

export class AppendFile {
  readonly path: string;
  private readonly handle: FileHandle;
  /** Bytes known to be in the file (complete batches only). */
  length: number;
  private pending: string[] = [];
  pendingLines = 0;

  private constructor(path: string, handle: FileHandle, length: number) {
    this.path = path;
    this.handle = handle;
    this.length = length;
  }

  /** Opens (creating) the file and truncates it to `length`; a shorter file means the checkpoint cannot be trusted. */
  static async open(path: string, length: number): Promise<AppendFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'a');
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    const size = (await handle.stat()).size;
    if (size < length) {
      await handle.close();
      throw new StreamwatchError('SW_ERR_STATE', `${path} holds ${size} bytes but the checkpoint says ${length} were written; restore the file or remove the directory's checkpoint and files`);
    }
    if (size > length) await handle.truncate(length);
    return new AppendFile(path, handle, length);
  }

  /** Queues one line (without its newline) for the next `flush()`. */
  add(line: string): void {
    this.pending.push(line);
    this.pendingLines++;
  }

  /** Appends what is queued and syncs it; `header` is written first into an empty file. */
  async flush(header: string | null): Promise<void> {
    if (this.pending.length === 0) return;
    const text = (this.length === 0 && header !== null ? header + '\n' : '') + this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingLines = 0;
    const bytes = Buffer.from(text, 'utf8');
    try {
      // appendFile loops until every byte is written (write() may stop short).
      await this.handle.appendFile(bytes);
      await this.handle.datasync();
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${this.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    this.length += bytes.length;
  }

  /** Writes the header into an empty file (so even a topic without records gets a valid CSV). */
  async ensureHeader(header: string): Promise<void> {
    if (this.length > 0) return;
    const bytes = Buffer.from(header + '\n', 'utf8');
    await this.handle.appendFile(bytes);
    await this.handle.datasync();
    this.length = bytes.length;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}
