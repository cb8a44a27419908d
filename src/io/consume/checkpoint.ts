// The consumer's checkpoint: for each output file the length that is known
// to be complete, and for each partition the next offset to read. It is
// the source of truth on restart (files are cut back to these lengths and
// reading resumes at these offsets), so it is replaced atomically: written
// to a temporary file, synced, renamed over the old one, and the directory
// synced so the rename itself survives a crash.

import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamwatchError } from '../../errors.ts';

export const CHECKPOINT_FILE = '.consume-checkpoint.json';

export interface Checkpoint {
  version: 1;
  group: string;
  /** Output file name (inside the directory) → complete length in bytes. */
  files: Record<string, number>;
  /** `topic:partition` → next offset to read. */
  offsets: Record<string, number>;
}

export async function readCheckpoint(dir: string): Promise<Checkpoint | null> {
  const path = join(dir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StreamwatchError('SW_ERR_STATE', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const value = JSON.parse(text) as Checkpoint;
    if (value.version !== 1 || typeof value.group !== 'string' || typeof value.files !== 'object' || typeof value.offsets !== 'object') throw new Error('unexpected shape');
    for (const n of [...Object.values(value.files), ...Object.values(value.offsets)]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad number ${String(n)}`);
    }
    return value;
  } catch (error) {
    throw new StreamwatchError('SW_ERR_STATE', `${path} is not a consume checkpoint (${(error as Error).message})`, { cause: error });
  }
}

/** Writes checkpoints into one directory; keeps the directory open to sync it after each rename. */
export class CheckpointWriter {
  private readonly dir: string;
  private readonly dirHandle: FileHandle;
  private readonly path: string;
  private readonly tempPath: string;

  private constructor(dir: string, dirHandle: FileHandle) {
    this.dir = dir;
    this.dirHandle = dirHandle;
    this.path = join(dir, CHECKPOINT_FILE);
    this.tempPath = join(dir, `${CHECKPOINT_FILE}.tmp`);
  }

  static async open(dir: string): Promise<CheckpointWriter> {
    try {
      return new CheckpointWriter(dir, await open(dir, 'r'));
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot open ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  /** Makes newly created files' directory entries durable. */
  async syncDir(): Promise<void> {
    await this.dirHandle.sync();
  }

  async write(checkpoint: Checkpoint): Promise<void> {
    try {
      const handle = await open(this.tempPath, 'w');
      try {
        await handle.writeFile(JSON.stringify(checkpoint) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.tempPath, this.path);
      await this.dirHandle.sync();
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write the checkpoint in ${this.dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.dirHandle.close().catch(() => {});
  }
}
