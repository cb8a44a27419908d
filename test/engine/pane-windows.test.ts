import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatUnits } from '../../src/engine/decimal.ts';
import { PaneWindows, type PaneAggregate, type PaneWindowResult } from '../../src/engine/pane-windows.ts';
import { hopping, tumbling, type WindowSpec } from '../../src/engine/windows.ts';

const S = 1000;
const burst = hopping({ size: 20 * S, slide: 1 * S });

function rows(results: PaneWindowResult[], digits = 0) {
  return results.map((r) => `${r.key} ${r.start / S}-${r.end / S} n=${r.count} v=${digits > 0 ? formatUnits(r.value, digits) : String(r.value)}`);
}

test('an event counts in size/slide windows, each emitted once when the watermark reaches its end', () => {
  const op = new PaneWindows({ window: hopping({ size: 3 * S, slide: S }), aggregate: 'count', digits: 0 });
  const out: PaneWindowResult[] = [];
  assert.equal(op.add('a', 5500), 0);
  op.advanceTo(5999, (r) => out.push(r));
  assert.equal(out.length, 0);
  op.advanceTo(6000, (r) => out.push(r));
  assert.deepEqual(rows(out), ['a 3-6 n=1 v=1']);
  op.advanceTo(6000, (r) => out.push(r));
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out), ['a 3-6 n=1 v=1', 'a 4-7 n=1 v=1', 'a 5-8 n=1 v=1']);
  assert.equal(op.keyCount, 0, 'a key with no pane left is forgotten');
});

test('no de-duplication: two events at the same instant both count; windows without events are skipped', () => {
  const op = new PaneWindows({ window: tumbling(10 * S), aggregate: 'count', digits: 0 });
  const out: PaneWindowResult[] = [];
  op.add('a', 1000);
  op.add('a', 1000);
  op.add('a', 45_000);
  op.add('b', 9999);
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out), ['a 0-10 n=2 v=2', 'b 0-10 n=1 v=1', 'a 40-50 n=1 v=1']);
});

test('window edges: an event at w+S belongs to the next window, not to [w, w+S)', () => {
  const op = new PaneWindows({ window: tumbling(60 * S), aggregate: 'count', digits: 0 });
  const out: PaneWindowResult[] = [];
  op.add('k', 59_999);
  op.add('k', 60_000);
  op.add('k', 0);
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out), ['k 0-60 n=2 v=2', 'k 60-120 n=1 v=1']);
});

test('mean is exact decimal, half away from zero: 0.0005 and 0.001 average to 0.001 (0.00075 rounds up)', () => {
  const op = new PaneWindows({ window: tumbling(60 * S), aggregate: 'mean', digits: 3 });
  const out: PaneWindowResult[] = [];
  op.add('h', 1000, 5, 4); // 0.0005
  op.add('h', 2000, 1, 3); // 0.001
  op.add('g', 1000, 1, 4); // 0.0001, then 0.0004: mean 0.00025 → 0.0
  op.add('g', 1000, 4, 4);
  op.add('f', 1000, 10005, 3); // 10.005 twice → 10.005
  op.add('f', 1000, 10005, 3);
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out, 3).sort(), ['f 0-60 n=2 v=10.005', 'g 0-60 n=2 v=0.0', 'h 0-60 n=2 v=0.001']);
});

test('mean falls back to exact arithmetic for values with many decimals or huge magnitudes', () => {
  const op = new PaneWindows({ window: tumbling(S), aggregate: 'mean', digits: 1 });
  const out: PaneWindowResult[] = [];
  op.add('x', 0, 123456789n * 10n ** 9n, 12); // 123456.789 with 12 decimals
  op.add('x', 0, 1, 0);
  op.add('y', 0, 2 ** 52, 0);
  op.add('y', 0, 2 ** 52, 0);
  op.add('y', 0, 1, 0);
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out, 1), ['x 0-1 n=2 v=61728.9', 'y 0-1 n=3 v=3002399751580331.0']);
});

test('categories are counted apart and summed over the panes of a window', () => {
  const op = new PaneWindows({ window: hopping({ size: 2 * S, slide: S }), aggregate: 'count', digits: 0, categories: 3 });
  const out: PaneWindowResult[] = [];
  op.add('', 100, 0, 0, 0);
  op.add('', 1100, 0, 0, 2);
  op.add('', 1200, 0, 0, 2);
  op.add('', 1300, 0, 0, -1);
  op.flush((r) => out.push(r));
  assert.deepEqual(out.map((r) => `${r.start}:${r.categories.join('/')}:${r.count}`), ['-1000:1/0/0:1', '0:1/0/2:4', '1000:0/0/2:3']);
});

test('late and partly late events: a late one is counted and left out; a partly late one joins the open windows only', () => {
  const op = new PaneWindows({ window: hopping({ size: 3 * S, slide: S }), aggregate: 'count', digits: 0 });
  const out: PaneWindowResult[] = [];
  op.add('a', 10_000);
  op.advanceTo(12_000, (r) => out.push(r));
  assert.equal(op.add('a', 9000), 1, 'all windows of t=9 s end by 12 s');
  assert.equal(op.lateCount, 1);
  assert.equal(op.add('a', 10_500), 0);
  assert.equal(op.partlyLateCount, 1);
  op.flush((r) => out.push(r));
  assert.deepEqual(rows(out), ['a 8-11 n=1 v=1', 'a 9-12 n=1 v=1', 'a 10-13 n=2 v=2']);
});

test('state is bounded by the open windows: panes behind every window are dropped, idle keys forgotten', () => {
  const op = new PaneWindows({ window: burst, aggregate: 'count', digits: 0 });
  let emitted = 0;
  for (let second = 0; second < 1000; second++) {
    for (let k = 0; k < 50; k++) op.add(`ip${k}`, second * S + k);
    op.advanceTo(second * S - 10 * S, () => emitted++);
    assert.ok(op.openPanes <= 50 * 31, `panes ${op.openPanes} at ${second}`);
  }
  op.flush(() => emitted++);
  assert.equal(emitted, 50 * (1000 + 19));
  assert.equal(op.keyCount, 0);
  assert.equal(op.openPanes, 0);
});

test('advancing the watermark touches only keys with a window to close', () => {
  // 100,000 keys with one event each, one second apart in groups: each step closes few windows.
  const op = new PaneWindows({ window: burst, aggregate: 'count', digits: 0 });
  for (let i = 0; i < 100_000; i++) op.add(`10.0.${i >> 8}.${i & 255}`, Math.floor(i / 100) * S);
  let emitted = 0;
  const started = performance.now();
  for (let w = 0; w <= 1020 * S; w += 100) op.advanceTo(w, () => emitted++);
  const elapsed = performance.now() - started;
  assert.equal(emitted, 100_000 * 20);
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
});

test('minCount: quiet windows of sparse keys are skipped, not visited one by one, even with minutes of allowed lateness', () => {
  const op = new PaneWindows({ window: burst, aggregate: 'count', digits: 0, minCount: 11 });
  const emitted: PaneWindowResult[] = [];
  // 3,000 keys, each seen every 15 s for an hour; one key bursts 11 times at 1800 s.
  let events = 0;
  for (let second = 0; second < 3600; second++) {
    for (let k = second % 15; k < 3000; k += 15) {
      op.add(`k${k}`, second * S + 500);
      events++;
    }
    if (second === 1800) for (let i = 0; i < 11; i++) op.add('k7', second * S + i);
    op.advanceTo((second - 600) * S, (r) => emitted.push(r));
  }
  op.flush((r) => emitted.push(r));
  // k7 is also seen at 1792.5 s and 1807.5 s: windows from 1788 s to 1792 s hold both.
  const expected = Array.from({ length: 20 }, (_, i) => {
    const w = 1781 + i;
    const n = 11 + (w <= 1792 ? 1 : 0) + (w + 20 > 1807 ? 1 : 0);
    return `k7 ${w}-${w + 20} n=${n} v=${n}`;
  });
  assert.deepEqual(rows(emitted), expected);
  assert.ok(op.windowsVisited < events / 4, `visited ${op.windowsVisited} windows for ${events} events`);
});

test('snapshot and restore (through JSON) mid-stream gives the same windows as a straight run', () => {
  const spec = hopping({ size: 4 * S, slide: S });
  const events: Array<[string, number, number]> = [];
  for (let i = 0; i < 300; i++) events.push([`k${i % 7}`, (i * 137) % 20_000, (i * 31) % 1000]);
  const run = (cut: number | null) => {
    let op = new PaneWindows({ window: spec, aggregate: 'mean', digits: 2, categories: 2 });
    const out: string[] = [];
    const emit = (r: PaneWindowResult) => out.push(`${r.key} ${r.start} ${r.count} ${formatUnits(r.value, 2)} ${r.categories.join('/')}`);
    for (const [i, [key, t, v]] of events.entries()) {
      if (i === cut) {
        const saved = JSON.parse(JSON.stringify(op.snapshot()));
        op = new PaneWindows({ window: spec, aggregate: 'mean', digits: 2, categories: 2 });
        op.restore(saved);
      }
      op.add(key, t, v, 1, v % 2);
      if (i % 10 === 9) op.advanceTo(t - 8000, emit);
    }
    op.flush(emit);
    return { out, late: op.lateCount };
  };
  const straight = run(null);
  for (const cut of [0, 1, 57, 150, 299]) assert.deepEqual(run(cut), straight, `cut at ${cut}`);
});

// ---- property: the pane operator equals a naive per-window recomputation ----

interface Step { kind: 'add'; key: string; t: number; units: bigint; scale: number }
interface Advance { kind: 'advance'; to: number }

const SCALE = 8;

/** Naive model: every event remembers which windows were still open when it arrived. */
function naive(spec: WindowSpec, aggregate: PaneAggregate, digits: number, steps: Array<Step | Advance>, minCount: number) {
  let watermark = Number.NEGATIVE_INFINITY;
  const windows = new Map<string, { key: string; start: number; count: number; sum: bigint }>();
  let late = 0;
  const marks: number[] = [];
  for (const step of steps) {
    if (step.kind === 'advance') {
      if (step.to > watermark) watermark = step.to;
      marks.push(watermark);
      continue;
    }
    const latestStart = Math.floor(step.t / spec.slide) * spec.slide;
    if (latestStart + spec.size <= watermark) {
      late++;
      continue;
    }
    for (let w = latestStart; w > step.t - spec.size; w -= spec.slide) {
      if (w + spec.size <= watermark) continue;
      const id = `${step.key}@${w}`;
      const window = windows.get(id) ?? { key: step.key, start: w, count: 0, sum: 0n };
      window.count++;
      window.sum += step.units * 10n ** BigInt(SCALE - step.scale);
      windows.set(id, window);
    }
  }
  marks.push(Number.POSITIVE_INFINITY);
  const results: string[] = [];
  for (const w of windows.values()) {
    if (w.count < minCount) continue;
    let value: string;
    if (aggregate === 'count') value = String(w.count);
    else {
      const divisor = BigInt(w.count) * 10n ** BigInt(SCALE - digits);
      const q = w.sum / divisor;
      const rounded = (w.sum - q * divisor) * 2n >= divisor ? q + 1n : q;
      value = formatUnits(rounded, digits);
    }
    const epoch = marks.findIndex((m) => m >= w.start + spec.size);
    results.push(`${epoch} ${w.key} ${w.start} ${w.count} ${value}`);
  }
  return { results: results.sort(), late };
}

const stepArb: fc.Arbitrary<Step | Advance> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      key: fc.constantFrom('a', 'b', 'c', '10.0.0.1'),
      t: fc.integer({ min: -5000, max: 60_000 }),
      units: fc.oneof(fc.bigInt({ min: 0n, max: 100_000n }), fc.bigInt({ min: 0n, max: 10n ** 20n })),
      scale: fc.integer({ min: 0, max: SCALE }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), to: fc.integer({ min: -5000, max: 70_000 }) }) },
);

test('property: windows (at least minCount events), counts, exact means, emission times and late counts equal a naive recomputation', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<[number, number]>([20, 1], [30, 1], [6, 2], [5, 5], [1, 1]),
      fc.constantFrom<PaneAggregate>('count', 'mean'),
      fc.integer({ min: 0, max: 3 }),
      fc.array(stepArb, { maxLength: 150 }),
      fc.constantFrom(1, 1, 2, 3),
      ([size, slide], aggregate, digits, steps, minCount) => {
        const spec = hopping({ size: size * 1000, slide: slide * 1000 });
        const op = new PaneWindows({ window: spec, aggregate, digits, minCount });
        const got: string[] = [];
        let epoch = 0;
        const seen = new Set<string>();
        const emit = (r: PaneWindowResult) => {
          const id = `${r.key}@${r.start}`;
          assert.ok(!seen.has(id), `window ${id} emitted twice`);
          seen.add(id);
          assert.equal(r.end - r.start, spec.size);
          got.push(`${epoch} ${r.key} ${r.start} ${r.count} ${aggregate === 'count' ? String(r.value) : formatUnits(r.value, digits)}`);
        };
        for (const step of steps) {
          if (step.kind === 'advance') {
            op.advanceTo(step.to, emit);
            epoch++;
          } else {
            const small = step.units <= BigInt(Number.MAX_SAFE_INTEGER);
            op.add(step.key, step.t, small ? Number(step.units) : step.units, step.scale);
          }
        }
        op.flush(emit);
        const expected = naive(spec, aggregate, digits, steps, minCount);
        assert.deepEqual(got.sort(), expected.results);
        assert.equal(op.lateCount, expected.late);
        assert.equal(op.keyCount, 0);
      },
    ),
    { numRuns: 400 },
  );
});
