// Event time: parsing the three timestamp forms of SEMANTICS.md section 1 and
// printing window bounds back in the form the input used.
//
// Instants are milliseconds as numbers. A time of day counts from midnight of
// the input's first day; an absolute time counts from the Unix epoch.

export type TimeKind = 'time-of-day' | 'absolute';

export const DAY_MS = 86_400_000;
const HALF_DAY_MS = DAY_MS / 2;

/** Milliseconds since midnight for `HH:MM:SS` (hour 0-23, one or two digits), or -1. */
export function parseTimeOfDay(text: string): number {
  return parseTimeOfDayAt(text, 0, text.length);
}

/** parseTimeOfDay of text[start, end), without copying it. */
export function parseTimeOfDayAt(text: string, start: number, end: number): number {
  const n = end - start;
  if (n !== 8 && n !== 7) return -1;
  const h = n === 8 ? digit2(text, start) : digit1(text, start);
  const o = start + n - 8;
  if (h < 0 || h > 23 || text.charCodeAt(o + 2) !== 58 || text.charCodeAt(o + 5) !== 58) return -1;
  const m = digit2(text, o + 3);
  const s = digit2(text, o + 6);
  if (m < 0 || m > 59 || s < 0 || s > 59) return -1;
  return (h * 3600 + m * 60 + s) * 1000;
}

function digit1(text: string, at: number): number {
  const c = text.charCodeAt(at) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function digit2(text: string, at: number): number {
  const a = digit1(text, at);
  const b = digit1(text, at + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** Epoch milliseconds of an ISO 8601 date-time with `Z` or an offset, or NaN. */
export function parseIsoInstant(text: string): number {
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return NaN;
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 April into 1 May; a real calendar date round-trips.
  if (new Date(base).getUTCDate() !== day) return NaN;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return NaN;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const fracMs = frac === '' ? 0 : Number(`0.${frac}`) * 1000;
  return base - offsetMinutes * 60_000 + fracMs;
}

const EPOCH = /^\d{1,12}(?:\.\d{0,9})?$/;

/** Epoch milliseconds of epoch seconds written as a plain number (fractions allowed), or NaN. */
export function parseEpochSeconds(text: string): number {
  if (!EPOCH.test(text)) return NaN;
  const dot = text.indexOf('.');
  if (dot < 0) return Number(text) * 1000;
  const whole = Number(text.slice(0, dot));
  const frac = text.slice(dot + 1);
  return whole * 1000 + (frac === '' ? 0 : Number(`0.${frac}`) * 1000);
}

export interface ParsedTime {
  kind: TimeKind;
  /** For a time of day: ms since midnight (before day rollover). For absolute: epoch ms. */
  ms: number;
}

/** Recognises any of the three forms; null when the text is none of them. */
export function parseTime(text: string): ParsedTime | null {
  const tod = parseTimeOfDay(text);
  if (tod >= 0) return { kind: 'time-of-day', ms: tod };
  const iso = parseIsoInstant(text);
  if (!Number.isNaN(iso)) return { kind: 'absolute', ms: iso };
  const epoch = parseEpochSeconds(text);
  if (!Number.isNaN(epoch)) return { kind: 'absolute', ms: epoch };
  return null;
}

/**
 * Places times of day of one input (a file, a topic partition) on a running
 * timeline. SEMANTICS.md: a time of day more than 12 hours earlier than the
 * latest one seen so far belongs to the next day. Symmetrically (the spec is
 * silent there) a time more than 12 hours later than the latest belongs to
 * the previous day, so a slightly late row just after midnight stays where it
 * was. In both cases this is the candidate day closest to the latest instant.
 */
export class DayRollover {
  private latest = Number.NEGATIVE_INFINITY;
  /** Start of the day `latest` falls in (kept, not divided out per row: the latest instant changes far less often than rows come). */
  private latestDayStart = 0;

  place(msOfDay: number): number {
    if (this.latest === Number.NEGATIVE_INFINITY) {
      this.advance(msOfDay);
      return msOfDay;
    }
    let instant = this.latestDayStart + msOfDay;
    if (instant < this.latest - HALF_DAY_MS) instant += DAY_MS;
    else if (instant > this.latest + HALF_DAY_MS) instant -= DAY_MS;
    if (instant > this.latest) this.advance(instant);
    return instant;
  }

  private advance(latest: number): void {
    this.latest = latest;
    this.latestDayStart = Math.floor(latest / DAY_MS) * DAY_MS;
  }

  snapshot(): number {
    return this.latest;
  }

  restore(latest: number | null): void {
    // JSON turns -Infinity into null.
    if (latest === null || latest === Number.NEGATIVE_INFINITY) {
      this.latest = Number.NEGATIVE_INFINITY;
      this.latestDayStart = 0;
    } else {
      this.advance(latest);
    }
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `HH:MM:SS` of an instant on a time-of-day timeline (modulo 24 h). */
export function formatTimeOfDay(instant: number): string {
  const ms = ((instant % DAY_MS) + DAY_MS) % DAY_MS;
  const total = Math.floor(ms / 1000);
  return `${pad2(Math.floor(total / 3600))}:${pad2(Math.floor(total / 60) % 60)}:${pad2(total % 60)}`;
}

/** ISO 8601 UTC with milliseconds. */
export function formatIso(instant: number): string {
  return new Date(Math.floor(instant)).toISOString();
}

export function formatInstant(instant: number, kind: TimeKind): string {
  return kind === 'time-of-day' ? formatTimeOfDay(instant) : formatIso(instant);
}
