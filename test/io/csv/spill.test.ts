// Output buffers that spill to disk: a burst of rows added without waiting
// (as a watermark step emits them) spills several times concurrently; the
// rows come out whole, in order, once each, and the spill file is removed.
// Regression: overlapping spills used to write every buffer again and again
// (a 48 GB spill file for a 10 M-row job).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from '../../../src/io/csv/file-writer.ts';
import { KeyedRows } from '../../../src/io/csv/keyed-rows.ts';
import { SortedRows } from '../../../src/io/csv/sorted-rows.ts';

const spillDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('streamwatch-rows-') || n.startsWith('streamwatch-sort-')).length;

test('KeyedRows: concurrent spills keep every row once, keys in natural order, rows in arrival order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-spill-'));
  try {
    const before = spillDirs();
    const rows = new KeyedRows(200);
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 2000; i++) {
      const p = rows.add(`s_${i % 7}`, `s_${i % 7},${i}`);
      if (p) pending.push(p);
    }
    assert.ok(pending.length > 10, 'spilled several times');
    const out = await FileWriter.create(join(dir, 'out.csv'));
    await rows.writeTo(out);
    await out.close();
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    const expected = [0, 1, 2, 3, 4, 5, 6].flatMap((k) => Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 7 === k).map((i) => `s_${k},${i}`));
    assert.deepEqual(lines, expected);
    assert.equal(spillDirs(), before, 'spill directory removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SortedRows: concurrent spills keep every row once, sorted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-spill-'));
  try {
    const rows = new SortedRows('start-then-key', 50);
    for (let i = 0; i < 1000; i++) void rows.add(`k${i % 3}`, 1000 - i, `${1000 - i},k${i % 3}`);
    const out = await FileWriter.create(join(dir, 'out.csv'));
    await rows.writeTo(out);
    await out.close();
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1000);
    assert.deepEqual(lines, [...lines].sort((a, b) => Number(a.split(',')[0]) - Number(b.split(',')[0])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
