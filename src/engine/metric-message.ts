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

// The scanner. Character codes:
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

/** Scanner position (module state: no object per message; the engine is single-threaded and this never re-enters). */
let pos = 0;
/** The last plain decimal read by scanMetricNumber. */
let numberUnits = 0;
let numberScale = 0;

function skipSpace(text: string): void {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return;
    pos++;
  }
}

/** Reads a string without escapes or control characters at pos (on its opening quote); returns its end (the closing quote) or -1. */
function scanString(text: string): number {
  pos++;
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c === QUOTE) return pos++;
    if (c === BACKSLASH || c < 32 || Number.isNaN(c)) return -1;
    pos++;
  }
}

/** Skips a JSON number at pos; false when it is not one. */
function skipNumber(text: string): boolean {
  if (text.charCodeAt(pos) === MINUS) pos++;
  let c = text.charCodeAt(pos);
  if (c === 48) {
    pos++;
  } else if (c >= 49 && c <= 57) {
    while ((c = text.charCodeAt(pos)) >= 48 && c <= 57) pos++;
  } else {
    return false;
  }
  if (text.charCodeAt(pos) === DOT) {
    pos++;
    const digits = pos;
    while ((c = text.charCodeAt(pos)) >= 48 && c <= 57) pos++;
    if (pos === digits) return false;
  }
  c = text.charCodeAt(pos);
  if (c === 101 || c === 69) {
    pos++;
    c = text.charCodeAt(pos);
    if (c === 43 || c === MINUS) pos++;
    const digits = pos;
    while ((c = text.charCodeAt(pos)) >= 48 && c <= 57) pos++;
    if (pos === digits) return false;
  }
  return true;
}

/**
 * Reads a metric number at pos into numberUnits/numberScale: a plain
 * decimal (no sign, no exponent) whose shortest form, the one String() gives
 * for what JSON.parse reads, has at most 15 significant digits and no
 * exponent (so 0 or from 1e-6 up). False for anything else.
 */
function scanMetricNumber(text: string): boolean {
  let units = 0;
  let significant = 0;
  let c = text.charCodeAt(pos);
  if (c === 48) {
    pos++;
  } else if (c >= 49 && c <= 57) {
    while ((c = text.charCodeAt(pos)) >= 48 && c <= 57) {
      units = units * 10 + (c - 48);
      significant++;
      pos++;
    }
  } else {
    return false;
  }
  let scale = 0;
  if (text.charCodeAt(pos) === DOT) {
    pos++;
    const digits = pos;
    // Zeros read since the last other digit: trailing ones do not count (String(46.40) is '46.4').
    let zeros = 0;
    while ((c = text.charCodeAt(pos)) >= 48 && c <= 57) {
      pos++;
      if (c === 48) {
        zeros++;
        continue;
      }
      if (units === 0) {
        // Below 1e-6 String() writes an exponent.
        if (zeros > 5) return false;
      } else {
        for (let z = 0; z < zeros; z++) units *= 10;
        significant += zeros;
      }
      units = units * 10 + (c - 48);
      significant++;
      scale += zeros + 1;
      zeros = 0;
      if (significant > 15) return false;
    }
    if (pos === digits) return false;
  }
  c = text.charCodeAt(pos);
  if (c === 101 || c === 69 || significant > 15) return false;
  numberUnits = units;
  numberScale = scale;
  return true;
}

/**
 * The plain-shape path of parseMetricMessage; null when the message is not
 * of that shape (the JSON path then decides). It never rejects a message for
 * a reason the JSON path would not give.
 */
export function parsePlainMessage(value: string, fields: readonly MetricField[], rollover: DayRollover): ParseResult | null {
  if (fields.length > 8) return null;
  pos = 0;
  skipSpace(value);
  if (value.charCodeAt(pos) !== OPEN) return null;
  pos++;
  skipSpace(value);
  let seen = 0;
  let tsStart = -1;
  let tsEnd = -1;
  let idStart = -1;
  let idEnd = -1;
  const units: number[] = new Array<number>(fields.length);
  const scales: number[] = new Array<number>(fields.length);
  if (value.charCodeAt(pos) !== CLOSE) {
    for (;;) {
      if (value.charCodeAt(pos) !== QUOTE) return null;
      const keyStart = pos + 1;
      const keyEnd = scanString(value);
      if (keyEnd < 0) return null;
      skipSpace(value);
      if (value.charCodeAt(pos) !== COLON) return null;
      pos++;
      skipSpace(value);
      const keyLength = keyEnd - keyStart;
      const c = value.charCodeAt(pos);
      let bit = 0;
      let field = -1;
      if (keyLength === 2 && value.startsWith('ts', keyStart)) {
        bit = TS_BIT;
      } else if (keyLength === 9 && value.startsWith('server_id', keyStart)) {
        bit = SERVER_ID_BIT;
      } else if (keyLength === 9 && value.startsWith('timestamp', keyStart)) {
        // Read only when ts is absent: leave that case to the JSON path.
        bit = 0;
      } else {
        for (let f = 0; f < fields.length; f++) {
          const name = fields[f]!;
          if (name.length === keyLength && value.startsWith(name, keyStart)) {
            field = f;
            bit = 4 << f;
            break;
          }
        }
      }
      if (bit !== 0) {
        if ((seen & bit) !== 0) return null; // duplicate key: JSON.parse keeps the last
        seen |= bit;
      }
      if (bit === TS_BIT || bit === SERVER_ID_BIT) {
        if (c !== QUOTE) return null;
        const start = pos + 1;
        const end = scanString(value);
        if (end < 0) return null;
        if (bit === TS_BIT) {
          tsStart = start;
          tsEnd = end;
        } else {
          idStart = start;
          idEnd = end;
        }
      } else if (field >= 0) {
        if (!scanMetricNumber(value)) return null;
        units[field] = numberUnits;
        scales[field] = numberScale;
      } else if (c === QUOTE) {
        if (scanString(value) < 0) return null;
      } else if (c === MINUS || (c >= 48 && c <= 57)) {
        if (!skipNumber(value)) return null;
      } else if (value.startsWith('true', pos)) {
        pos += 4;
      } else if (value.startsWith('false', pos)) {
        pos += 5;
      } else if (value.startsWith('null', pos)) {
        pos += 4;
      } else {
        return null;
      }
      skipSpace(value);
      const next = value.charCodeAt(pos);
      pos++;
      if (next === CLOSE) break;
      if (next !== COMMA) return null;
      skipSpace(value);
    }
  } else {
    pos++;
  }
  skipSpace(value);
  if (pos !== value.length) return null;
  if (seen !== (TS_BIT | SERVER_ID_BIT | ((4 << fields.length) - 4))) return null;
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
  const idProblem = serverIdProblem(serverId);
  if (idProblem !== null) return { ok: false, reason: idProblem };
  for (let f = 0; f < fields.length; f++) {
    const problem = metricValueProblem(fields[f]!, units[f]!, scales[f]!);
    if (problem !== null) return { ok: false, reason: problem };
  }
  const instant = kind === 'time-of-day' ? rollover.place(ms) : ms;
  return { ok: true, message: { serverId, instant, kind, units, scales } };
}
