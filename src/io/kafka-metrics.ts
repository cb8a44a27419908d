// Server-metrics records on Kafka (SEMANTICS.md section 1): which topics
// carry which fields, how a validated CSV row becomes one JSON message per
// topic, and how a consumer turns such a message back into a CSV row.
//
// Numbers travel as the CSV's own decimal text, so nothing is lost or
// reformatted on the way (33.50 stays 33.50); only text that is a valid
// number for the jobs but not a JSON number (+5, .5, 5.) is written in its
// canonical decimal form. On the way back the raw JSON number text is
// copied, never parsed to a double and printed again.

import { formatUnits } from '../engine/decimal.ts';
import type { MetricField } from '../engine/metric-record.ts';
import { csvField, splitCsv } from './csv/fields.ts';
import type { MetricColumns, MetricRow } from './metric-csv.ts';

export interface MetricTopic {
  topic: string;
  fields: readonly MetricField[];
  /** CSV header of a file holding this topic. */
  header: string;
}

export const METRIC_TOPICS: readonly MetricTopic[] = [
  { topic: 'topic-cpu', fields: ['cpu_pct'], header: 'ts,server_id,cpu_pct' },
  { topic: 'topic-mem', fields: ['mem_pct'], header: 'ts,server_id,mem_pct' },
  { topic: 'topic-net', fields: ['net_in', 'net_out'], header: 'ts,server_id,net_in,net_out' },
  { topic: 'topic-disk', fields: ['disk_io'], header: 'ts,server_id,disk_io' },
];

/**
 * The whole record on one topic (`streamwatch simulate`): every field of
 * SEMANTICS.md section 1 in one JSON object. Not one of METRIC_TOPICS, which
 * the detectors read.
 */
export const SERVER_METRICS_TOPIC: MetricTopic = {
  topic: 'server-metrics',
  fields: ['cpu_pct', 'mem_pct', 'net_in', 'net_out', 'disk_io'],
  header: 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io',
};

export function metricTopic(name: string): MetricTopic | undefined {
  return METRIC_TOPICS.find((t) => t.topic === name);
}

/** One message to publish: the topic's index in `MetricEncoder.topics`, and the JSON value. */
export interface EncodedMessages {
  serverId: string;
  /** The time text as the file holds it (trimmed of spaces). */
  ts: string;
  values: string[];
}

/**
 * Turns rows validated by MetricRowParser into the per-topic JSON values.
 * Publishes every topic whose fields the input has (a cpu/mem-only file
 * feeds topic-cpu and topic-mem), out of `candidates` (default the four
 * per-metric topics).
 */
export class MetricEncoder {
  readonly topics: readonly MetricTopic[];
  private readonly columns: MetricColumns;
  /** For each topic, for each field: [column index, index in row.units]. */
  private readonly plan: Array<Array<{ name: string; column: number; metric: number }>>;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  readonly out: EncodedMessages = { serverId: '', ts: '', values: [] };

  constructor(columns: MetricColumns, candidates: readonly MetricTopic[] = METRIC_TOPICS) {
    this.columns = columns;
    this.topics = candidates.filter((t) => t.fields.every((f) => columns.metrics.some((m) => m.field === f)));
    this.plan = this.topics.map((t) => t.fields.map((name) => {
      const metric = columns.metrics.findIndex((m) => m.field === name);
      return { name, column: columns.metrics[metric]!.index, metric };
    }));
    this.starts = new Int32Array(columns.count);
    this.ends = new Int32Array(columns.count);
    this.out.values = this.topics.map(() => '');
  }

  /** Fills `this.out` for a row that MetricRowParser accepted: text[start, end) and the parsed row. */
  encode(text: string, start: number, end: number, row: MetricRow): EncodedMessages {
    let line = text;
    if (!this.split(text, start, end)) {
      // Quoted fields (rare): work on the unquoted values joined back together.
      const fields = splitCsv(text.slice(start, end));
      line = '';
      for (let i = 0; i < fields.length && i < this.columns.count; i++) {
        this.starts[i] = line.length;
        line += fields[i];
        this.ends[i] = line.length;
      }
    }
    const { starts, ends, columns, out } = this;
    const ts = trimmedSlice(line, starts[columns.time]!, ends[columns.time]!);
    const prefix = `{"ts":${jsonString(ts)},"server_id":${jsonString(row.serverId)}`;
    for (let t = 0; t < this.plan.length; t++) {
      let json = prefix;
      for (const { name, column, metric } of this.plan[t]!) {
        json += `,"${name}":${jsonNumber(line, starts[column]!, ends[column]!, row, metric)}`;
      }
      out.values[t] = json + '}';
    }
    out.serverId = row.serverId;
    out.ts = ts;
    return out;
  }

  /** Field offsets of an unquoted record; false when it holds a quote. */
  private split(text: string, start: number, end: number): boolean {
    const { starts, ends } = this;
    const max = this.columns.count;
    let field = 0;
    let from = start;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 44) {
        if (field < max) {
          starts[field] = from;
          ends[field] = i;
        }
        field++;
        from = i + 1;
      } else if (c === 34) return false;
    }
    if (field < max) {
      starts[field] = from;
      ends[field] = end;
    }
    return true;
  }
}

function trimmedSlice(text: string, start: number, end: number): string {
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  return text.slice(start, end);
}

/** The field's own text when it is a JSON number, else the parsed value's canonical decimal. */
function jsonNumber(text: string, start: number, end: number, row: MetricRow, metric: number): string {
  while (start < end && text.charCodeAt(start) === 32) start++;
  while (end > start && text.charCodeAt(end - 1) === 32) end--;
  if (isJsonNumber(text, start, end)) return text.slice(start, end);
  return formatUnits(row.units[metric]!, row.scales[metric]!);
}

/** JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
export function isJsonNumber(text: string, start: number, end: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === 45) i++;
  const intStart = i;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  if (i === intStart || (text.charCodeAt(intStart) === 48 && i - intStart > 1)) return false;
  if (i < end && text.charCodeAt(i) === 46) {
    const fracStart = ++i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === fracStart) return false;
  }
  if (i < end && (text.charCodeAt(i) | 32) === 101) {
    i++;
    if (i < end && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) i++;
    const expStart = i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === expStart) return false;
  }
  return i === end;
}

/** Characters a JSON number may hold: digits - + . e E */
function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// ---- The way back: a message value into a CSV row ----

export type DecodeResult = { ok: true; line: string } | { ok: false; reason: string };

/**
 * Reads a flat JSON object (`{"ts":"..","server_id":"..",<fields>}`) and
 * writes the topic's CSV row: ts, server_id, then the fields, numbers as
 * their JSON text. `timestamp` is accepted for `ts`. Extra keys are ignored;
 * a missing key, a wrong type or malformed JSON is a reason to reject.
 */
export class MetricDecoder {
  private readonly topic: MetricTopic;
  private readonly names: readonly string[];
  private readonly found: string[];
  private readonly have: boolean[];
  private readonly scanner = new FlatJson();
  /** Made once: the scanner calls it per member, so decoding allocates no closure. */
  private readonly visit: (key: string, kind: ValueKind, raw: string) => string | null;

  constructor(topic: MetricTopic) {
    this.topic = topic;
    this.names = ['ts', 'server_id', ...topic.fields];
    this.found = this.names.map(() => '');
    this.have = this.names.map(() => false);
    this.visit = (key, kind, raw) => {
      const slot = key === 'timestamp' ? 0 : this.names.indexOf(key);
      if (slot < 0) return null;
      if (slot <= 1) {
        if (kind !== 'string' && !(slot === 0 && kind === 'number')) return `${this.names[slot]} is not a string`;
      } else if (kind !== 'number') {
        return `${key} is not a number`;
      }
      if (key === 'timestamp' && this.have[0]) return null;
      this.found[slot] = raw;
      this.have[slot] = true;
      return null;
    };
  }

  decode(json: string): DecodeResult {
    const { found, have } = this;
    have.fill(false);
    const problem = this.scanner.scan(json, this.visit);
    if (problem !== null) return { ok: false, reason: problem };
    if (have.includes(false)) return { ok: false, reason: `missing ${this.names.filter((_, i) => !have[i]).join(', ')}` };
    // ts and server_id are text (quoted when needed); the rest are JSON number text, never quoted.
    let line = csvField(found[0]!) + ',' + csvField(found[1]!);
    for (let i = 2; i < found.length; i++) line += ',' + found[i]!;
    return { ok: true, line };
  }

  get header(): string {
    return this.topic.header;
  }
}

type ValueKind = 'string' | 'number' | 'other';

/** A strict scanner for one flat JSON object; nested values are skipped by JSON.parse of their text. */
class FlatJson {
  private text = '';
  private i = 0;

  /** Calls `visit` per member (strings decoded, numbers raw); returns the first problem or null. */
  scan(json: string, visit: (key: string, kind: ValueKind, raw: string) => string | null): string | null {
    this.text = json;
    this.i = 0;
    const text = json;
    this.space();
    if (text.charCodeAt(this.i) !== 123) return 'value is not a JSON object';
    this.i++;
    this.space();
    if (text.charCodeAt(this.i) === 125) {
      this.i++;
      return this.end();
    }
    for (;;) {
      this.space();
      const key = this.string();
      if (key === null) return 'malformed JSON: expected a member name';
      this.space();
      if (text.charCodeAt(this.i) !== 58) return 'malformed JSON: expected ":"';
      this.i++;
      this.space();
      const c = text.charCodeAt(this.i);
      let kind: ValueKind;
      let raw: string;
      if (c === 34) {
        const value = this.string();
        if (value === null) return 'malformed JSON: bad string';
        kind = 'string';
        raw = value;
      } else if (c === 45 || isDigit(c)) {
        const start = this.i;
        while (this.i < text.length && isNumberChar(text.charCodeAt(this.i))) this.i++;
        if (!isJsonNumber(text, start, this.i)) return `malformed JSON: bad number '${text.slice(start, this.i)}'`;
        kind = 'number';
        raw = text.slice(start, this.i);
      } else {
        const end = this.skipValue();
        if (end < 0) return 'malformed JSON: bad value';
        kind = 'other';
        raw = '';
      }
      const problem = visit(key, kind, raw);
      if (problem !== null) return problem;
      this.space();
      const sep = text.charCodeAt(this.i);
      this.i++;
      if (sep === 44) continue;
      if (sep === 125) return this.end();
      return 'malformed JSON: expected "," or "}"';
    }
  }

  private end(): string | null {
    this.space();
    return this.i === this.text.length ? null : 'malformed JSON: text after the object';
  }

  private space(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else return;
    }
  }

  private string(): string | null {
    const text = this.text;
    if (text.charCodeAt(this.i) !== 34) return null;
    const start = this.i + 1;
    let escaped = false;
    for (let j = start; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 92) {
        escaped = true;
        j++;
      } else if (c === 34) {
        this.i = j + 1;
        if (!escaped) return text.slice(start, j);
        try {
          return JSON.parse(text.slice(start - 1, j + 1)) as string;
        } catch {
          return null;
        }
      } else if (c < 32) {
        return null;
      }
    }
    return null;
  }

  /** Skips true/false/null/an array/an object; returns the end offset or -1. */
  private skipValue(): number {
    const text = this.text;
    const start = this.i;
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, start)) {
        this.i = start + word.length;
        return this.i;
      }
    }
    const open = text.charCodeAt(start);
    if (open !== 91 && open !== 123) return -1;
    // Find the matching bracket, respecting strings, then let JSON.parse judge the slice.
    let depth = 0;
    for (let j = start; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 34) {
        for (j++; j < text.length && text.charCodeAt(j) !== 34; j++) if (text.charCodeAt(j) === 92) j++;
      } else if (c === 91 || c === 123) depth++;
      else if (c === 93 || c === 125) {
        depth--;
        if (depth === 0) {
          try {
            JSON.parse(text.slice(start, j + 1));
          } catch {
            return -1;
          }
          this.i = j + 1;
          return this.i;
        }
      }
    }
    return -1;
  }
}
