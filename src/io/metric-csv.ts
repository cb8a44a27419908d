// Server-metrics CSV input: the combined file (`ts,server_id,cpu_pct,...`) or
// a per-topic file as the consumers write it (`ts,server_id,cpu_pct`).
// Columns are found by name in any order (`timestamp` is an alias of `ts`);
// every recognised column of a row is validated (SEMANTICS.md section 1),
// and a bad row becomes a reject with its line number and a reason.

import { parseDecimalAscii, type MutableDecimal, type Units } from '../engine/decimal.ts';
import { MAX_SERVER_ID_LENGTH, METRIC_FIELDS, metricValueProblem, serverIdProblem, type MetricField } from '../engine/metric-record.ts';
import { DayRollover, parseTime, parseTimeOfDayAt, type ParsedTime, type TimeKind } from '../engine/time.ts';
import { StreamwatchError } from '../errors.ts';
import { splitCsv } from './csv/fields.ts';
import { grownArray } from './typed-arrays.ts';

export interface MetricColumns {
  count: number;
  time: number;
  serverId: number;
  /** Index of each recognised metric column. */
  metrics: Array<{ field: MetricField; index: number }>;
}

/** Finds the columns in a header line; throws a clear error when one the caller needs is missing. */
export function metricColumns(header: string, required: readonly MetricField[], source: string): MetricColumns {
  const names = splitCsv(header).map((n) => n.trim());
  const find = (...aliases: string[]): number => {
    const hits = names.flatMap((n, i) => (aliases.includes(n) ? [i] : []));
    if (hits.length > 1) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${source}: header names ${aliases.join('/')} more than once`);
    return hits[0] ?? -1;
  };
  const time = find('ts', 'timestamp');
  const serverId = find('server_id');
  const metrics: MetricColumns['metrics'] = [];
  for (const field of METRIC_FIELDS) {
    const index = find(field);
    if (index >= 0) metrics.push({ field, index });
  }
  const missing = [
    ...(time < 0 ? ['ts'] : []),
    ...(serverId < 0 ? ['server_id'] : []),
    ...required.filter((f) => !metrics.some((m) => m.field === f)),
  ];
  if (missing.length > 0) {
    throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${source}: header '${header}' lacks ${missing.join(', ')}`);
  }
  return { count: names.length, time, serverId, metrics };
}

/** A validated metric row. Values are indexed like `MetricColumns.metrics`. */
export interface MetricRow {
  serverId: string;
  instant: number;
  units: Units[];
  scales: number[];
}

/**
 * Parses rows of one input. Holds the input's midnight rollover and checks
 * that every time in the job is of one kind (time of day or absolute).
 */
export class MetricRowParser {
  readonly columns: MetricColumns;
  private readonly rollover = new DayRollover();
  private readonly timeKind: { kind: TimeKind | null };
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly scratch: MutableDecimal = { units: 0, scale: 0 };
  readonly row: MetricRow;
  /** Why the last row was rejected. */
  reason = '';
  /** After scanRecord: the number of the row's server id among the ids this parser has seen (0, 1, ...), or -1. */
  idNumber = -1;

  /** `timeKind` is shared by all inputs of one job. */
  private readonly todTime: ParsedTime = { kind: 'time-of-day', ms: 0 };

  private timeOfDay(ms: number): ParsedTime {
    this.todTime.ms = ms;
    return this.todTime;
  }

  private readonly serverIds = new ServerIds();
  /** What `parseBytes` reads in each column (ROLE_*; ROLE_METRIC + m for metric m), and the largest value each metric may take. */
  private readonly roles: Int32Array;
  private readonly upperBound: Float64Array;

  /** Columns `ts,server_id`, then metrics only (any of them, in any order). */
  private readonly usualLayout: boolean;
  constructor(columns: MetricColumns, timeKind: { kind: TimeKind | null }) {
    this.columns = columns;
    this.roles = new Int32Array(columns.count);
    this.roles[columns.time] = ROLE_TIME;
    this.roles[columns.serverId] = ROLE_SERVER_ID;
    columns.metrics.forEach(({ index }, m) => {
      this.roles[index] = ROLE_METRIC + m;
    });
    this.upperBound = Float64Array.from(columns.metrics, (m) => fastUpperBound(m.field));
    this.usualLayout = columns.time === 0 && columns.serverId === 1 && columns.metrics.length === columns.count - 2;
    this.timeKind = timeKind;
    this.starts = new Int32Array(columns.count + 1);
    this.ends = new Int32Array(columns.count + 1);
    this.row = { serverId: '', instant: 0, units: columns.metrics.map(() => 0), scales: columns.metrics.map(() => 0) };
  }

  /**
   * The fast path of the batch reader: reads the record at bytes[pos...]
   * into `row` when it is a plain one (a time of day, plain numbers, a valid
   * id, no quote, ending with a line break) and returns the position after
   * its line break. Anything else returns -1 and changes nothing but `row`:
   * the caller then finds the record and takes parseBytes or parse, which
   * give the same results and reasons. There must be a line break at or
   * after `pos` in `bytes` (every loop stops at one).
   */
  scanRecord(bytes: Buffer, pos: number): number {
    if (this.timeKind.kind === 'absolute') return -1;
    if (this.usualLayout) return this.scanUsual(bytes, pos);
    const { roles, upperBound } = this;
    const row = this.row;
    const last = roles.length - 1;
    let msOfDay = -1;
    let idStart = 0;
    let idEnd = 0;
    let hash = 0;
    for (let column = 0; column <= last; column++) {
      const role = roles[column]!;
      const from = pos;
      let c: number;
      if (role >= ROLE_METRIC) {
        if (bytes[pos] === 43) pos++;
        const digitsFrom = pos;
        let units = 0;
        c = bytes[pos]!;
        while (c >= 48 && c <= 57) {
          units = units * 10 + (c - 48);
          c = bytes[++pos]!;
        }
        let scale = 0;
        if (c === DOT) {
          const dotAt = pos;
          c = bytes[++pos]!;
          while (c >= 48 && c <= 57) {
            units = units * 10 + (c - 48);
            c = bytes[++pos]!;
          }
          scale = pos - dotAt - 1;
          if (dotAt === digitsFrom && scale === 0) return -1;
        } else if (pos === digitsFrom) {
          return -1;
        }
        const m = role - ROLE_METRIC;
        if (units >= 1e15 || scale > 15 || units > upperBound[m]! * POW10[scale]!) return -1;
        row.units[m] = units;
        row.scales[m] = scale;
      } else if (role === ROLE_SERVER_ID) {
        hash = 0x811c9dc5;
        c = bytes[pos]!;
        while (ID_BYTE[c] === 1) {
          hash = Math.imul(hash ^ c, 0x01000193);
          c = bytes[++pos]!;
        }
        idStart = from;
        idEnd = pos;
        if (idEnd === idStart || idEnd - idStart > MAX_SERVER_ID_LENGTH) return -1;
      } else {
        c = bytes[pos]!;
        while (c !== COMMA && c !== NEWLINE && c !== QUOTE) c = bytes[++pos]!;
        if (role === ROLE_TIME) {
          msOfDay = timeOfDayBytes(bytes, from, pos);
          if (msOfDay < 0) return -1;
        }
      }
      // At the byte after the field: a comma, or the line break after the last field.
      if (column < last) {
        if (c !== COMMA) return -1;
        pos++;
      } else if (c === NEWLINE) {
        pos++;
      } else if (c === CR && bytes[pos + 1] === NEWLINE) {
        pos += 2;
      } else {
        return -1;
      }
    }
    row.serverId = this.serverIds.lookup(bytes, idStart, idEnd, hash) ?? bytes.toString('latin1', idStart, idEnd);
    this.idNumber = this.serverIds.lastEntry;
    this.timeKind.kind = 'time-of-day';
    row.instant = this.rollover.place(msOfDay);
    return pos;
  }

  /** scanRecord for the usual column order (`ts,server_id`, then metrics only): much faster than its loop over the columns' roles. */
  private scanUsual(bytes: Buffer, pos: number): number {
    const row = this.row;
    const timeStart = pos;
    let c = 0;
    let msOfDay: number;
    if (bytes[pos + 8] === COMMA && pos + 8 < bytes.length) {
      // The usual `HH:MM:SS,`: read at fixed places, no scan for the comma (any other byte there fails the check).
      msOfDay = timeOfDayBytes(bytes, pos, pos + 8);
      pos += 8;
    } else {
      c = bytes[pos]!;
      while (c !== COMMA && c !== NEWLINE && c !== QUOTE) c = bytes[++pos]!;
      if (c !== COMMA) return -1;
      msOfDay = timeOfDayBytes(bytes, timeStart, pos);
    }
    if (msOfDay < 0) return -1;
    const idStart = ++pos;
    const ids = this.serverIds;
    // Rows of a file tend to cycle through the servers in the same order: the id that followed the
    // previous row's id last time is checked first, byte by byte as the field is read (no hashing).
    let entry = ids.predicted();
    if (entry >= 0) {
      const pool = ids.pool;
      const from = ids.offsets[entry]!;
      const to = ids.offsets[entry + 1]!;
      let k = from;
      c = bytes[pos]!;
      while (k < to && c === pool[k]) {
        k++;
        c = bytes[++pos]!;
      }
      if (k !== to || c !== COMMA) {
        entry = -1;
        pos = idStart;
      }
    }
    let hash = 0;
    if (entry < 0) {
      hash = 0x811c9dc5;
      c = bytes[pos]!;
      while (ID_BYTE[c] === 1) {
        hash = Math.imul(hash ^ c, 0x01000193);
        c = bytes[++pos]!;
      }
    }
    const idEnd = pos;
    if (c !== COMMA || idEnd === idStart || idEnd - idStart > MAX_SERVER_ID_LENGTH) return -1;
    pos++;
    const upperBound = this.upperBound;
    const unitsOut = row.units;
    const scalesOut = row.scales;
    const last = upperBound.length - 1;
    // The number reader is written out here and in scanRecord's loop, not shared: as a call it made
    // this function too large for V8 to inline timeOfDayBytes (a call per row then, ~8 % of the loop).
    for (let m = 0; m <= last; m++) {
      if (bytes[pos] === 43) pos++;
      const digitsFrom = pos;
      let units = 0;
      c = bytes[pos]!;
      while (c >= 48 && c <= 57) {
        units = units * 10 + (c - 48);
        c = bytes[++pos]!;
      }
      let scale = 0;
      if (c === DOT) {
        const dotAt = pos;
        c = bytes[++pos]!;
        while (c >= 48 && c <= 57) {
          units = units * 10 + (c - 48);
          c = bytes[++pos]!;
        }
        scale = pos - dotAt - 1;
        if (dotAt === digitsFrom && scale === 0) return -1;
      } else if (pos === digitsFrom) {
        return -1;
      }
      if (units >= 1e15 || scale > 15 || units > upperBound[m]! * POW10[scale]!) return -1;
      unitsOut[m] = units;
      scalesOut[m] = scale;
      if (m < last) {
        if (c !== COMMA) return -1;
        pos++;
      } else if (c === NEWLINE) {
        pos++;
      } else if (c === CR && bytes[pos + 1] === NEWLINE) {
        pos += 2;
      } else {
        return -1;
      }
    }
    row.serverId = entry >= 0 ? ids.take(entry) : (ids.lookup(bytes, idStart, idEnd, hash) ?? bytes.toString('latin1', idStart, idEnd));
    this.idNumber = ids.lastEntry;
    this.timeKind.kind = 'time-of-day';
    row.instant = this.rollover.place(msOfDay);
    return pos;
  }

  /**
   * Same as `parse(bytes.toString('latin1', start, end))` for a record without
   * quotes, reading the bytes directly. The common row (a time of day, plain
   * numbers, a valid id) is read here; anything else goes to `parse`, so
   * results and reasons are the same.
   */
  parseBytes(bytes: Buffer, start: number, end: number): boolean {
    const { roles, upperBound } = this;
    const row = this.row;
    const max = roles.length;
    let msOfDay = -1;
    let idStart = 0;
    let idEnd = 0;
    let hash = 0;
    let pos = start;
    // One pass over the bytes: each field is read as its column's role says, up to the comma after it.
    for (let column = 0; column < max; column++) {
      const role = roles[column]!;
      const from = pos;
      if (role >= ROLE_METRIC) {
        // Plain digits with at most one dot, fewer than 10^15 as an integer (at most 15 significant digits), not negative.
        // The loops stop at the first byte that is not a digit, so they need no bounds test: the checks after them
        // catch a field that ran past `end`.
        if (bytes[pos] === 43) pos++;
        const digitsFrom = pos;
        let units = 0;
        let d = bytes[pos]! - 48;
        while (d >= 0 && d <= 9) {
          units = units * 10 + d;
          d = bytes[++pos]! - 48;
        }
        let scale = 0;
        if (d === DOT - 48) {
          const dotAt = pos;
          d = bytes[++pos]! - 48;
          while (d >= 0 && d <= 9) {
            units = units * 10 + d;
            d = bytes[++pos]! - 48;
          }
          scale = pos - dotAt - 1;
          if (dotAt === digitsFrom && scale === 0) return this.parse(bytes.toString('latin1', start, end));
        } else if (pos === digitsFrom) {
          return this.parse(bytes.toString('latin1', start, end));
        }
        const m = role - ROLE_METRIC;
        if (pos > end || (pos < end && d !== COMMA - 48) || units >= 1e15 || scale > 15 || units > upperBound[m]! * POW10[scale]!) return this.parse(bytes.toString('latin1', start, end));
        row.units[m] = units;
        row.scales[m] = scale;
      } else if (role === ROLE_SERVER_ID) {
        hash = 0x811c9dc5;
        let c = bytes[pos]!;
        while (ID_BYTE[c] === 1) {
          hash = Math.imul(hash ^ c, 0x01000193);
          c = bytes[++pos]!;
        }
        idStart = from;
        idEnd = pos;
        if (pos > end || (pos < end && c !== COMMA) || idEnd === idStart || idEnd - idStart > MAX_SERVER_ID_LENGTH) return this.parse(bytes.toString('latin1', start, end));
      } else {
        while (pos < end && bytes[pos] !== COMMA) pos++;
        if (role === ROLE_TIME) {
          msOfDay = timeOfDayBytes(bytes, from, pos);
          if (msOfDay < 0) return this.parse(bytes.toString('latin1', start, end));
        }
      }
      // Now at the comma ending the field, or at the end of the record.
      if (column < max - 1) {
        if (pos >= end) return this.parse(bytes.toString('latin1', start, end));
        pos++;
      } else if (pos < end) {
        return this.parse(bytes.toString('latin1', start, end));
      }
    }
    if (this.timeKind.kind === 'absolute') return this.parse(bytes.toString('latin1', start, end));
    row.serverId = this.serverIds.lookup(bytes, idStart, idEnd, hash) ?? bytes.toString('latin1', idStart, idEnd);
    this.timeKind.kind = 'time-of-day';
    row.instant = this.rollover.place(msOfDay);
    return true;
  }

  /** Parses a non-blank record, text[start, end), into `this.row`; false (with `this.reason`) when it must be rejected. */
  parse(line: string, start = 0, end = line.length): boolean {
    const { columns, starts, ends } = this;
    let text = line;
    let found = 0;
    const max = columns.count;
    let from = start;
    for (let i = start; i < end; i++) {
      const c = line.charCodeAt(i);
      if (c === 44) {
        if (found < max) {
          starts[found] = from;
          ends[found] = i;
        }
        found++;
        from = i + 1;
      } else if (c === 34) {
        found = -1;
        break;
      }
    }
    if (found >= 0) {
      if (found < max) {
        starts[found] = from;
        ends[found] = end;
      }
      found++;
    } else {
      // Rare: quoted fields. Re-join the unquoted values so offsets work below.
      const fields = splitCsv(line.slice(start, end));
      found = fields.length;
      if (found === max) {
        text = '';
        for (let i = 0; i < found; i++) {
          starts[i] = text.length;
          text += fields[i];
          ends[i] = text.length;
        }
      }
    }
    if (found !== max) {
      this.reason = `expected ${max} fields, found ${found}`;
      return false;
    }
    const row = this.row;
    const timeStart = starts[columns.time]!;
    const timeEnd = ends[columns.time]!;
    const msOfDay = parseTimeOfDayAt(text, timeStart, timeEnd);
    const timeText = msOfDay >= 0 ? '' : trimmed(text, timeStart, timeEnd);
    const time = msOfDay >= 0 ? this.timeOfDay(msOfDay) : parseTime(timeText);
    if (time === null) {
      this.reason = timeText === '' ? 'time is missing' : `time '${timeText}' does not parse`;
      return false;
    }
    const kinds = this.timeKind;
    if (kinds.kind === null) kinds.kind = time.kind;
    else if (kinds.kind !== time.kind) {
      this.reason = `time '${trimmed(text, timeStart, timeEnd)}' is ${time.kind === 'absolute' ? 'an absolute instant' : 'a time of day'} but this job's input uses ${kinds.kind === 'absolute' ? 'absolute instants' : 'times of day'}`;
      return false;
    }
    const idStart = starts[columns.serverId]!;
    const idEnd = ends[columns.serverId]!;
    if (!plainServerId(text, idStart, idEnd)) {
      this.reason = serverIdProblem(text.slice(idStart, idEnd)) ?? 'server_id is invalid';
      return false;
    }
    const scratch = this.scratch;
    const metrics = columns.metrics;
    for (let m = 0; m < metrics.length; m++) {
      const { field, index } = metrics[m]!;
      let s = starts[index]!;
      let e = ends[index]!;
      while (s < e && text.charCodeAt(s) === 32) s++;
      while (e > s && text.charCodeAt(e - 1) === 32) e--;
      if (s === e) {
        this.reason = `${field} is missing`;
        return false;
      }
      if (!parseDecimalAscii(text, s, e, scratch)) {
        const value = text.slice(s, e);
        this.reason = /^[+-]?(nan|inf(inity)?)$/i.test(value) ? `${field} '${value}' is not finite` : `${field} '${value}' is not a number`;
        return false;
      }
      const problem = metricValueProblem(field, scratch.units, scratch.scale);
      if (problem !== null) {
        this.reason = problem;
        return false;
      }
      row.units[m] = scratch.units;
      row.scales[m] = scratch.scale;
    }
    row.serverId = text.slice(idStart, idEnd);
    row.instant = time.kind === 'time-of-day' ? this.rollover.place(time.ms) : time.ms;
    return true;
  }
}

/** Server ids seen, by their bytes: a row's id becomes the same string each time, without slicing one per row. */
class ServerIds {
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(512);
  /** Id `e` is spelled by pool[offsets[e], offsets[e + 1]). */
  offsets = new Int32Array(513);
  pool = new Uint8Array(8192);
  private readonly ids: string[] = [];
  /** Number of the id `lookup` last returned (ids are numbered 0, 1, ... as first seen); -1 when it returned null. */
  lastEntry = -1;
  /** follows[e]: the id found right after id e the last time e was found (-1 for none). */
  private follows = new Int32Array(512).fill(-1);

  /** The id likely to come next: the one that followed the last id found the last time (-1 for none). */
  predicted(): number {
    const last = this.lastEntry;
    return last >= 0 ? this.follows[last]! : -1;
  }

  /** Id `entry`, found by the caller (a predicted one it has checked). */
  take(entry: number): string {
    this.found(entry);
    return this.ids[entry]!;
  }

  private found(entry: number): void {
    if (this.lastEntry >= 0) this.follows[this.lastEntry] = entry;
    this.lastEntry = entry;
  }

  /** The id spelled by bytes[start, end) (hashed to `hash`), or null once too many ids are held. */
  lookup(bytes: Uint8Array, start: number, end: number, hash: number): string | null {
    const { slots, hashes, offsets, pool } = this;
    const mask = slots.length - 1;
    const length = end - start;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = slots[i]! - 1;
      if (entry < 0) break;
      if (hashes[entry] !== hash) continue;
      const at = offsets[entry]!;
      if (offsets[entry + 1]! - at !== length) continue;
      let k = 0;
      while (k < length && pool[at + k] === bytes[start + k]) k++;
      if (k === length) {
        this.found(entry);
        return this.ids[entry]!;
      }
    }
    return this.add(bytes, start, end, hash);
  }

  private add(bytes: Uint8Array, start: number, end: number, hash: number): string | null {
    const entry = this.ids.length;
    if (entry >= MAX_INTERNED_IDS) {
      this.lastEntry = -1;
      return null;
    }
    if (entry + 1 >= this.hashes.length) {
      this.hashes = grownArray(this.hashes, 0);
      this.offsets = grownArray(this.offsets, 0);
      this.follows = grownArray(this.follows, 0, -1);
    }
    const at = this.offsets[entry]!;
    if (at + end - start > this.pool.length) this.pool = grownArray(this.pool, at + end - start);
    this.pool.set(bytes.subarray(start, end), at);
    this.offsets[entry + 1] = at + end - start;
    this.hashes[entry] = hash;
    const id = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
    this.ids.push(id);
    this.found(entry);
    if (this.ids.length * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(entry);
    return id;
  }

  private place(entry: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = this.hashes[entry]! & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = entry + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let entry = 0; entry < this.ids.length; entry++) this.place(entry);
  }
}

/** Beyond this many distinct server ids, ids are sliced per row (memory stays bounded by the windows' keys). */
const MAX_INTERNED_IDS = 1 << 16;

/** True when text[start, end) is a valid server id (1-128 of A-Z a-z 0-9 _ . : -), checked without copying. */
function plainServerId(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > MAX_SERVER_ID_LENGTH) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45)) return false;
  }
  return true;
}

/**
 * The largest value of a metric that `parseBytes` accepts itself, read off
 * the validation rule: no bound, 100 (the percentages), or -1 (an unknown
 * rule: every such value goes to the full path).
 */
function fastUpperBound(field: MetricField): number {
  if (metricValueProblem(field, Number.MAX_SAFE_INTEGER, 0) === null) return Number.POSITIVE_INFINITY;
  if (metricValueProblem(field, 100, 0) === null && metricValueProblem(field, 10_000_000_000_001, 11) !== null) return 100;
  return -1;
}

const COMMA = 44;
const DOT = 46;
const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;
/** 1 for the bytes a server id may hold: A-Z a-z 0-9 _ . : - */
const ID_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) ID_BYTE[c] = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45 ? 1 : 0;
const ROLE_TIME = 1;
const ROLE_SERVER_ID = 2;
const ROLE_METRIC = 3;
const POW10: number[] = [];
for (let i = 0, p = 1; i <= 15; i++, p *= 10) POW10.push(p);

/** parseTimeOfDayAt of bytes[start, end). */
function timeOfDayBytes(bytes: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n !== 8 && n !== 7) return -1;
  const h = n === 8 ? digits2(bytes, start) : digit1(bytes, start);
  const o = start + n - 8;
  if (h < 0 || h > 23 || bytes[o + 2] !== 58 || bytes[o + 5] !== 58) return -1;
  const m = digits2(bytes, o + 3);
  const s = digits2(bytes, o + 6);
  if (m < 0 || m > 59 || s < 0 || s > 59) return -1;
  return (h * 3600 + m * 60 + s) * 1000;
}

function digit1(bytes: Buffer, at: number): number {
  const c = bytes[at]! - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

function digits2(bytes: Buffer, at: number): number {
  const a = digit1(bytes, at);
  const b = digit1(bytes, at + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function trimmed(text: string, start: number, end: number): string {
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  return text.slice(start, end);
}

/** Reads the header line of an input (skipping blank lines); null for an empty file. */
export async function readHeader(reader: { next(): string | null | undefined; fill(): Promise<void> }): Promise<string | null> {
  for (;;) {
    const line = reader.next();
    if (line === undefined) {
      await reader.fill();
      continue;
    }
    if (line === null) return null;
    if (line.trim() !== '') return line;
  }
}
