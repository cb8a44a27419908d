// A small CSV output that is kept whole and sorted while a streaming job
// adds rows to it: after each batch in which rows came, the whole file is
// written to a temporary name, synced and renamed into place, so a reader
// never sees half a file (lb-summary's `--out`: one row per 5 minutes).
// On open it loads the rows already there (a restarted worker goes on with
// them); a row whose id is already there is replaced, so a row re-computed
// after a restore is never written twice.

import { readFile } from 'node:fs/promises';
import { csvLine, splitCsv } from '../csv/fields.ts';
import { writeCsvFile } from '../csv/file-writer.ts';

export class RewrittenCsv {
  private readonly path: string;
  private readonly header: string;
  private readonly idOf: (fields: readonly string[]) => string;
  private readonly compare: (a: readonly string[], b: readonly string[]) => number;
  private readonly rows = new Map<string, readonly string[]>();
  private dirty = false;
  /** Times the file was rewritten. */
  rewrites = 0;

  private constructor(path: string, header: string, idOf: (fields: readonly string[]) => string, compare: (a: readonly string[], b: readonly string[]) => number) {
    this.path = path;
    this.header = header;
    this.idOf = idOf;
    this.compare = compare;
  }

  /** Opens `path`, keeping the rows it holds; creates it (header only) when missing. */
  static async open(path: string, header: string, idOf: (fields: readonly string[]) => string, compare: (a: readonly string[], b: readonly string[]) => number): Promise<RewrittenCsv> {
    const file = new RewrittenCsv(path, header, idOf, compare);
    let text: string | null = null;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== null && text.startsWith(`${header}\n`)) {
      for (const line of text.slice(header.length + 1).split('\n')) {
        if (line === '') continue;
        const fields = splitCsv(line);
        file.rows.set(idOf(fields), fields);
      }
    }
    file.dirty = true;
    await file.refresh();
    return file;
  }

  get size(): number {
    return this.rows.size;
  }

  /** Adds a row, or replaces the row with the same id. */
  put(fields: readonly string[]): void {
    this.rows.set(this.idOf(fields), fields);
    this.dirty = true;
  }

  /** Rewrites the file if rows came since the last time. */
  async refresh(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const sorted = [...this.rows.values()].sort(this.compare);
    await writeCsvFile(this.path, this.header, async (out) => {
      for (const fields of sorted) {
        const pending = out.writeLine(csvLine(fields));
        if (pending) await pending;
      }
    });
    this.rewrites++;
  }

  sync(): Promise<void> {
    return this.refresh();
  }

  close(): Promise<void> {
    return this.refresh();
  }
}
