// WindowRows prints values itself (digits written into the output buffer):
// every value must come out as formatUnits prints it, for any number of
// decimals, small or large, whole or not, negative, or a bigint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { formatUnits } from '../../../src/engine/decimal.ts';
import { FileWriter } from '../../../src/io/csv/file-writer.ts';
import { WindowRows } from '../../../src/io/csv/window-rows.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

const units = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.integer({ min: 0, max: 2 ** 31 + 1000 }),
  fc.constantFrom(0, 1, 9, 10, 99, 100, 101, 1000, 10_000, 2 ** 31 - 1, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: -1_000_000, max: -1 }),
  fc.bigInt({ min: 2n ** 60n, max: 2n ** 70n }),
);

test('WindowRows prints every value as formatUnits does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamwatch-window-rows-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 8 }), fc.array(fc.tuple(units, units), { minLength: 1, maxLength: 30 }), async (digits, values) => {
      const rows = new WindowRows({ digits, size: 1000, slide: 1000, timeKind: () => 'absolute' }, { blockRows: 7 });
      for (const [i, [a, b]] of values.entries()) await rows.add('k', i * 1000, a, b, i % 2 === 0 ? '' : 'alert');
      const out = await FileWriter.create(join(dir, 'out.csv'));
      await rows.writeTo(out);
      await out.close();
      const expected = values.map(([a, b], i) => `k,${iso(i * 1000)},${iso(i * 1000 + 1000)},${formatUnits(a, digits)},${formatUnits(b, digits)},${i % 2 === 0 ? '' : 'alert'}`);
      assert.deepEqual(readFileSync(join(dir, 'out.csv'), 'latin1').trimEnd().split('\n'), expected);
    }),
    { numRuns: 150 },
  );
});
