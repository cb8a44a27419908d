// Exact decimal arithmetic for aggregates, without binary floating point.
//
// A decimal is an integer mantissa and a scale: value = units / 10^scale.
// The hot path keeps mantissas as JavaScript numbers while they are safe
// integers (|n| < 2^53) and falls back to bigint only when a value or a sum
// would leave that range, so results are always exact and the common case
// (metrics with two decimals) never allocates.

export type Units = number | bigint;

export interface Decimal {
  readonly units: Units;
  readonly scale: number;
}

const MAX_SCALE = 30;
const POW10: number[] = [];
for (let i = 0, p = 1; i <= 15; i++, p *= 10) POW10.push(p);
const POW10N: bigint[] = [];
for (let i = 0, p = 1n; i <= MAX_SCALE * 2 + 4; i++, p *= 10n) POW10N.push(p);

function pow10n(k: number): bigint {
  return POW10N[k] ?? 10n ** BigInt(k);
}

/** Parses a plain decimal (`12`, `-0.5`, `3.`, `.25`, `1e3`, `2.5E-2`); null when it is not one. */
export function parseDecimal(text: string): Decimal | null {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text);
  if (!match) return null;
  const [, sign, intDigits = '', fracDigits = '', expText] = match;
  if (intDigits.length === 0 && fracDigits.length === 0) return null;
  let digits = (intDigits + fracDigits).replace(/^0+(?=\d)/, '');
  let scale = fracDigits.length - (expText === undefined ? 0 : Number(expText));
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  if (scale > MAX_SCALE) {
    // Beyond 30 decimals nothing we print can change; keep it bounded.
    const drop = scale - MAX_SCALE;
    digits = digits.length > drop ? digits.slice(0, digits.length - drop) : '0';
    scale = MAX_SCALE;
  }
  const negative = sign === '-';
  if (digits.length <= 15) {
    const n = Number(digits);
    return { units: negative && n !== 0 ? -n : n, scale };
  }
  const big = BigInt(digits);
  return { units: negative ? -big : big, scale };
}

/** Same as parseDecimal but for the fields of a CSV line, without allocating a substring. */
export function parseDecimalAscii(line: string, start: number, end: number, out: MutableDecimal): boolean {
  let i = start;
  let negative = false;
  let c = line.charCodeAt(i);
  if (c === 45 /* - */ || c === 43 /* + */) {
    negative = c === 45;
    i++;
  }
  let units = 0;
  let digitCount = 0;
  let scale = 0;
  let seenDot = false;
  let significant = 0;
  for (; i < end; i++) {
    c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digitCount++;
      if (units !== 0 || c !== 48) significant++;
      if (significant > 15) return fallback(line, start, end, out);
      units = units * 10 + (c - 48);
      if (seenDot) scale++;
    } else if (c === 46 /* . */ && !seenDot) {
      seenDot = true;
    } else if (c === 101 || c === 69 /* e E */) {
      return fallback(line, start, end, out);
    } else {
      return false;
    }
  }
  if (digitCount === 0) return false;
  out.units = negative && units !== 0 ? -units : units;
  out.scale = scale;
  return true;
}

function fallback(line: string, start: number, end: number, out: MutableDecimal): boolean {
  const parsed = parseDecimal(line.slice(start, end));
  if (!parsed) return false;
  out.units = parsed.units;
  out.scale = parsed.scale;
  return true;
}

export interface MutableDecimal {
  units: Units;
  scale: number;
}

/** units * 10^k as an exact Units, leaving the number range when needed. */
export function rescale(units: Units, k: number): Units {
  if (k === 0) return units;
  if (typeof units === 'number' && k <= 15) {
    const scaled = units * POW10[k]!;
    if (Number.isSafeInteger(scaled)) return scaled;
  }
  return BigInt(units) * pow10n(k);
}

/** Compares a/10^sa with b/10^sb exactly: negative, zero or positive. */
export function compareDecimal(aUnits: Units, aScale: number, bUnits: Units, bScale: number): number {
  const common = Math.max(aScale, bScale);
  const a = rescale(aUnits, common - aScale);
  const b = rescale(bUnits, common - bScale);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * An exact running sum of decimals of any scales. The sum is kept at the
 * largest scale seen so far.
 */
export class DecimalSum {
  units: Units = 0;
  scale = 0;
  count = 0;

  reset(): void {
    this.units = 0;
    this.scale = 0;
    this.count = 0;
  }

  add(units: Units, scale: number): void {
    this.count++;
    if (scale > this.scale) {
      this.units = rescale(this.units, scale - this.scale);
      this.scale = scale;
    } else if (scale < this.scale) {
      units = rescale(units, this.scale - scale);
    }
    if (typeof this.units === 'number' && typeof units === 'number') {
      const sum = this.units + units;
      if (Number.isSafeInteger(sum)) {
        this.units = sum;
        return;
      }
    }
    this.units = BigInt(this.units) + BigInt(units);
  }

  /** The mean rounded half away from zero to `digits` decimals, as units at that scale. */
  meanUnits(digits: number): Units {
    return divideRounded(this.units, this.scale, this.count, digits);
  }
}

/**
 * numerator / denominator rounded half up, for non-negative safe integers
 * with numerator * 2 + denominator a safe integer too. The division in
 * doubles can be off by one; the remainder shows it and corrects it.
 */
export function roundedQuotient(numerator: number, denominator: number): number {
  let q = Math.floor(numerator / denominator);
  let remainder = numerator - q * denominator;
  if (remainder < 0) {
    q--;
    remainder += denominator;
  } else if (remainder >= denominator) {
    q++;
    remainder -= denominator;
  }
  return remainder * 2 >= denominator ? q + 1 : q;
}

/**
 * (units / 10^scale) / divisor, rounded half away from zero to `digits`
 * decimals, returned as units at scale `digits`.
 */
export function divideRounded(units: Units, scale: number, divisor: number, digits: number): Units {
  if (divisor <= 0) throw new RangeError('divisor must be positive');
  const negative = units < 0;
  let numerator: Units = negative ? -units : units;
  let denominator: Units = divisor;
  if (digits >= scale) numerator = rescale(numerator, digits - scale);
  else denominator = rescale(divisor, scale - digits);
  let quotient: Units;
  if (typeof numerator === 'number' && typeof denominator === 'number' && numerator * 2 + denominator <= Number.MAX_SAFE_INTEGER) {
    quotient = roundedQuotient(numerator, denominator);
  } else {
    const n = BigInt(numerator);
    const d = BigInt(denominator);
    const q = n / d;
    const remainder = n - q * d;
    const rounded = remainder * 2n >= d ? q + 1n : q;
    quotient = rounded <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rounded) : rounded;
  }
  if (!negative) return quotient;
  return typeof quotient === 'number' ? (quotient === 0 ? 0 : -quotient) : -quotient;
}

/** units/10^scale rounded half away from zero to `digits` decimals, as units at that scale. */
export function roundUnits(units: Units, scale: number, digits: number): Units {
  if (scale <= digits) return rescale(units, digits - scale);
  return divideRounded(units, scale, 1, digits);
}

/**
 * Shortest decimal text of units/10^scale with at least one fractional
 * digit: 45.32, 57.9, 60.0, 0.0.
 */
export function formatUnits(units: Units, scale: number): string {
  if (typeof units === 'number' && scale <= 15) {
    // Fast path without regular expressions: most values are small numbers.
    const magnitude = units < 0 ? -units : units;
    const pow = POW10[scale]!;
    const intPart = Math.floor(magnitude / pow);
    let frac = magnitude - intPart * pow;
    const sign = units < 0 ? '-' : '';
    if (frac === 0) return `${sign}${intPart}.0`;
    let width = scale;
    while (frac % 10 === 0) {
      frac /= 10;
      width--;
    }
    const fracText = String(frac);
    return `${sign}${intPart}.${fracText.length < width ? '0'.repeat(width - fracText.length) + fracText : fracText}`;
  }
  const negative = units < 0;
  const magnitude: Units = negative ? -units : units;
  let digits = magnitude.toString();
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const intPart = digits.slice(0, digits.length - scale);
  const frac = scale === 0 ? '0' : digits.slice(digits.length - scale).replace(/0+$/, '') || '0';
  const zero = /^0*$/.test(intPart) && frac === '0';
  return `${negative && !zero ? '-' : ''}${intPart}.${frac}`;
}

/** Decimal text of a Decimal, for messages and thresholds. */
export function formatDecimal(value: Decimal): string {
  return formatUnits(value.units, value.scale);
}
