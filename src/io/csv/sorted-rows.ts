// Output rows that must be written in key order (natural order of keys, then
// window start) while they are produced in time order. Rows are kept in
// memory up to a bound; beyond it, sorted runs spill to temporary files and
// are merged at the end, so memory stays flat however large the output.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareNatural } from '../../engine/natural-order.ts';
import { FileWriter } from './file-writer.ts';
import { LineReader } from './line-reader.ts';

interface Row {
  key: string;
  start: number;
  text: string;
}

export type RowOrder = 'key-then-start' | 'start-then-key';

const SEPARATOR = '\u0001';

export class SortedRows {
  private rows: Row[] = [];
  private readonly runs: string[] = [];
  private spillDir: Promise<string> | null = null;
  private runCount = 0;
  private spills: Array<Promise<void>> = [];
  private readonly maxInMemory: number;
  private readonly compare: (a: Row, b: Row) => number;
  count = 0;

  constructor(order: RowOrder, maxInMemory = 300_000) {
    this.maxInMemory = maxInMemory;
    this.compare = order === 'key-then-start'
      ? (a, b) => compareNatural(a.key, b.key) || a.start - b.start
      : (a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  }

  /** Adds a row; await the result only when it is a promise (a spill). */
  add(key: string, start: number, text: string): Promise<void> | undefined {
    this.rows.push({ key, start, text });
    this.count++;
    if (this.rows.length < this.maxInMemory) return undefined;
    // The rows are taken at once: rows added while this spill is written go to the next one.
    const spill = this.spill();
    this.spills.push(spill);
    return spill;
  }

  private async spill(): Promise<void> {
    const rows = this.rows;
    this.rows = [];
    rows.sort(this.compare);
    this.spillDir ??= mkdtemp(join(tmpdir(), 'streamwatch-sort-'));
    const path = join(await this.spillDir, `run-${this.runCount++}`);
    const writer = await FileWriter.create(path);
    for (const row of rows) {
      const pending = writer.writeLine(`${row.key}${SEPARATOR}${row.start}${SEPARATOR}${row.text}`);
      if (pending) await pending;
    }
    await writer.close();
    this.runs.push(path);
  }

  /** Writes every row, in order, to `out`. */
  async writeTo(out: FileWriter): Promise<void> {
    try {
      await Promise.all(this.spills);
      if (this.runs.length === 0) {
        this.rows.sort(this.compare);
        for (const row of this.rows) {
          const pending = out.writeLine(row.text);
          if (pending) await pending;
        }
        this.rows = [];
        return;
      }
      if (this.rows.length > 0) await this.spill();
      await this.merge(out);
    } finally {
      await this.discard();
    }
  }

  /** Removes the spilled runs (after writing, or when the rows are given up). */
  async discard(): Promise<void> {
    await Promise.allSettled(this.spills);
    this.spills = [];
    if (this.spillDir) await rm(await this.spillDir, { recursive: true, force: true });
    this.spillDir = null;
  }

  private async merge(out: FileWriter): Promise<void> {
    const readers = await Promise.all(this.runs.map((path) => LineReader.open(path, 'utf8')));
    const heads: Array<Row | null> = await Promise.all(readers.map((r) => nextRow(r)));
    // Few runs: a linear scan for the smallest head is simpler than a heap and fast enough.
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const head = heads[i];
        if (head && (best < 0 || this.compare(head, heads[best]!) < 0)) best = i;
      }
      if (best < 0) break;
      const pending = out.writeLine(heads[best]!.text);
      if (pending) await pending;
      heads[best] = await nextRow(readers[best]!);
    }
    await Promise.all(readers.map((r) => r.close()));
  }
}

async function nextRow(reader: LineReader): Promise<Row | null> {
  for (;;) {
    const line = reader.next();
    if (line === undefined) {
      await reader.fill();
      continue;
    }
    if (line === null) return null;
    const a = line.indexOf(SEPARATOR);
    const b = line.indexOf(SEPARATOR, a + 1);
    return { key: line.slice(0, a), start: Number(line.slice(a + 1, b)), text: line.slice(b + 1) };
  }
}
