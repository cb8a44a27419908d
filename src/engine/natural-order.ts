// Natural order of keys (SEMANTICS.md section 3): compare the text before a
// trailing number, then the number, so server_2 sorts before server_10.

const TRAILING_DIGITS = /\d+$/;

interface NaturalKey {
  prefix: string;
  /** Trailing number as digits without leading zeros; '' when the key has none. */
  digits: string;
}

const cache = new Map<string, NaturalKey>();

function naturalKey(text: string): NaturalKey {
  let key = cache.get(text);
  if (key === undefined) {
    const match = TRAILING_DIGITS.exec(text);
    const prefix = match ? text.slice(0, match.index) : text;
    const digits = match ? match[0].replace(/^0+(?=\d)/, '') : '';
    key = { prefix, digits };
    if (cache.size > 100_000) cache.clear();
    cache.set(text, key);
  }
  return key;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareNatural(a: string, b: string): number {
  if (a === b) return 0;
  const ka = naturalKey(a);
  const kb = naturalKey(b);
  const byPrefix = compareText(ka.prefix, kb.prefix);
  if (byPrefix !== 0) return byPrefix;
  // A key without a trailing number sorts before one with a number.
  if (ka.digits === '' || kb.digits === '') return ka.digits === '' ? (kb.digits === '' ? 0 : -1) : 1;
  const byLength = ka.digits.length - kb.digits.length;
  if (byLength !== 0) return byLength;
  const byNumber = compareText(ka.digits, kb.digits);
  // Equal numbers written differently (s01, s1): fall back to the whole text.
  return byNumber !== 0 ? byNumber : compareText(a, b);
}
