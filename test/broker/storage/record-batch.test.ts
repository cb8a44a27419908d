import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateBatches, scanBatches } from '../../../src/broker/storage/record-batch.ts';
import { buildBatch } from './helpers.ts';

const batchArbitrary = fc
  .array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 20 })
  .map((values) => buildBatch(values.map((v) => ({ value: Buffer.from(v) }))));

test('a blob of batches cut anywhere but a batch boundary is rejected, never thrown on', () => {
  fc.assert(
    fc.property(fc.array(batchArbitrary, { minLength: 1, maxLength: 4 }), fc.nat(), (batches, cutSeed) => {
      const blob = Buffer.concat(batches);
      const boundaries = new Set<number>();
      let at = 0;
      for (const b of batches) boundaries.add((at += b.length));
      const cut = cutSeed % (blob.length + 1);
      const result = validateBatches(blob.subarray(0, cut));
      if (boundaries.has(cut)) {
        assert.equal(result.errorCode, 0);
        assert.equal(result.batches!.length, [...boundaries].filter((b) => b <= cut).length);
      } else {
        assert.notEqual(result.errorCode, 0);
      }
      // The recovery scanner agrees: it stops at the last whole batch.
      const scan = scanBatches(blob, 0, cut, true, 0);
      const lastBoundary = Math.max(0, ...[...boundaries].filter((b) => b <= cut));
      // Offsets in built batches all start at 0, so only the first batch is contiguous for the scanner.
      assert.ok(scan.validEnd <= lastBoundary);
    }),
    { numRuns: 300 },
  );
});

test('any flipped bit from the magic byte on is detected', () => {
  fc.assert(
    fc.property(batchArbitrary, fc.nat(), fc.integer({ min: 0, max: 7 }), (batch, position, bit) => {
      const damaged = Buffer.from(batch);
      const at = 16 + (position % (batch.length - 16));
      damaged[at]! ^= 1 << bit;
      assert.notEqual(validateBatches(damaged).errorCode, 0, `flip at ${at}`);
    }),
    { numRuns: 500 },
  );
});
