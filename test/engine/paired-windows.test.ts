import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatUnits } from '../../src/engine/decimal.ts';
import { PairedWindows, type PairedWindowResult } from '../../src/engine/paired-windows.ts';
import { hopping } from '../../src/engine/windows.ts';

const S = 1000;
const spec = hopping({ size: 30 * S, slide: 10 * S });

function operator(trimLeading = false, aggregates: ['mean' | 'max', 'mean' | 'max'] = ['mean', 'mean']) {
  return new PairedWindows({ window: spec, aggregates, digits: 2, trimLeading });
}

function rows(results: PairedWindowResult[]) {
  return results.map((r) => `${r.key} ${r.start / S}-${r.end / S} ${formatUnits(r.value0, 2)} ${formatUnits(r.value1, 2)} n=${r.count}`);
}

test('an event belongs to size/slide windows; each is emitted once when the watermark passes its end', () => {
  const op = operator();
  const out: PairedWindowResult[] = [];
  op.add('s1', 0, 25 * S, 10, 0);
  op.add('s1', 1, 25 * S, 20, 0);
  op.advanceTo(29_999, (r) => out.push({ ...r }));
  assert.equal(out.length, 0);
  op.advanceTo(30 * S, (r) => out.push({ ...r }));
  assert.deepEqual(rows(out), ['s1 0-30 10.0 20.0 n=1']);
  op.flush((r) => out.push({ ...r }));
  assert.deepEqual(rows(out), ['s1 0-30 10.0 20.0 n=1', 's1 10-40 10.0 20.0 n=1', 's1 20-50 10.0 20.0 n=1']);
});

test('inner join: an instant with one side only counts for neither; a window with no joined instant is not reported', () => {
  const op = operator();
  const out: PairedWindowResult[] = [];
  op.add('s1', 0, 5 * S, 10, 0); // cpu only
  op.add('s1', 0, 45 * S, 10, 0);
  op.add('s1', 1, 45 * S, 30, 0);
  op.add('s2', 1, 5 * S, 10, 0); // mem only, other key
  op.flush((r) => out.push({ ...r }));
  assert.deepEqual(rows(out), ['s1 20-50 10.0 30.0 n=1', 's1 30-60 10.0 30.0 n=1', 's1 40-70 10.0 30.0 n=1']);
});

test('a later record for the same (key, instant) replaces the earlier one', () => {
  const op = operator();
  const out: PairedWindowResult[] = [];
  op.add('s1', 0, 0, 10, 0);
  op.add('s1', 1, 0, 10, 0);
  op.add('s1', 0, 0, 50, 0);
  op.flush((r) => out.push({ ...r }));
  assert.equal(rows(out)[0], 's1 -20-10 50.0 10.0 n=1');
});

test('late records are counted, not aggregated; partly late ones update only the open windows', () => {
  const op = operator();
  const out: PairedWindowResult[] = [];
  op.add('s1', 0, 35 * S, 1, 0);
  op.add('s1', 1, 35 * S, 1, 0);
  op.advanceTo(40 * S, (r) => out.push({ ...r }));
  assert.equal(op.add('s1', 0, 5 * S, 9, 0), 1);
  assert.equal(op.lateCount, 1);
  // t=25: windows [0,30) and [10,40) are closed, [20,50) is open
  op.add('s1', 0, 25 * S, 3, 0);
  op.add('s1', 1, 25 * S, 3, 0);
  assert.equal(op.partlyLateCount, 2);
  op.flush((r) => out.push({ ...r }));
  assert.deepEqual(rows(out), ['s1 10-40 1.0 1.0 n=1', 's1 20-50 2.0 2.0 n=2', 's1 30-60 1.0 1.0 n=1']);
});

test('trim-leading drops the windows that start before the key\'s first joined instant floored to the slide', () => {
  const op = operator(true);
  const out: PairedWindowResult[] = [];
  for (const t of [0, 5, 10]) {
    op.add('s1', 0, (20 * 3600 + 53 * 60 + t) * S, 1, 0);
    op.add('s1', 1, (20 * 3600 + 53 * 60 + t) * S, 1, 0);
  }
  op.flush((r) => out.push({ ...r }));
  assert.deepEqual(out.map((r) => r.start / S - (20 * 3600 + 53 * 60)), [0, 10]);
});

test('max aggregates pick the largest exact value', () => {
  const op = operator(false, ['max', 'max']);
  const out: PairedWindowResult[] = [];
  op.add('s1', 0, 0, 4149795, 3);
  op.add('s1', 1, 0, 1, 0);
  op.add('s1', 0, 5 * S, 414979, 2);
  op.add('s1', 1, 5 * S, 2, 0);
  op.flush((r) => out.push({ ...r }));
  assert.equal(rows(out)[0], 's1 -20-10 4149.8 2.0 n=2');
});

test('state stays bounded by the open windows on an unbounded ordered input', () => {
  const op = operator();
  let emitted = 0;
  for (let t = 0; t < 100_000; t++) {
    for (const key of ['a', 'b', 'c']) {
      op.add(key, 0, t * 5 * S, t % 100, 0);
      op.add(key, 1, t * 5 * S, 1, 0);
    }
    op.advanceTo(t * 5 * S, () => emitted++);
  }
  assert.ok(op.openSlots <= 3 * 8, `open slots ${op.openSlots}`);
  assert.ok(emitted > 100_000);
});

test('snapshot and restore in the middle give the same results as one run', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 999 })), { minLength: 1, maxLength: 60 }), fc.nat(), (events, cutSeed) => {
    const cut = cutSeed % events.length;
    const run = (restoreAt: number) => {
      let op = operator(true);
      const out: string[] = [];
      events.forEach(([key, side, sec, v], i) => {
        if (i === restoreAt) {
          const saved = JSON.parse(JSON.stringify(op.snapshot()));
          op = operator(true);
          op.restore(saved);
        }
        op.add(key, side as 0 | 1, sec * S, v, 1);
        op.advanceTo((sec - 15) * S, (r) => out.push(rows([r])[0]!));
      });
      op.flush((r) => out.push(rows([r])[0]!));
      return out;
    };
    assert.deepEqual(run(cut), run(-1));
  }), { numRuns: 200 });
});
