// Server-metrics messages on Kafka (SEMANTICS.md section 1): one JSON object
// per message, `{"ts":"20:53:00","server_id":"server_1","cpu_pct":34.74}`.
// Validated with the same rules as CSV rows. Numbers are taken as the
// shortest decimal that reads back as the JSON number (exact for values of up
// to 15 significant digits, as every metric here is).
//
// Messages of the plain shape (a flat object, strings without escapes, the
// metrics as plain decimals of at most 15 significant digits) are read by a
// scanner over the characters; anything else (escapes, exponents, duplicate
// keys, nested values, missing fields, bad JSON) goes through JSON.parse. Both
// paths give the same result, reject reasons included (property-tested).

import { parseDecimal, type Units } from './decimal.ts';
import { metricValueProblem, serverIdProblem, type MetricField } from './metric-record.ts';
import { DayRollover, parseTime, parseTimeOfDayAt, type TimeKind } from './time.ts';

export interface MetricMessage {
  serverId: string;
  instant: number;
  kind: TimeKind;
  /** Values of the fields asked for, in the order asked. */
  units: Units[];
  scales: number[];
}

export type ParseResult = { ok: true; message: MetricMessage } | { ok: false; reason: string };

/**
 * Parses one message value. `rollover` belongs to the message's topic
 * partition: times of day are placed on that partition's timeline.
 */
export function parseMetricMessage(value: string, fields: readonly MetricField[], rollover: DayRollover): ParseResult {
  return parsePlainMessage(value, fields, rollover) ?? parseMetricMessageJson(value, fields, rollover);
}

/** parseMetricMessage through JSON.parse, for any message. */
export function parseMetricMessageJson(value: string, fields: readonly MetricField[], rollover: DayRollover): ParseResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'value is not a JSON object' };
  const record = parsed as Record<string, unknown>;
  const timeValue = record.ts ?? record.timestamp;
  if (timeValue === undefined) return { ok: false, reason: 'ts is missing' };
  const time = typeof timeValue === 'string' || typeof timeValue === 'number' ? parseTime(String(timeValue)) : null;
  if (time === null) return { ok: false, reason: `time ${JSON.stringify(timeValue)} does not parse` };
  const serverId = record.server_id;
  if (typeof serverId !== 'string') return { ok: false, reason: serverId === undefined ? 'server_id is missing' : 'server_id is not a string' };
  const idProblem = serverIdProblem(serverId);
  if (idProblem !== null) return { ok: false, reason: idProblem };
  const units: Units[] = [];
  const scales: number[] = [];
  for (const field of fields) {
    const raw = record[field];
    if (raw === undefined || raw === null) return { ok: false, reason: `${field} is missing` };
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (typeof raw === 'number' && !Number.isFinite(raw)) return { ok: false, reason: `${field} is not finite` };
    const decimal = parseDecimal(text);
    if (decimal === null) {
      return { ok: false, reason: /^[+-]?(nan|inf(inity)?)$/i.test(text) ? `${field} '${text}' is not finite` : `${field} ${JSON.stringify(raw)} is not a number` };
    }
    const problem = metricValueProblem(field, decimal.units, decimal.scale);
    if (problem !== null) return { ok: false, reason: problem };
    units.push(decimal.units);
    scales.push(decimal.scale);
  }
  const instant = time.kind === 'time-of-day' ? rollover.place(time.ms) : time.ms;
  return { ok: true, message: { serverId, instant, kind: time.kind, units, scales } };
}

// The scanner. Positions are local variables passed along (a module-level
// cursor cost a memory write per character), and no read goes past the end
// of the text (charCodeAt out of range takes V8's slow path). Character codes:
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN = 123;
const CLOSE = 125;
const MINUS = 45;
const DOT = 46;

/** Bits of `seen` (duplicate and presence checks): ts, server_id, then one per field (at most 8). */
const TS_BIT = 1;
const SERVER_ID_BIT = 2;

/** The last plain decimal read by scanMetricNumber (module state: no object per number). */
let numberUnits = 0;
let numberScale = 0;

/** The position of the first character at or after `at` that is not JSON whitespace. */
function skipSpace(text: string, at: number): number {
  for (const end = text.length; at < end; at++) {
    const c = text.charCodeAt(at);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return at;
  }
  return at;
}

/** The closing quote of a string without escapes or control characters whose opening quote is at `at`, or -1. */
function scanString(text: string, at: number): number {
  for (let i = at + 1, end = text.length; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH || c < 32) return -1;
  }
  return -1;
}

/** The end of the JSON number at `at`, or -1 when there is none. */
function skipNumber(text: string, at: number): number {
  if (text.charCodeAt(at) === MINUS) at++;
  let c = text.charCodeAt(at);
  if (c === 48) {
    at++;
  } else if (c >= 49 && c <= 57) {
    while ((c = text.charCodeAt(at)) >= 48 && c <= 57) at++;
  } else {
    return -1;
  }
  if (text.charCodeAt(at) === DOT) {
    const digits = ++at;
    while ((c = text.charCodeAt(at)) >= 48 && c <= 57) at++;
    if (at === digits) return -1;
  }
  c = text.charCodeAt(at);
  if (c === 101 || c === 69) {
    c = text.charCodeAt(++at);
    if (c === 43 || c === MINUS) at++;
    const digits = at;
    while ((c = text.charCodeAt(at)) >= 48 && c <= 57) at++;
    if (at === digits) return -1;
  }
  return at;
}

/**
 * Reads the metric number at `at` into numberUnits/numberScale and returns
 * its end, or -1: it must be a plain decimal (no sign, no exponent) whose
 * shortest form, the one String() gives for what JSON.parse reads, has at
 * most 15 significant digits and no exponent (so 0, or from 1e-6 up).
 */
function scanMetricNumber(text: string, at: number): number {
  let units = 0;
  let significant = 0;
  let c = text.charCodeAt(at);
  if (c === 48) {
    at++;
  } else if (c >= 49 && c <= 57) {
    while ((c = text.charCodeAt(at)) >= 48 && c <= 57) {
      units = units * 10 + (c - 48);
      significant++;
      at++;
    }
  } else {
    return -1;
  }
  let scale = 0;
  if (text.charCodeAt(at) === DOT) {
    const digits = ++at;
    // Zeros read since the last other digit: trailing ones do not count (String(46.40) is '46.4').
    let zeros = 0;
    while ((c = text.charCodeAt(at)) >= 48 && c <= 57) {
      at++;
      if (c === 48) {
        zeros++;
        continue;
      }
      if (units === 0) {
        // Below 1e-6 String() writes an exponent.
        if (zeros > 5) return -1;
      } else {
        for (let z = 0; z < zeros; z++) units *= 10;
        significant += zeros;
      }
      units = units * 10 + (c - 48);
      significant++;
      scale += zeros + 1;
      zeros = 0;
      if (significant > 15) return -1;
    }
    if (at === digits) return -1;
  }
  c = text.charCodeAt(at);
  if (c === 101 || c === 69 || significant > 15) return -1;
  numberUnits = units;
  numberScale = scale;
  return at;
}

/** Whether the string whose first character is at `at` is exactly `name` (its closing quote follows). */
function isKey(text: string, at: number, name: string): boolean {
  const length = name.length;
  if (text.charCodeAt(at + length) !== QUOTE) return false;
  for (let i = 0; i < length; i++) if (text.charCodeAt(at + i) !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * The plain-shape path of parseMetricMessage; null when the message is not
 * of that shape (the JSON path then decides). It never rejects a message for
 * a reason the JSON path would not give.
 */
export function parsePlainMessage(value: string, fields: readonly MetricField[], rollover: DayRollover): ParseResult | null {
  const fieldCount = fields.length;
  if (fieldCount > 8) return null;
  let at = skipSpace(value, 0);
  if (value.charCodeAt(at) !== OPEN) return null;
  at = skipSpace(value, at + 1);
  let seen = 0;
  let tsStart = -1;
  let tsEnd = -1;
  let idStart = -1;
  let idEnd = -1;
  const units: number[] = [];
  const scales: number[] = [];
  for (let f = 0; f < fieldCount; f++) {
    units.push(0);
    scales.push(0);
  }
  if (value.charCodeAt(at) === CLOSE) {
    at++;
  } else {
    for (;;) {
      if (value.charCodeAt(at) !== QUOTE) return null;
      const keyStart = at + 1;
      let keyEnd: number;
      let bit = 0;
      let field = -1;
      // (A "timestamp" key counts only when ts is absent, and then the JSON path decides: it is skipped like any other.)
      if (isKey(value, keyStart, 'ts')) {
        bit = TS_BIT;
        keyEnd = keyStart + 2;
      } else if (isKey(value, keyStart, 'server_id')) {
        bit = SERVER_ID_BIT;
        keyEnd = keyStart + 9;
      } else {
        for (let f = 0; f < fieldCount; f++) {
          if (isKey(value, keyStart, fields[f]!)) {
            field = f;
            bit = 4 << f;
            break;
          }
        }
        keyEnd = field >= 0 ? keyStart + fields[field]!.length : scanString(value, at);
        if (keyEnd < 0) return null;
      }
      if (bit !== 0) {
        if ((seen & bit) !== 0) return null; // duplicate key: JSON.parse keeps the last
        seen |= bit;
      }
      at = skipSpace(value, keyEnd + 1);
      if (value.charCodeAt(at) !== COLON) return null;
      at = skipSpace(value, at + 1);
      const c = value.charCodeAt(at);
      if (bit === TS_BIT || bit === SERVER_ID_BIT) {
        // Not scanned here: a ts that parses and a server_id without problems hold no escapes or control characters.
        if (c !== QUOTE) return null;
        const end = value.indexOf('"', at + 1);
        if (end < 0) return null;
        if (bit === TS_BIT) {
          tsStart = at + 1;
          tsEnd = end;
        } else {
          idStart = at + 1;
          idEnd = end;
        }
        at = end + 1;
      } else if (field >= 0) {
        at = scanMetricNumber(value, at);
        if (at < 0) return null;
        units[field] = numberUnits;
        scales[field] = numberScale;
      } else if (c === QUOTE) {
        const end = scanString(value, at);
        if (end < 0) return null;
        at = end + 1;
      } else if (c === MINUS || (c >= 48 && c <= 57)) {
        at = skipNumber(value, at);
        if (at < 0) return null;
      } else if (value.startsWith('true', at)) {
        at += 4;
      } else if (value.startsWith('false', at)) {
        at += 5;
      } else if (value.startsWith('null', at)) {
        at += 4;
      } else {
        return null;
      }
      at = skipSpace(value, at);
      const next = value.charCodeAt(at);
      at = skipSpace(value, at + 1);
      if (next === CLOSE) break;
      if (next !== COMMA) return null;
    }
  }
  if (skipSpace(value, at) !== value.length) return null;
  if (seen !== (TS_BIT | SERVER_ID_BIT | ((4 << fieldCount) - 4))) return null;
  // The same checks as the JSON path, in its order.
  let kind: TimeKind;
  let ms = parseTimeOfDayAt(value, tsStart, tsEnd);
  if (ms >= 0) {
    kind = 'time-of-day';
  } else {
    const time = parseTime(value.slice(tsStart, tsEnd));
    if (time === null) return null;
    kind = time.kind;
    ms = time.ms;
  }
  const serverId = value.slice(idStart, idEnd);
  // The JSON path words this one (the id may hold an escape or a control character).
  if (serverIdProblem(serverId) !== null) return null;
  for (let f = 0; f < fieldCount; f++) {
    const problem = metricValueProblem(fields[f]!, units[f]!, scales[f]!);
    if (problem !== null) return { ok: false, reason: problem };
  }
  const instant = kind === 'time-of-day' ? rollover.place(ms) : ms;
  return { ok: true, message: { serverId, instant, kind, units, scales } };
}
