// A reference implementation of SEMANTICS.md sections 1, 2, 3 and 6 for the
// two server-metrics batch jobs (cpu-mem, net-disk), written from the spec
// alone, as an independent check of the real engine. It is meant to be
// obviously correct, not fast: whole texts in memory, BigInt everywhere, no
// streaming, no cleverness. Spec sentences that drive a decision are quoted.
//
// Where the spec is silent the choice is marked "INTERPRETATION" and the
// black-box tests avoid depending on it.

// ---------------------------------------------------------------------------
// Exact decimals
// ---------------------------------------------------------------------------

/** value = units / 10^scale, exactly. */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_SYNTAX = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * "a number does not parse or is not finite": a plain decimal (optional sign,
 * digits, optional fraction, optional exponent) parses; NaN, Infinity, the
 * empty string, hex and anything else do not. A decimal literal is always
 * finite.
 */
export function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL_SYNTAX.exec(text);
  if (!match) return undefined;
  const [, sign = '', intDigits = '', fracDigits = '', exponentText] = match;
  if (intDigits === '' && fracDigits === '') return undefined;
  let units = BigInt((intDigits || '0') + fracDigits);
  if (sign === '-') units = -units;
  let scale = fracDigits.length - (exponentText === undefined ? 0 : Number(exponentText));
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units, scale };
}

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Compares two decimals exactly: negative, zero or positive like a - b. */
export function compareDecimals(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const left = a.units * pow10(scale - a.scale);
  const right = b.units * pow10(scale - b.scale);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** n / d rounded to an integer, halves away from zero ("half up (away from zero on .5)"). */
export function divideRoundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new Error('denominator must be positive');
  const magnitude = numerator < 0n ? -numerator : numerator;
  const rounded = (2n * magnitude + denominator) / (2n * denominator);
  return numerator < 0n ? -rounded : rounded;
}

/** The value rounded half up to 2 decimals, as an integer count of hundredths. */
export function roundToHundredths(value: Decimal): bigint {
  return divideRoundHalfAwayFromZero(value.units * 100n, pow10(value.scale));
}

/**
 * "exact decimal mean of the window's values, rounded half up (away from zero
 * on .5) to 2 decimals ... the mean of 10.005 and 10.005 is 10.01."
 */
export function meanHundredths(values: readonly Decimal[]): bigint {
  if (values.length === 0) throw new Error('mean of nothing');
  const scale = Math.max(...values.map((v) => v.scale));
  let sum = 0n;
  for (const v of values) sum += v.units * pow10(scale - v.scale);
  return divideRoundHalfAwayFromZero(sum * 100n, BigInt(values.length) * pow10(scale));
}

/** "the maxima, rounded half up to 2 decimals." */
export function maxHundredths(values: readonly Decimal[]): bigint {
  if (values.length === 0) throw new Error('max of nothing');
  let best = values[0] as Decimal;
  for (const v of values) if (compareDecimals(v, best) > 0) best = v;
  return roundToHundredths(best);
}

/**
 * "Numbers print as the shortest decimal of the rounded value with at least
 * one fractional digit: 45.32, 57.9, 60.0, 0.0."
 */
export function formatHundredths(hundredths: bigint): string {
  const negative = hundredths < 0n;
  const magnitude = negative ? -hundredths : hundredths;
  let fraction = (magnitude % 100n).toString().padStart(2, '0');
  if (fraction.endsWith('0')) fraction = fraction.slice(0, 1);
  return `${negative ? '-' : ''}${magnitude / 100n}.${fraction}`;
}

/** "comparing the rounded values with the thresholds ..., strictly greater". */
export function exceedsThreshold(hundredths: bigint, threshold: Decimal): boolean {
  return compareDecimals({ units: hundredths, scale: 2 }, threshold) > 0;
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

export const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_DAY = 86_400n * NS_PER_SECOND;
const TWELVE_HOURS = NS_PER_DAY / 2n;

export type ParsedTime =
  | { readonly kind: 'time-of-day'; readonly nanosOfDay: bigint }
  | { readonly kind: 'absolute'; readonly epochNanos: bigint };

const TIME_OF_DAY = /^(\d{2}):(\d{2}):(\d{2})$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const EPOCH_SECONDS = /^(\d+)(?:\.(\d+))?$/;

/** Nanoseconds from a fraction's digits; INTERPRETATION: digits beyond 9 are cut. */
function fractionNanos(digits: string | undefined): bigint {
  return BigInt((digits ?? '').slice(0, 9).padEnd(9, '0'));
}

/**
 * "HH:MM:SS is a time of day." "An ISO-8601 date-time (with Z or an offset)
 * or a number (epoch seconds, fractions allowed) is an absolute instant."
 */
export function parseTime(text: string): ParsedTime | undefined {
  let match = TIME_OF_DAY.exec(text);
  if (match) {
    const [hours, minutes, seconds] = match.slice(1, 4).map(Number) as [number, number, number];
    if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
    return { kind: 'time-of-day', nanosOfDay: BigInt(hours * 3600 + minutes * 60 + seconds) * NS_PER_SECOND };
  }
  match = ISO_DATE_TIME.exec(text);
  if (match) {
    const [year, month, day, hours, minutes, seconds] = match.slice(1, 7).map(Number) as
      [number, number, number, number, number, number];
    const fraction = match[7];
    const zone = match[8] as string;
    if (month < 1 || month > 12 || hours > 23 || minutes > 59 || seconds > 59) return undefined;
    const date = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
    let offsetMinutes = 0;
    if (zone !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      const offsetHours = Number(digits.slice(0, 2));
      const offsetMins = Number(digits.slice(2, 4));
      if (offsetHours > 23 || offsetMins > 59) return undefined;
      offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMins);
    }
    // local = UTC + offset, so UTC = local - offset.
    const epochNanos = BigInt(date.getTime()) * 1_000_000n + fractionNanos(fraction)
      - BigInt(offsetMinutes) * 60n * NS_PER_SECOND;
    return { kind: 'absolute', epochNanos };
  }
  match = EPOCH_SECONDS.exec(text);
  if (match) {
    return { kind: 'absolute', epochNanos: BigInt(match[1] as string) * NS_PER_SECOND + fractionNanos(match[2]) };
  }
  return undefined;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * "Within one input (one file, or one topic partition), a time of day more
 * than 12 hours earlier than the latest one seen so far belongs to the next
 * day (a replay that crosses midnight)."
 *
 * The first time of day of an input is on day 0 (instant = nanoseconds since
 * that midnight). A later one is placed on the day of the latest instant seen
 * so far, and moved to the next day when that puts it more than 12 h before
 * the latest. INTERPRETATION (spec silent): when that puts it more than 12 h
 * after the latest (23:59:55 arriving after 00:00:10 of the next day), it is
 * moved to the previous day, i.e. every time of day lands within 12 h of the
 * latest. INTERPRETATION: only accepted rows count as "seen".
 */
export class DayResolver {
  private latest: bigint | undefined;

  resolve(nanosOfDay: bigint): bigint {
    if (this.latest === undefined) return nanosOfDay;
    let instant = floorDiv(this.latest, NS_PER_DAY) * NS_PER_DAY + nanosOfDay;
    if (instant < this.latest - TWELVE_HOURS) instant += NS_PER_DAY;
    else if (instant > this.latest + TWELVE_HOURS) instant -= NS_PER_DAY;
    return instant;
  }

  accept(instant: bigint): void {
    if (this.latest === undefined || instant > this.latest) this.latest = instant;
  }
}

/**
 * "Outputs of a time-of-day input print times as HH:MM:SS again." (modulo
 * 24 h), "Outputs print such times as ISO 8601 UTC with milliseconds".
 */
export function formatInstant(instant: bigint, kind: ParsedTime['kind']): string {
  if (kind === 'absolute') return new Date(Number(floorDiv(instant, 1_000_000n))).toISOString();
  const secondsOfDay = Number(((floorDiv(instant, NS_PER_SECOND) % 86_400n) + 86_400n) % 86_400n);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(secondsOfDay / 3600))}:${pad(Math.floor(secondsOfDay / 60) % 60)}:${pad(secondsOfDay % 60)}`;
}

// ---------------------------------------------------------------------------
// Natural order of keys
// ---------------------------------------------------------------------------

/**
 * "server_2 before server_10: compare the text before a trailing number, then
 * the number". Text compares by UTF-16 code units. INTERPRETATION: a key
 * without a trailing number sorts before the same text with one; equal
 * (text, number) pairs (server_02, server_2) fall back to the whole string.
 */
export function naturalCompare(a: string, b: string): number {
  const split = (key: string): { text: string; number: bigint | undefined } => {
    const match = /^(.*?)(\d+)$/s.exec(key);
    return match ? { text: match[1] as string, number: BigInt(match[2] as string) } : { text: key, number: undefined };
  };
  const left = split(a);
  const right = split(b);
  if (left.text !== right.text) return left.text < right.text ? -1 : 1;
  if (left.number !== right.number) {
    if (left.number === undefined) return -1;
    if (right.number === undefined) return 1;
    return left.number < right.number ? -1 : 1;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

// ---------------------------------------------------------------------------
// Reading records
// ---------------------------------------------------------------------------

export type Metric = 'cpu_pct' | 'mem_pct' | 'net_in' | 'net_out' | 'disk_io';
const METRICS: readonly Metric[] = ['cpu_pct', 'mem_pct', 'net_in', 'net_out', 'disk_io'];
const PERCENT_METRICS: ReadonlySet<Metric> = new Set(['cpu_pct', 'mem_pct']);

export interface ReferenceInput {
  /** The input path as given on the command line (the rejects' `source`). */
  readonly source: string;
  readonly text: string;
}

export interface RejectRow {
  readonly source: string;
  readonly line: number;
  readonly reason: string;
  readonly record: string;
}

export interface AcceptedRow {
  readonly serverId: string;
  readonly instant: bigint;
  readonly values: ReadonlyMap<Metric, Decimal>;
  readonly line: number;
}

export interface ParsedInput {
  readonly rows: AcceptedRow[];
  readonly rejects: RejectRow[];
  /** Data lines read: every non-blank line after the header, accepted or not. */
  readonly read: number;
  readonly timeKind: ParsedTime['kind'] | undefined;
}

/** The user error of a header without a column the job needs (the CLI exits 1). */
export class ReferenceInputError extends Error {}

const SERVER_ID_CHARACTERS = /^[A-Za-z0-9_.:-]+$/;

/**
 * Reads one input (combined CSV or a per-topic CSV). "columns found by name,
 * in any order; timestamp is an alias of ts". Every recognised column of the
 * header is validated (a combined row with a negative net_in is rejected by
 * cpu-mem too); INTERPRETATION: unrecognised columns are ignored.
 */
export function parseMetricsCsv(input: ReferenceInput, required: readonly Metric[]): ParsedInput {
  const lines = input.text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const headerLine = (lines[0] ?? '').replace(/\r$/, '');
  const header = headerLine.split(',');
  const timeColumn = header.indexOf('ts') >= 0 ? header.indexOf('ts') : header.indexOf('timestamp');
  const serverColumn = header.indexOf('server_id');
  const metricColumns = METRICS.map((metric) => [metric, header.indexOf(metric)] as const).filter(([, i]) => i >= 0);
  const missing = [
    ...(timeColumn < 0 ? ['ts'] : []),
    ...(serverColumn < 0 ? ['server_id'] : []),
    ...required.filter((metric) => !header.includes(metric)),
  ];
  if (missing.length > 0) throw new ReferenceInputError(`${input.source}: header lacks ${missing.join(', ')}`);

  const resolver = new DayResolver();
  const rows: AcceptedRow[] = [];
  const rejects: RejectRow[] = [];
  const kinds = new Set<ParsedTime['kind']>();
  let read = 0;
  for (let index = 1; index < lines.length; index++) {
    const record = (lines[index] as string).replace(/\r$/, '');
    const line = index + 1; // "line = 1-based line number counting the header as line 1"
    // "Blank lines are skipped silently."
    if (record.trim() === '') continue;
    read++;
    const reject = (reason: string): void => {
      rejects.push({ source: input.source, line, reason, record });
    };
    const fields = record.split(',');
    // "a field is missing or extra"
    if (fields.length !== header.length) {
      reject(`expected ${header.length} fields, found ${fields.length}`);
      continue;
    }
    // "the time does not parse"
    const time = parseTime(fields[timeColumn] as string);
    if (!time) {
      reject('time does not parse');
      continue;
    }
    // "server_id is empty or longer than 128 characters or holds characters
    // outside A-Z a-z 0-9 _ . : -"
    const serverId = fields[serverColumn] as string;
    if (serverId.length === 0 || serverId.length > 128 || !SERVER_ID_CHARACTERS.test(serverId)) {
      reject('bad server_id');
      continue;
    }
    const values = new Map<Metric, Decimal>();
    let problem: string | undefined;
    for (const [metric, column] of metricColumns) {
      const value = parseDecimal(fields[column] as string);
      // "a number does not parse or is not finite"
      if (!value) {
        problem = `${metric} is not a number`;
        break;
      }
      // "cpu_pct or mem_pct is outside [0, 100], or net_in, net_out, disk_io is negative"
      if (value.units < 0n || (PERCENT_METRICS.has(metric) && compareDecimals(value, { units: 100n, scale: 0 }) > 0)) {
        problem = `${metric} out of range`;
        break;
      }
      values.set(metric, value);
    }
    if (problem !== undefined) {
      reject(problem);
      continue;
    }
    kinds.add(time.kind);
    let instant: bigint;
    if (time.kind === 'time-of-day') {
      instant = resolver.resolve(time.nanosOfDay);
      resolver.accept(instant);
    } else {
      instant = time.epochNanos;
    }
    rows.push({ serverId, instant, values, line });
  }
  if (kinds.size > 1) throw new Error(`reference: ${input.source} mixes times of day and absolute times (undefined by the spec)`);
  const [timeKind] = [...kinds];
  return { rows, rejects, read, timeKind };
}

// ---------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------

export type JobName = 'cpu-mem' | 'net-disk';

interface JobDefinition {
  readonly metrics: readonly [Metric, Metric];
  readonly aggregate: (values: readonly Decimal[]) => bigint;
  readonly defaultThresholds: readonly [string, string];
  readonly alerts: { readonly both: string; readonly first: string; readonly second: string };
  readonly header: readonly string[];
  /** Per-topic files: the column each of the two files must have for this job. */
  readonly topicMetrics: readonly [readonly Metric[], readonly Metric[]];
}

export const JOBS: Readonly<Record<JobName, JobDefinition>> = {
  'cpu-mem': {
    metrics: ['cpu_pct', 'mem_pct'],
    aggregate: meanHundredths,
    defaultThresholds: ['83.45', '78.92'],
    alerts: { both: 'High CPU + Memory stress', first: 'CPU spike suspected', second: 'Memory saturation suspected' },
    header: ['server_id', 'window_start', 'window_end', 'avg_cpu', 'avg_mem', 'alert'],
    topicMetrics: [['cpu_pct'], ['mem_pct']],
  },
  'net-disk': {
    metrics: ['net_in', 'disk_io'],
    aggregate: maxHundredths,
    defaultThresholds: ['4149.79', '1925.47'],
    alerts: { both: 'Network flood + Disk thrash suspected', first: 'Possible DDoS', second: 'Disk thrash suspected' },
    header: ['server_id', 'window_start', 'window_end', 'max_net_in', 'max_disk_io', 'alert'],
    topicMetrics: [['net_in'], ['disk_io']],
  },
};

export const INCIDENTS_HEADER = ['detector', 'key', 'alert', 'start', 'end', 'windows', 'peak'] as const;
export const REJECTS_HEADER = ['source', 'line', 'reason', 'record'] as const;

/** "Windows S = 30 s, H = 10 s." */
export const WINDOW_SIZE = 30n * NS_PER_SECOND;
export const WINDOW_SLIDE = 10n * NS_PER_SECOND;

export type ReferenceSource =
  | { readonly kind: 'combined'; readonly input: ReferenceInput }
  /** cpu-mem: first = cpu, second = mem; net-disk: first = net, second = disk. */
  | { readonly kind: 'topics'; readonly first: ReferenceInput; readonly second: ReferenceInput };

export interface ReferenceOptions {
  readonly trimLeading?: boolean;
  /** Decimal texts; default the job's. */
  readonly thresholds?: readonly [string, string];
}

export interface ReferenceWindow {
  readonly serverId: string;
  readonly start: bigint;
  readonly first: bigint; // hundredths
  readonly second: bigint; // hundredths
  readonly alert: string;
}

export interface ReferenceResult {
  readonly header: readonly string[];
  readonly rows: string[][];
  readonly incidents: string[][];
  readonly rejects: RejectRow[];
  readonly read: number;
  readonly windows: ReferenceWindow[];
}

interface JoinedEvent {
  readonly serverId: string;
  readonly instant: bigint;
  readonly first: Decimal;
  readonly second: Decimal;
}

export function runReferenceJob(job: JobName, source: ReferenceSource, options: ReferenceOptions = {}): ReferenceResult {
  const definition = JOBS[job];
  const [firstMetric, secondMetric] = definition.metrics;
  const thresholds = (options.thresholds ?? definition.defaultThresholds).map((text) => {
    const value = parseDecimal(text);
    if (!value) throw new Error(`bad threshold ${text}`);
    return value;
  }) as [Decimal, Decimal];

  // Read, then de-duplicate. "For each metric, one value per (server_id,
  // instant). A later record for the same key replaces the earlier one."
  const parsed = source.kind === 'combined'
    ? [parseMetricsCsv(source.input, definition.metrics)]
    : [parseMetricsCsv(source.first, definition.topicMetrics[0]), parseMetricsCsv(source.second, definition.topicMetrics[1])];
  const kinds = new Set(parsed.map((p) => p.timeKind).filter((k) => k !== undefined));
  if (kinds.size > 1) throw new Error('reference: inputs mix times of day and absolute times (undefined by the spec)');
  const timeKind: ParsedTime['kind'] = [...kinds][0] ?? 'time-of-day';

  const latestValues = new Map<string, { serverId: string; instant: bigint; values: Map<Metric, Decimal> }>();
  for (const input of parsed) {
    for (const row of input.rows) {
      const key = `${row.serverId}\u0000${row.instant}`;
      let entry = latestValues.get(key);
      if (!entry) {
        entry = { serverId: row.serverId, instant: row.instant, values: new Map() };
        latestValues.set(key, entry);
      }
      for (const [metric, value] of row.values) entry.values.set(metric, value);
    }
  }

  // "Inner join of cpu and mem records on (server_id, instant): an instant
  // with only one of the two counts for neither average."
  const events: JoinedEvent[] = [];
  for (const entry of latestValues.values()) {
    const first = entry.values.get(firstMetric);
    const second = entry.values.get(secondMetric);
    if (first && second) events.push({ serverId: entry.serverId, instant: entry.instant, first, second });
  }

  // "An event at instant t belongs to every window [w, w+S) with w <= t < w+S"
  // where "Window starts are the multiples of H counted from the epoch (for a
  // time of day: from midnight)".
  const windowEvents = new Map<string, { serverId: string; start: bigint; events: JoinedEvent[] }>();
  const firstEventTime = new Map<string, bigint>();
  for (const event of events) {
    const previous = firstEventTime.get(event.serverId);
    if (previous === undefined || event.instant < previous) firstEventTime.set(event.serverId, event.instant);
    const lastStart = floorDiv(event.instant, WINDOW_SLIDE) * WINDOW_SLIDE;
    for (let start = lastStart; start > event.instant - WINDOW_SIZE; start -= WINDOW_SLIDE) {
      const key = `${event.serverId}\u0000${start}`;
      let window = windowEvents.get(key);
      if (!window) {
        window = { serverId: event.serverId, start, events: [] };
        windowEvents.set(key, window);
      }
      window.events.push(event);
    }
  }

  const windows: ReferenceWindow[] = [];
  for (const window of windowEvents.values()) {
    // "--trim-leading: per key, windows that start before the key's first
    // event time (its earliest instant that survives validation and the
    // join) rounded down to a multiple of H are not reported."
    if (options.trimLeading) {
      const firstTime = firstEventTime.get(window.serverId) as bigint;
      if (window.start < floorDiv(firstTime, WINDOW_SLIDE) * WINDOW_SLIDE) continue;
    }
    const first = definition.aggregate(window.events.map((e) => e.first));
    const second = definition.aggregate(window.events.map((e) => e.second));
    const overFirst = exceedsThreshold(first, thresholds[0]);
    const overSecond = exceedsThreshold(second, thresholds[1]);
    const alert = overFirst && overSecond ? definition.alerts.both
      : overFirst ? definition.alerts.first
        : overSecond ? definition.alerts.second
          : '';
    windows.push({ serverId: window.serverId, start: window.start, first, second, alert });
  }
  // "Rows sorted by server_id in natural order ..., then by window start in time order."
  windows.sort((a, b) => naturalCompare(a.serverId, b.serverId) || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

  const rows = windows.map((w) => [
    w.serverId,
    formatInstant(w.start, timeKind),
    formatInstant(w.start + WINDOW_SIZE, timeKind),
    formatHundredths(w.first),
    formatHundredths(w.second),
    w.alert,
  ]);

  const incidents = groupIncidents(job, windows).map((incident) => [
    job,
    incident.serverId,
    incident.alert,
    formatInstant(incident.start, timeKind),
    formatInstant(incident.end, timeKind),
    String(incident.windows),
    formatHundredths(incident.peak),
  ]);

  return {
    header: definition.header,
    rows,
    incidents,
    rejects: parsed.flatMap((p) => p.rejects),
    read: parsed.reduce((n, p) => n + p.read, 0),
    windows,
  };
}

export interface ReferenceIncident {
  readonly serverId: string;
  readonly alert: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly windows: number;
  readonly peak: bigint;
}

/**
 * "An incident groups, per detector, key and alert text, the alerting windows
 * that overlap or touch into one record ... start is the first window's
 * start, end the last window's end, windows the number of windows grouped,
 * and peak the highest reported value of the metric that crossed its
 * threshold (for the two-metric detectors: cpu for the cpu alerts, mem for
 * 'Memory saturation suspected', net for the net alerts, disk for 'Disk
 * thrash suspected')." Only reported windows take part (so --trim-leading
 * applies to incidents as well).
 */
export function groupIncidents(job: JobName, windows: readonly ReferenceWindow[]): ReferenceIncident[] {
  const { alerts } = JOBS[job];
  const peakOfFirstMetric = new Set([alerts.both, alerts.first]);
  const byKeyAndAlert = new Map<string, ReferenceWindow[]>();
  for (const window of windows) {
    if (window.alert === '') continue;
    const key = `${window.serverId}\u0000${window.alert}`;
    const group = byKeyAndAlert.get(key);
    if (group) group.push(window);
    else byKeyAndAlert.set(key, [window]);
  }
  const incidents: ReferenceIncident[] = [];
  for (const group of byKeyAndAlert.values()) {
    group.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let current: { serverId: string; alert: string; start: bigint; end: bigint; windows: number; peak: bigint } | undefined;
    for (const window of group) {
      const value = peakOfFirstMetric.has(window.alert) ? window.first : window.second;
      const end = window.start + WINDOW_SIZE;
      // "overlap or touch": the next window starts at or before the group's end.
      if (current && window.start <= current.end) {
        current.end = end > current.end ? end : current.end;
        current.windows++;
        if (value > current.peak) current.peak = value;
      } else {
        if (current) incidents.push(current);
        current = { serverId: window.serverId, alert: window.alert, start: window.start, end, windows: 1, peak: value };
      }
    }
    if (current) incidents.push(current);
  }
  // "sorted by detector, key (natural), start, alert" (one detector here).
  incidents.sort((a, b) => naturalCompare(a.serverId, b.serverId)
    || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)
    || (a.alert < b.alert ? -1 : a.alert > b.alert ? 1 : 0));
  return incidents;
}

// ---------------------------------------------------------------------------
// CSV (RFC 4180) for reading the CLI's outputs and writing expected ones
// ---------------------------------------------------------------------------

/** Parses RFC 4180 text into records of fields; accepts LF or CRLF; a final line break is optional. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      fieldStarted = false;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new Error('unterminated quoted field');
  if (fieldStarted || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** One RFC 4180 line: "a field is quoted only when it holds a comma, a quote or a line break". */
export function formatCsvLine(fields: readonly string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}
