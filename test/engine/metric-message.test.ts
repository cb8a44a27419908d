// Metric messages: the character scanner (plain messages) and the JSON path
// give the same result on any input, reject reasons and day rollover
// included. Generated messages mix the plain shape with everything that must
// leave it: escapes, exponents, signs, trailing zeros, long numbers, strings
// for numbers, duplicate and missing keys, nested values, whitespace, cuts
// and stray characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMetricMessage, parseMetricMessageJson, parsePlainMessage } from '../../src/engine/metric-message.ts';
import type { MetricField } from '../../src/engine/metric-record.ts';
import { DayRollover } from '../../src/engine/time.ts';

const FIELD_SETS: MetricField[][] = [['cpu_pct'], ['mem_pct'], ['net_in', 'net_out'], ['disk_io']];

const two = (n: number) => String(n).padStart(2, '0');

const time = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })).map(([h, m, s]) => `"${two(h)}:${two(m)}:${two(s)}"`) },
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `"${h}:${two(m)}:00"`),
  fc.constantFrom('"2022-08-03T06:51:40Z"', '"2022-08-03 06:51:40+02:00"', '"1700000000"', '"1700000000.25"', '1700000000', '1.7e9', '""', '"24:00:00"', '"12:60:00"', '"20:53:0"', '"20\\u003a53:00"', 'null', '"2022-02-30T00:00:00Z"', '" 20:53:00"'),
);

const serverId = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }).map((i) => `"server_${i}"`) },
  fc.constantFrom('"s.1:a-B"', '""', '"a b"', `"${'x'.repeat(129)}"`, `"${'x'.repeat(128)}"`, '"é"', '"server\\u005f1"', '5', 'null', 'true', '"tab\there"', '"\\""'),
);

/** Plain decimals with optional trailing zeros, and every other number form. */
const plainDecimal = fc
  .tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 }))
  .map(([units, scale, trailing]) => {
    const text = scale === 0 ? String(units) : `${Math.floor(units / 10 ** scale)}.${String(units % 10 ** scale).padStart(scale, '0')}`;
    return trailing > 0 ? `${text}${text.includes('.') ? '' : '.'}${'0'.repeat(trailing)}` : text;
  });
const number = fc.oneof(
  { weight: 8, arbitrary: plainDecimal },
  fc.constantFrom('0', '0.0', '100', '100.00', '100.01', '-0', '-5.5', '1e3', '1E-2', '2.5e+1', '0.000001', '0.0000001', '0.00000100', '1e400', '123456789012345', '1234567890123456', '12345678901234.5', '1234567890123.456', '0.123456789012345', '0.1234567890123456', '00', '01', '1.', '.5', '+1', '-', '1e', '0x10', 'NaN', 'Infinity'),
  fc.constantFrom('"34.5"', '" 34.5 "', '"nan"', '"-inf"', '"abc"', '"1e3"', 'null', 'true', 'false', '{}', '[1]', '{"a":[1,{"b":null}]}'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);

const extraValue = fc.oneof(number, serverId, time, fc.constantFrom('[]', '[1,"x",{"y":false}]', '{"ts":"01:00:00"}', '"\\n"', '"\\ud800"'));

interface Entry {
  key: string;
  value: string;
}

const message = fc
  .record({
    fields: fc.constantFrom(...FIELD_SETS),
    ts: fc.option(time, { freq: 12 }),
    id: fc.option(serverId, { freq: 12 }),
    values: fc.array(fc.option(number, { freq: 12 }), { minLength: 2, maxLength: 2 }),
    extras: fc.array(fc.record({ key: fc.constantFrom('"timestamp"', '"other"', '"cpu_pct"', '"mem_pct"', '"net_in"', '"ts"', '"server_id"', '"t\\u0073"', '"__proto__"', '""'), value: extraValue }), { maxLength: 3 }),
    order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    space: fc.constantFrom('', '', '', ' ', '\n\t', '\r '),
    damage: fc.option(fc.tuple(fc.nat(), fc.constantFrom('', '"', ',', '}', '\\', ':', 'x', '\u0001', ' ')), { freq: 6 }),
  })
  .map(({ fields, ts, id, values, extras, order, space, damage }) => {
    const entries: Entry[] = [];
    if (ts !== null) entries.push({ key: '"ts"', value: ts });
    if (id !== null) entries.push({ key: '"server_id"', value: id });
    fields.forEach((field, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) entries.push({ key: `"${field}"`, value });
    });
    entries.push(...extras);
    // Mostly in the producer's order; sometimes shuffled.
    if (order[0]! % 4 === 0) entries.sort((a, b) => (order[entries.indexOf(a) % 8]! - order[entries.indexOf(b) % 8]!));
    let text = `${space}{${space}${entries.map((e) => `${e.key}${space}:${space}${e.value}`).join(`${space},${space}`)}${space}}${space}`;
    if (damage !== null) {
      const [at, insert] = damage;
      const cut = at % (text.length + 1);
      text = insert === '' ? text.slice(0, cut) : text.slice(0, cut) + insert + text.slice(cut);
    }
    return { fields, text };
  });

test('scanner and JSON path agree on any message, in sequence (day rollover)', () => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
      const scanned = new Map<string, DayRollover>();
      const parsed = new Map<string, DayRollover>();
      for (const { fields, text } of messages) {
        const key = fields.join();
        if (!scanned.has(key)) {
          scanned.set(key, new DayRollover());
          parsed.set(key, new DayRollover());
        }
        const expected = parseMetricMessageJson(text, fields, parsed.get(key)!);
        assert.deepEqual(parseMetricMessage(text, fields, scanned.get(key)!), expected, text);
        assert.equal(scanned.get(key)!.snapshot(), parsed.get(key)!.snapshot());
      }
    }),
    { numRuns: 3000 },
  );
});

test('the producer\'s messages take the scanner path', () => {
  const plain: Array<[string, MetricField[]]> = [
    ['{"ts":"20:53:00","server_id":"server_1","cpu_pct":34.74}', ['cpu_pct']],
    ['{"ts":"20:53:00","server_id":"server_1","mem_pct":46.40}', ['mem_pct']],
    ['{"ts":"20:53:00","server_id":"server_1","net_in":359.45,"net_out":489.36}', ['net_in', 'net_out']],
    ['{"ts":"2022-08-03T06:51:40Z","server_id":"s.1:a","disk_io":7.0}', ['disk_io']],
    ['{"ts":"1700000000","server_id":"s","cpu_pct":100,"extra":"x","n":-1.5e3,"b":true}', ['cpu_pct']],
  ];
  for (const [text, fields] of plain) {
    const result = parsePlainMessage(text, fields, new DayRollover());
    assert.ok(result?.ok, text);
    assert.deepEqual(result, parseMetricMessageJson(text, fields, new DayRollover()));
  }
  // Out-of-range values are rejected on the scanner path with the JSON path's reason.
  assert.deepEqual(parsePlainMessage('{"ts":"20:53:00","server_id":"server_1","cpu_pct":100.5}', ['cpu_pct'], new DayRollover()), { ok: false, reason: 'cpu_pct is above 100' });
  assert.deepEqual(parseMetricMessage('{"ts":"20:53:00","server_id":"server_1","cpu_pct":-1}', ['cpu_pct'], new DayRollover()), { ok: false, reason: 'cpu_pct is negative' });
});
