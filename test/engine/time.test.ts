import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DayRollover, formatIso, formatTimeOfDay, parseTime, parseTimeOfDay } from '../../src/engine/time.ts';

test('times of day, ISO instants and epoch seconds parse; garbage does not', () => {
  assert.equal(parseTimeOfDay('20:53:00'), (20 * 3600 + 53 * 60) * 1000);
  assert.equal(parseTimeOfDay('7:05:09'), (7 * 3600 + 5 * 60 + 9) * 1000);
  assert.deepEqual(parseTime('2022-08-03T06:51:40Z'), { kind: 'absolute', ms: Date.UTC(2022, 7, 3, 6, 51, 40) });
  assert.deepEqual(parseTime('2022-08-03T08:51:40.5+02:00'), { kind: 'absolute', ms: Date.UTC(2022, 7, 3, 6, 51, 40, 500) });
  assert.deepEqual(parseTime('1659509500'), { kind: 'absolute', ms: 1659509500000 });
  assert.equal(parseTime('1659509511.865323')!.ms, 1659509511865.323);
  for (const bad of ['24:00:00', '12:60:00', '12:00:61', '2022-08-03T06:51:40', '2022-02-30T00:00:00Z', 'soon', '', '-5', '12:00']) {
    assert.equal(parseTime(bad), null, bad);
  }
});

test('midnight rollover: a time more than 12 h earlier than the latest is on the next day', () => {
  const r = new DayRollover();
  const at = (t: string) => r.place(parseTimeOfDay(t));
  assert.equal(at('23:59:50'), parseTimeOfDay('23:59:50'));
  assert.equal(at('00:00:10'), 86_400_000 + 10_000);
  // a slightly late row from before midnight stays on the first day
  assert.equal(at('23:59:55'), parseTimeOfDay('23:59:55'));
  assert.equal(at('00:00:20'), 86_400_000 + 20_000);
  // exactly 12 h earlier is not more than 12 h: same day
  const r2 = new DayRollover();
  r2.place(parseTimeOfDay('20:00:00'));
  assert.equal(r2.place(parseTimeOfDay('08:00:00')), parseTimeOfDay('08:00:00'));
  assert.equal(r2.place(parseTimeOfDay('07:59:59')), 86_400_000 + parseTimeOfDay('07:59:59'));
});

test('midnight rollover: the same as its rule written out, across days; a rollover restored from a snapshot goes on the same', () => {
  const DAY = 86_400_000;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: DAY - 1 }), { minLength: 1, maxLength: 60 }), fc.nat(60), (times, cut) => {
      const r = new DayRollover();
      let latest = Number.NEGATIVE_INFINITY;
      let restored: DayRollover | null = null;
      times.forEach((ms, i) => {
        // The rule: of the candidate days, the instant closest to the latest one (12 h either way).
        let expected = ms;
        if (latest !== Number.NEGATIVE_INFINITY) {
          expected = Math.floor(latest / DAY) * DAY + ms;
          if (expected < latest - DAY / 2) expected += DAY;
          else if (expected > latest + DAY / 2) expected -= DAY;
        }
        if (i === cut) {
          restored = new DayRollover();
          restored.restore(JSON.parse(JSON.stringify(r.snapshot())) as number | null);
        }
        assert.equal(r.place(ms), expected);
        if (restored) assert.equal(restored.place(ms), expected);
        latest = Math.max(latest, expected);
      });
    }),
    { numRuns: 500 },
  );
});

test('formatting', () => {
  assert.equal(formatTimeOfDay(86_400_000 + 10_000), '00:00:10');
  assert.equal(formatTimeOfDay(-10_000), '23:59:50');
  assert.equal(formatIso(Date.UTC(2022, 7, 3, 6, 51, 40)), '2022-08-03T06:51:40.000Z');
});
