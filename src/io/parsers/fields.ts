// Checks shared by the log parsers: text fields that become keys, HTTP
// status codes, non-negative decimals, and short quotes of bad values for
// reject reasons. Pure functions: a problem is returned as a reason string,
// never thrown.

import { parseDecimal, type Decimal } from '../../engine/decimal.ts';

/** Longest accepted text field (a key in outputs and state). */
export const MAX_TEXT = 255;

/** A bad value as it appears in a reason: quoted, cut to 40 characters. */
export function quote(value: string): string {
  return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
}

/**
 * Why a text field cannot be used, or null when it can. Control characters
 * are refused because keys end up in CSV rows and sort files, one per line.
 */
export function textProblem(name: string, value: unknown): string | null {
  if (value === undefined) return `${name} is missing`;
  if (typeof value !== 'string') return `${name} is not a string`;
  if (value.length === 0) return `${name} is empty`;
  if (value.length > MAX_TEXT) return `${name} is longer than ${MAX_TEXT} characters`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${name} holds a control character`;
  return null;
}

/** HTTP status 100-599 from its text (plain digits), or a reason. */
export function parseStatus(text: string): number | string {
  if (!/^\d{1,9}$/.test(text)) return `status ${quote(text)} is not an integer`;
  const status = Number(text);
  if (status < 100 || status > 599) return `status ${text} is outside 100-599`;
  return status;
}

/** A finite decimal >= 0 (request time, latency), or a reason. */
export function parseNonNegative(name: string, text: string): Decimal | string {
  const value = parseDecimal(text);
  if (value === null) {
    return /^[+-]?(nan|inf(inity)?)$/i.test(text) ? `${name} ${quote(text)} is not finite` : `${name} ${quote(text)} is not a number`;
  }
  if (value.units < 0) return `${name} ${text} is negative`;
  return value;
}
