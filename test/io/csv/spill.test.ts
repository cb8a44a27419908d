// Output buffers that spill to disk: a burst of rows added without waiting
// (as a watermark step emits them) spills several times concurrently; the
// rows come out whole, in order, once each, and the spill file is removed.
// Regression: overlapping spills used to write every buffer again and again
// (a 48 GB spill file for a 10 M-row job).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from '../../../src/io/csv/file-writer.ts';
import { WindowRows } from '../../../src/io/csv/window-rows.ts';
import { formatUnits } from '../../../src/engine/decimal.ts';
import { formatInstant } from '../../../src/engine/time.ts';
import { compareNatural } from '../../../src/engine/natural-order.ts';
import { SortedRows } from '../../../src/io/csv/sorted-rows.ts';

const spillDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('streamwatch-rows-') || n.startsWith('streamwatch-sort-')).length;

for (const threads of [1, 2] as const) {
  test(`WindowRows (threads ${threads}): concurrent spills keep every row once, keys in natural order, rows in arrival order, values as formatUnits prints them`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spill-'));
    try {
      const before = spillDirs();
      // Small blocks and chunks, so that there are many spills and (threads 2) the helper thread makes part of the text.
      const rows = new WindowRows({ digits: 2, size: 30_000, slide: 10_000, timeKind: () => 'time-of-day' }, { blockRows: 64, chunkRows: 16, threads, waitForHelper: true });
      const pending: Array<Promise<void>> = [];
      const keys = ['s_10', 's_2', 'a', 's_1', 'b.c:d-e', 's_02', 's_3'];
      const alerts = ['', 'High CPU + Memory stress', 'CPU spike suspected'];
      // Values of every shape: whole, one and two decimals, zero, negative, beyond 2^40, bigint.
      const values: Array<number | bigint> = [0, 5, 50, 1234, 4532, 100000, -25, 2 ** 45 + 1, 12345678901234567890n];
      const expected = new Map<string, string[]>(keys.map((k) => [k, []]));
      for (let i = 0; i < 2000; i++) {
        const key = keys[i % keys.length]!;
        const [v0, v1] = [values[i % values.length]!, values[(i * 7) % values.length]!];
        const alert = alerts[i % alerts.length]!;
        const start = i * 10_000;
        const p = rows.add(key, start, v0, v1, alert);
        if (p) pending.push(p);
        expected.get(key)!.push(`${key},${formatInstant(start, 'time-of-day')},${formatInstant(start + 30_000, 'time-of-day')},${formatUnits(v0, 2)},${formatUnits(v1, 2)},${alert}`);
      }
      assert.ok(pending.length > 10, 'spilled several times');
      assert.equal(rows.count, 2000);
      // As the batch job does once its reading thread is done: the helper starts before writeTo.
      rows.warmUp();
      const out = await FileWriter.create(join(dir, 'out.csv'));
      await rows.writeTo(out);
      await out.close();
      const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
      assert.deepEqual(lines, [...keys].sort(compareNatural).flatMap((k) => expected.get(k)!));
      assert.equal(spillDirs(), before, 'spill directory removed');
      if (threads === 2 && availableParallelism() >= 2) assert.ok(rows.chunksByHelper > 0, 'the helper thread made some of the text');
      else assert.equal(rows.chunksByHelper, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

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

for (const fixture of ['helper-exits.ts', 'helper-fails.ts']) {
  test(`WindowRows: a text helper thread that fails (${fixture}) leaves its chunks to the main thread; every row comes out once, in order`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-spill-'));
    try {
      const rows = new WindowRows(
        { digits: 2, size: 30_000, slide: 10_000, timeKind: () => 'time-of-day' },
        { blockRows: 64, chunkRows: 16, threads: 2, waitForHelper: true, helperModule: new URL(`./fixtures/${fixture}`, import.meta.url) },
      );
      const keys = ['s_10', 's_2', 's_1'];
      const expected = new Map<string, string[]>(keys.map((k) => [k, []]));
      for (let i = 0; i < 1500; i++) {
        const key = keys[i % keys.length]!;
        const start = i * 10_000;
        await rows.add(key, start, i, 2 * i, '');
        expected.get(key)!.push(`${key},${formatInstant(start, 'time-of-day')},${formatInstant(start + 30_000, 'time-of-day')},${formatUnits(i, 2)},${formatUnits(2 * i, 2)},`);
      }
      const out = await FileWriter.create(join(dir, 'out.csv'));
      await rows.writeTo(out);
      await out.close();
      assert.deepEqual(readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n'), [...keys].sort(compareNatural).flatMap((k) => expected.get(k)!));
      assert.equal(rows.chunksByHelper, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('WindowRows: a helper thread started ahead (warmUp) for an output too small to need it is stopped, not left running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-spill-'));
  try {
    const rows = new WindowRows({ digits: 2, size: 30_000, slide: 10_000, timeKind: () => 'time-of-day' }, { threads: 2 });
    for (let i = 0; i < 100; i++) await rows.add('s_1', i * 10_000, i, i, '');
    rows.warmUp();
    const out = await FileWriter.create(join(dir, 'out.csv'));
    await rows.writeTo(out);
    await out.close();
    assert.equal(readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n').length, 100);
    assert.equal(rows.chunksByHelper, 0);
    // A thread left running would keep this test file's process alive: the runner would report it as never ending.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
