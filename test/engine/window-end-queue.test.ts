// The queue of keys by the end of their next window: keys come out by end,
// each once per queued end, never after being re-queued for a later end;
// drained buckets are reused, and a reused bucket never brings back the keys
// it held before. Checked against a plain model on random operations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WindowEndQueue } from '../../src/engine/window-end-queue.ts';

interface Key {
  name: number;
  nextEnd: number;
}

type Op = { schedule: [key: number, end: number] } | { drain: number };

test('WindowEndQueue hands out keys by end, once each, as a model queue does', () => {
  const op = fc.oneof(
    fc.record({ schedule: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 30 })) }),
    fc.record({ drain: fc.integer({ min: 0, max: 32 }) }),
  ) as fc.Arbitrary<Op>;
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const queue = new WindowEndQueue<Key>();
      const keys = Array.from({ length: 8 }, (_, name) => ({ name, nextEnd: Number.NaN }));
      // The model: each key's queued end (NaN: none).
      const model = new Map<number, number>();
      let watermark = 0;
      for (const o of ops) {
        if ('schedule' in o) {
          const [name, offset] = o.schedule;
          const end = watermark + offset;
          queue.schedule(keys[name]!, end);
          const queued = model.get(name);
          if (queued === undefined || end < queued) model.set(name, end);
        } else {
          watermark += o.drain;
          const got: Array<[number, number]> = [];
          queue.drainUpTo(watermark, (key, end) => got.push([end, key.name]));
          const expected = [...model].filter(([, end]) => end <= watermark).map(([name, end]): [number, number] => [end, name]);
          for (const [, name] of expected) model.delete(name);
          // By end; within one end, in the order queued (compared as sets per end).
          const byEnd = (list: Array<[number, number]>) => list.map(([end, name]) => `${end}:${name}`).sort();
          assert.deepEqual(byEnd(got), byEnd(expected));
          for (let i = 1; i < got.length; i++) assert.ok(got[i - 1]![0] <= got[i]![0], 'ends in order');
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('WindowEndQueue: a key closed at one end may queue itself for the next (the windows of a job)', () => {
  const queue = new WindowEndQueue<Key>();
  const keys = Array.from({ length: 1000 }, (_, name) => ({ name, nextEnd: Number.NaN }));
  for (const key of keys) queue.schedule(key, 10);
  const closed: number[] = [];
  for (let watermark = 10; watermark <= 100; watermark += 10) {
    queue.drainUpTo(watermark, (key, end) => {
      closed.push(end);
      if (end < 100) queue.schedule(key, end + 10);
    });
  }
  assert.equal(closed.length, 10_000);
  for (let i = 0; i < 10; i++) assert.ok(closed.slice(i * 1000, i * 1000 + 1000).every((end) => end === (i + 1) * 10));
  assert.ok(keys.every((key) => Number.isNaN(key.nextEnd)));
});
