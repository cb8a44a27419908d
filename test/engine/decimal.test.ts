import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecimalSum, compareDecimal, divideRounded, formatUnits, parseDecimal, parseDecimalAscii, roundUnits, type MutableDecimal } from '../../src/engine/decimal.ts';

function mean(values: string[], digits = 2): string {
  const sum = new DecimalSum();
  for (const v of values) {
    const d = parseDecimal(v)!;
    sum.add(d.units, d.scale);
  }
  return formatUnits(sum.meanUnits(digits), digits);
}

test('the mean of 10.005 and 10.005 is 10.01 (half up, exact, not binary floating point)', () => {
  assert.equal(mean(['10.005', '10.005']), '10.01');
  assert.equal(mean(['0.005']), '0.01');
  assert.equal(mean(['0.004']), '0.0');
  assert.equal(mean(['1.115']), '1.12'); // 1.115 in binary is 1.11499999...
  assert.equal(mean(['1', '2']), '1.5');
  assert.equal(mean(['60', '60']), '60.0');
  assert.equal(mean(['10', '10', '10.01']), '10.0'); // 10.00333..
  assert.equal(mean(['10', '10.01', '10.01']), '10.01'); // 10.00666..
});

test('half away from zero for negative values', () => {
  assert.equal(formatUnits(divideRounded(-1005, 3, 1, 2), 2), '-1.01');
  assert.equal(formatUnits(divideRounded(-4, 3, 1, 2), 2), '0.0');
});

test('numbers print as the shortest decimal with at least one fractional digit', () => {
  assert.equal(formatUnits(4532, 2), '45.32');
  assert.equal(formatUnits(5790, 2), '57.9');
  assert.equal(formatUnits(6000, 2), '60.0');
  assert.equal(formatUnits(0, 2), '0.0');
  assert.equal(formatUnits(5, 2), '0.05');
  assert.equal(formatUnits(123456, 3), '123.456');
  assert.equal(formatUnits(7, 0), '7.0');
});

test('parse accepts plain decimals and exponents, rejects the rest', () => {
  assert.deepEqual(parseDecimal('34.74'), { units: 3474, scale: 2 });
  assert.deepEqual(parseDecimal('-0.5'), { units: -5, scale: 1 });
  assert.deepEqual(parseDecimal('1e3'), { units: 1000, scale: 0 });
  assert.deepEqual(parseDecimal('2.5E-2'), { units: 25, scale: 3 });
  for (const bad of ['', '-', '.', 'abc', 'NaN', 'Infinity', '1.2.3', '0x10', ' 1']) assert.equal(parseDecimal(bad), null, bad);
  const out: MutableDecimal = { units: 0, scale: 0 };
  assert.equal(parseDecimalAscii('x,12.50,y', 2, 7, out), true);
  assert.deepEqual(out, { units: 1250, scale: 2 });
  assert.equal(parseDecimalAscii('1e2', 0, 3, out), true);
  assert.deepEqual(out, { units: 100, scale: 0 });
  assert.equal(parseDecimalAscii('12a', 0, 3, out), false);
});

test('huge mantissas switch to bigint and stay exact', () => {
  const d = parseDecimal('123456789012345678901234.5')!;
  assert.equal(typeof d.units, 'bigint');
  const sum = new DecimalSum();
  sum.add(d.units, d.scale);
  sum.add(9007199254740991, 0);
  assert.equal(formatUnits(sum.meanUnits(2), 2), '61728399009772466821112.75');
  assert.equal(compareDecimal(d.units, d.scale, 1, 0) > 0, true);
});

test('property: mean and rounding agree with a BigInt rational reference', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 12 }), (values) => {
    const sum = new DecimalSum();
    let num = 0n;
    const den = 10n ** 4n * BigInt(values.length);
    for (const [units, scale] of values) {
      sum.add(units, scale);
      num += BigInt(units) * 10n ** BigInt(4 - scale);
    }
    // reference: round(num/den, 2) half up
    const scaled = num * 100n;
    let q = scaled / den;
    if ((scaled - q * den) * 2n >= den) q += 1n;
    assert.equal(String(sum.meanUnits(2)), String(q));
  }), { numRuns: 300 });
});

test('roundUnits rounds maxima half up to the digits asked', () => {
  assert.equal(formatUnits(roundUnits(4149795, 3, 2), 2), '4149.8');
  assert.equal(formatUnits(roundUnits(41497949, 4, 2), 2), '4149.79');
  assert.equal(formatUnits(roundUnits(5, 0, 2), 2), '5.0');
});
