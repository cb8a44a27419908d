// Turns Kafka records of the topics the sink knows into table rows, or into
// a reject with a reason. Which table a topic feeds is told by its name
// (`topic-cpu`, `nginx-logs`, `alerts-cpu-mem`, `incidents`, ...) or given
// as `name=kind` for topics named otherwise.
//
// Times of day are placed on one timeline (DayRollover) shared by every
// topic and partition the sink reads. The detectors keep one per partition,
// but a sparse partition (incidents, a quiet server) whose first message
// comes after midnight would land on the first day; the shared timeline has
// already been carried past midnight by the busier inputs. The timeline is
// part of the sink's state and is saved in
// the same transaction as the rows (see migrations.ts).
import { createHash } from 'node:crypto';
import { formatUnits, parseDecimal } from '../../engine/decimal.ts';
import { parseMetricMessage } from '../../engine/metric-message.ts';
import { METRIC_FIELDS, type MetricField } from '../../engine/metric-record.ts';
import { DAY_MS, DayRollover, parseTime } from '../../engine/time.ts';
import { parseNginxLine } from '../parsers/nginx.ts';
import { UsageError } from '../../errors.ts';
import { sqlText } from './batch.ts';

export const WINDOW_VALUES = ['avg_cpu', 'avg_mem', 'max_net_in', 'max_disk_io', 'count', 'avg_request_time'] as const;
export type WindowValue = (typeof WINDOW_VALUES)[number];

interface WindowDetector {
  keyField: 'server_id' | 'client_ip' | 'host' | 'country';
  values: readonly WindowValue[];
}

const WINDOW_DETECTORS: Record<string, WindowDetector> = {
  'cpu-mem': { keyField: 'server_id', values: ['avg_cpu', 'avg_mem'] },
  'net-disk': { keyField: 'server_id', values: ['max_net_in', 'max_disk_io'] },
  'ip-burst': { keyField: 'client_ip', values: ['count'] },
  'host-4xx': { keyField: 'host', values: ['count'] },
  'country-success': { keyField: 'country', values: ['count'] },
  'host-latency': { keyField: 'host', values: ['avg_request_time'] },
};

const METRIC_KINDS: Record<string, readonly MetricField[]> = {
  cpu: ['cpu_pct'],
  mem: ['mem_pct'],
  net: ['net_in', 'net_out'],
  disk: ['disk_io'],
};

/** Kinds a topic may be given with `name=kind`. */
export const TOPIC_KINDS = [...Object.keys(METRIC_KINDS), 'server-metrics', 'nginx', ...Object.keys(WINDOW_DETECTORS), 'incidents'] as const;

/** The kind of each topic of SEMANTICS.md under its default name. */
export const DEFAULT_TOPIC_KINDS: Record<string, string> = {
  'topic-cpu': 'cpu',
  'topic-mem': 'mem',
  'topic-net': 'net',
  'topic-disk': 'disk',
  'server-metrics': 'server-metrics',
  'nginx-logs': 'nginx',
  'alerts-cpu-mem': 'cpu-mem',
  'alerts-net-disk': 'net-disk',
  'goal1-topic': 'ip-burst',
  'goal2-topic': 'host-4xx',
  'goal3-topic': 'country-success',
  'goal4-topic': 'host-latency',
  incidents: 'incidents',
};

export interface TopicSpec {
  topic: string;
  kind: string;
}

/** Parses `--topics a,b=kind,...`. */
export function parseTopicSpecs(text: string): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const topic = eq < 0 ? item : item.slice(0, eq);
    const kind = eq < 0 ? DEFAULT_TOPIC_KINDS[topic] : item.slice(eq + 1);
    if (kind === undefined) throw new UsageError(`--topics: the kind of '${topic}' is unknown; write ${topic}=KIND with KIND one of ${TOPIC_KINDS.join(', ')}`);
    if (!(TOPIC_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--topics: unknown kind '${kind}' (one of ${TOPIC_KINDS.join(', ')})`);
    specs.push({ topic, kind });
  }
  if (specs.length === 0) throw new UsageError('--topics: empty list');
  return specs;
}

export interface SourceRecord {
  topic: string;
  partition: number;
  offset: number;
  value: Buffer | null;
}

export interface MetricRow {
  serverId: string;
  /** Epoch ms (times of day on the reference date, see migrations.ts). */
  ts: number;
  values: Partial<Record<MetricField, string>>;
}

export interface EventRow {
  eventId: string;
  ts: number;
  clientIp: string;
  host: string | null;
  country: string;
  method: string;
  status: number;
  requestTime: string | null;
  server: string | null;
  request: string | null;
  raw: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface WindowResultRow {
  detector: string;
  key: string;
  windowStart: number;
  windowEnd: number;
  alert: string;
  values: Partial<Record<WindowValue, string>>;
  topic: string;
}

export interface IncidentRow {
  detector: string;
  key: string;
  alert: string;
  start: number;
  end: number;
  windows: number;
  peak: string | null;
  state: string;
  topic: string;
}

export type Decoded =
  | { table: 'metrics'; row: MetricRow }
  | { table: 'events'; row: EventRow }
  | { table: 'windows'; row: WindowResultRow }
  | { table: 'incidents'; row: IncidentRow }
  | { table: 'rejects'; reason: string };

export interface TimelineState {
  topic: string;
  partition: number;
  latestMs: number;
}

/** Stable id of an NGINX event: the first 128 bits of SHA-256 of the message, so the same event sent twice is one row. */
export function eventId(raw: string): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

/** The request line or path of an event, for free-text search: JSON `request`/`path`/`uri`/`request_uri`/`url`, or the quoted request of a combined line. */
function requestText(raw: string): string | null {
  const start = raw.trimStart();
  if (start.startsWith('{')) {
    const record = JSON.parse(start) as Record<string, unknown>;
    for (const name of ['request', 'path', 'uri', 'request_uri', 'url']) {
      const value = record[name];
      if (typeof value === 'string') return value;
    }
    return null;
  }
  const match = /\] "((?:[^"\\]|\\.)*)"/.exec(raw);
  return match ? match[1] ?? null : null;
}

/** A decimal given as a JSON number or string, as exact text; null when it is not one. */
function decimalText(value: unknown): string | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim() : '';
  const parsed = parseDecimal(text);
  return parsed === null ? null : formatUnits(parsed.units, parsed.scale);
}

export class RecordDecoder {
  private readonly kinds: Map<string, string>;
  private readonly timelines = new Map<string, DayRollover>();
  private readonly touched = new Set<string>();

  constructor(specs: readonly TopicSpec[]) {
    this.kinds = new Map(specs.map((s) => [s.topic, s.kind]));
  }

  /** Timelines saved by an earlier run (the latest of them, should there be several). */
  restore(states: readonly TimelineState[]): void {
    const latest = Math.max(...states.map((s) => s.latestMs));
    if (Number.isFinite(latest)) this.timeline().restore(latest);
    this.touched.clear();
  }

  /** Timelines changed since the last call (to save with the batch). */
  takeChangedTimelines(): TimelineState[] {
    const changed: TimelineState[] = [];
    for (const key of this.touched) {
      const latest = this.timelines.get(key)!.snapshot();
      if (!Number.isFinite(latest)) continue;
      const at = key.lastIndexOf(':');
      changed.push({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)), latestMs: latest });
    }
    this.touched.clear();
    return changed;
  }

  decode(record: SourceRecord): Decoded {
    const kind = this.kinds.get(record.topic);
    if (kind === undefined) return { table: 'rejects', reason: `topic ${record.topic} is not one the sink reads` };
    if (record.value === null) return { table: 'rejects', reason: 'message has no value' };
    const raw = record.value.toString('utf8');
    try {
      return this.decodeKind(kind, raw, record);
    } catch (error) {
      return { table: 'rejects', reason: (error as Error).message };
    }
  }

  /** The shared timeline, saved under topic `*`, partition -1. */
  private timeline(): DayRollover {
    const key = '*:-1';
    let timeline = this.timelines.get(key);
    if (!timeline) {
      timeline = new DayRollover();
      this.timelines.set(key, timeline);
    }
    this.touched.add(key);
    return timeline;
  }

  private decodeKind(kind: string, raw: string, record: SourceRecord): Decoded {
    const fields = METRIC_KINDS[kind];
    if (fields !== undefined || kind === 'server-metrics') return this.decodeMetric(fields, raw);
    if (kind === 'nginx') return this.decodeEvent(raw, record);
    if (kind === 'incidents') return this.decodeIncident(raw, record);
    return this.decodeWindow(kind, raw, record);
  }

  private decodeMetric(fields: readonly MetricField[] | undefined, raw: string): Decoded {
    let wanted = fields;
    if (wanted === undefined) {
      // server-metrics: whichever metrics the message carries (at least one).
      const object = parseObject(raw);
      if (typeof object === 'string') return { table: 'rejects', reason: object };
      wanted = METRIC_FIELDS.filter((f) => object[f] !== undefined && object[f] !== null);
      if (wanted.length === 0) return { table: 'rejects', reason: `no metric field (${METRIC_FIELDS.join(', ')})` };
    }
    const result = parseMetricMessage(raw, wanted, this.timeline());
    if (!result.ok) return { table: 'rejects', reason: result.reason };
    const values: Partial<Record<MetricField, string>> = {};
    wanted.forEach((field, i) => {
      values[field] = formatUnits(result.message.units[i]!, result.message.scales[i]!);
    });
    return { table: 'metrics', row: { serverId: result.message.serverId, ts: result.message.instant, values } };
  }

  private decodeEvent(raw: string, record: SourceRecord): Decoded {
    const parsed = parseNginxLine(raw);
    if (!parsed.ok) return { table: 'rejects', reason: parsed.reason };
    const e = parsed.event;
    return {
      table: 'events',
      row: {
        eventId: eventId(raw),
        ts: e.instant,
        clientIp: e.clientIp,
        host: e.host,
        country: e.country,
        method: e.method,
        status: e.status,
        requestTime: e.requestTime === null ? null : formatUnits(e.requestTime.units, e.requestTime.scale),
        server: e.server,
        request: requestText(raw),
        raw,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      },
    };
  }

  /** Start and end of a window or incident; an end given as a time of day follows its start. */
  private span(object: Record<string, unknown>, startName: string, endName: string): [number, number] | string {
    const startText = object[startName];
    const endText = object[endName];
    if (typeof startText !== 'string' && typeof startText !== 'number') return `${startName} is missing`;
    if (typeof endText !== 'string' && typeof endText !== 'number') return `${endName} is missing`;
    const start = parseTime(String(startText));
    const end = parseTime(String(endText));
    if (start === null) return `${startName} ${JSON.stringify(startText)} does not parse`;
    if (end === null || end.kind !== start.kind) return `${endName} ${JSON.stringify(endText)} does not parse as the same kind of time as ${startName}`;
    if (start.kind === 'absolute') return [start.ms, end.ms];
    const placed = this.timeline().place(start.ms);
    return [placed, placed + ((((end.ms - start.ms) % DAY_MS) + DAY_MS) % DAY_MS)];
  }

  private decodeWindow(detector: string, raw: string, record: SourceRecord): Decoded {
    const spec = WINDOW_DETECTORS[detector]!;
    const object = parseObject(raw);
    if (typeof object === 'string') return { table: 'rejects', reason: object };
    const key = object[spec.keyField];
    if (typeof key !== 'string' || key === '') return { table: 'rejects', reason: `${spec.keyField} is missing` };
    const alert = object.alert ?? '';
    if (typeof alert !== 'string') return { table: 'rejects', reason: 'alert is not a string' };
    const values: Partial<Record<WindowValue, string>> = {};
    for (const name of spec.values) {
      const text = decimalText(object[name]);
      if (text === null) return { table: 'rejects', reason: `${name} ${JSON.stringify(object[name] ?? null)} is not a number` };
      if (name === 'count' && !/^\d+\.0$/.test(text)) return { table: 'rejects', reason: `count ${text} is not a whole number` };
      values[name] = name === 'count' ? text.slice(0, -2) : text;
    }
    const span = this.span(object, 'window_start', 'window_end');
    if (typeof span === 'string') return { table: 'rejects', reason: span };
    return { table: 'windows', row: { detector, key: sqlText(key), windowStart: span[0], windowEnd: span[1], alert: sqlText(alert), values, topic: record.topic } };
  }

  private decodeIncident(raw: string, record: SourceRecord): Decoded {
    const object = parseObject(raw);
    if (typeof object === 'string') return { table: 'rejects', reason: object };
    for (const name of ['detector', 'key', 'alert'] as const) {
      if (typeof object[name] !== 'string' || (name !== 'alert' && object[name] === '')) return { table: 'rejects', reason: `${name} is missing` };
    }
    const windows = Number(object.windows);
    if (!Number.isInteger(windows) || windows < 1) return { table: 'rejects', reason: `windows ${JSON.stringify(object.windows ?? null)} is not a positive integer` };
    let peak: string | null = null;
    if (object.peak !== undefined && object.peak !== null) {
      peak = decimalText(object.peak);
      if (peak === null) return { table: 'rejects', reason: `peak ${JSON.stringify(object.peak)} is not a number` };
    }
    const state = object.state ?? '';
    if (typeof state !== 'string') return { table: 'rejects', reason: 'state is not a string' };
    const span = this.span(object, 'start', 'end');
    if (typeof span === 'string') return { table: 'rejects', reason: span };
    return {
      table: 'incidents',
      row: {
        detector: sqlText(object.detector as string), key: sqlText(object.key as string), alert: sqlText(object.alert as string),
        start: span[0], end: span[1], windows, peak, state: sqlText(state), topic: record.topic,
      },
    };
  }
}

function parseObject(raw: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return 'value is not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'value is not a JSON object';
  return value as Record<string, unknown>;
}
