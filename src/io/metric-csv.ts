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
import type { LineReader } from './csv/line-reader.ts';

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

  /** `timeKind` is shared by all inputs of one job. */
  private readonly todTime: ParsedTime = { kind: 'time-of-day', ms: 0 };

  private timeOfDay(ms: number): ParsedTime {
    this.todTime.ms = ms;
    return this.todTime;
  }

  constructor(columns: MetricColumns, timeKind: { kind: TimeKind | null }) {
    this.columns = columns;
    this.timeKind = timeKind;
    this.starts = new Int32Array(columns.count + 1);
    this.ends = new Int32Array(columns.count + 1);
    this.row = { serverId: '', instant: 0, units: columns.metrics.map(() => 0), scales: columns.metrics.map(() => 0) };
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

/** True when text[start, end) is a valid server id (1-128 of A-Z a-z 0-9 _ . : -), checked without copying. */
function plainServerId(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > MAX_SERVER_ID_LENGTH) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45)) return false;
  }
  return true;
}

function trimmed(text: string, start: number, end: number): string {
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  return text.slice(start, end);
}

/** Reads the header line of an input (skipping blank lines); null for an empty file. */
export async function readHeader(reader: LineReader): Promise<string | null> {
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
