// A CSV file that a restarted worker appends to without writing a row twice.
// On open it keeps the ids of the rows already in the file (the row's
// identity, e.g. server and window start) and cuts a torn last line; rows
// whose id is already there are skipped. Appends are flushed and fsynced by
// `sync()`, which the worker calls before each checkpoint.

import { open, type FileHandle } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { splitCsv } from '../csv/fields.ts';

export class IdempotentCsv {
  private readonly handle: FileHandle;
  private readonly ids: Set<string>;
  private readonly idOf: (fields: string[]) => string;
  private pending = '';
  written = 0;
  skipped = 0;

  private constructor(handle: FileHandle, ids: Set<string>, idOf: (fields: string[]) => string) {
    this.handle = handle;
    this.ids = ids;
    this.idOf = idOf;
  }

  /** Opens (or creates with `header`) the file; `idOf` gives a row's identity from its fields. */
  static async open(path: string, header: string, idOf: (fields: string[]) => string): Promise<IdempotentCsv> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const ids = new Set<string>();
    const lines = complete.split('\n');
    for (let i = 1; i < lines.length; i++) if (lines[i]) ids.add(idOf(splitCsv(lines[i]!)));
    const handle = await open(path, text.length === 0 ? 'w' : 'r+');
    if (complete.length === 0) {
      await handle.truncate(0);
      await handle.write(`${header}\n`, 0);
    } else if (complete.length !== text.length) {
      await handle.truncate(Buffer.byteLength(complete));
    }
    const file = new IdempotentCsv(handle, ids, idOf);
    return file;
  }

  /** Appends a row unless a row with its id is already in the file. */
  append(fields: string[], line: string): void {
    const id = this.idOf(fields);
    if (this.ids.has(id)) {
      this.skipped++;
      return;
    }
    this.ids.add(id);
    this.pending += `${line}\n`;
    this.written++;
  }

  /** Writes what is pending and makes it durable. */
  async sync(): Promise<void> {
    if (this.pending.length > 0) {
      const text = this.pending;
      this.pending = '';
      const { size } = await this.handle.stat();
      await this.handle.write(text, size);
    }
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.sync();
    await this.handle.close();
  }
}
