// Compares two job outputs row by row after parsing, as SEMANTICS.md says
// outputs are compared: same text fields, same numbers (`26.6` equals
// `26.60`). Streams both files, so 5 M-row outputs need no memory.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Comparison {
  rows: [number, number];
  /** First differing data row (1-based line number and both lines), if any. */
  firstDifference?: { line: number; left: string; right: string };
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function sameRow(left: string, right: string): boolean {
  if (left === right) return true;
  const a = left.split(',');
  const b = right.split(',');
  return a.length === b.length && a.every((field, i) => field === b[i] || (NUMBER.test(field) && NUMBER.test(b[i]!) && Number(field) === Number(b[i])));
}

export async function compareRows(leftFile: string, rightFile: string): Promise<Comparison> {
  const left = createInterface({ input: createReadStream(leftFile), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const right = createInterface({ input: createReadStream(rightFile), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const rows: [number, number] = [0, 0];
  let firstDifference: Comparison['firstDifference'];
  for (let line = 1; ; line++) {
    const [a, b] = await Promise.all([left.next(), right.next()]);
    if (a.done && b.done) break;
    if (line > 1) {
      if (!a.done) rows[0]++;
      if (!b.done) rows[1]++;
    }
    const [textA, textB] = [a.done ? '' : a.value, b.done ? '' : b.value];
    if (firstDifference === undefined && !sameRow(textA, textB)) firstDifference = { line, left: textA, right: textB };
  }
  return { rows, firstDifference };
}
