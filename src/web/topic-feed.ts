// Turns records of the pipeline's Kafka topics into DashboardFeed calls, so
// a standalone `streamwatch dashboard` shows what `detect` and the producers
// write: metrics topics (`topic-cpu`...), window rows (`alerts-cpu-mem`,
// `alerts-net-disk`), `incidents`, and the NGINX goals (`goal1-topic`...).
// Pure: no Kafka here (src/web/kafka-feed.ts does the consuming), so it is
// tested with plain strings. Unreadable records are counted, never thrown.
//
// Times in these messages are the pipeline's printed form (`HH:MM:SS` or ISO
// 8601); times of day are placed on a per-partition timeline as the
// detectors do (SEMANTICS.md section 1).

import { DayRollover, parseTime, type TimeKind } from '../engine/time.ts';
import type { DashboardFeed, HealthSnapshot, IncidentState, MetricFields } from './feed.ts';

/** Metric topic -> which message fields become which chart series. */
const METRIC_TOPICS: Record<string, ReadonlyArray<[string, keyof MetricFields]>> = {
  'topic-cpu': [['cpu_pct', 'cpu']],
  'topic-mem': [['mem_pct', 'mem']],
  'topic-net': [['net_in', 'net_in']],
  'topic-disk': [['disk_io', 'disk_io']],
};
const ROW_TOPICS: Record<string, string> = { 'alerts-cpu-mem': 'cpu-mem', 'alerts-net-disk': 'net-disk' };
const GOAL_TOPICS: Record<string, string> = { 'goal1-topic': 'ip-burst', 'goal2-topic': 'host-4xx', 'goal3-topic': 'country-success', 'goal4-topic': 'host-latency' };
const INCIDENTS_TOPIC = 'incidents';
/** The detectors' dead-letter topic: `{source, topic, partition, offset, reason, value}`; late records' reasons start with `late`. */
const REJECTS_TOPIC = 'streamwatch-rejects';

/** Every topic the dashboard reads. */
export const DASHBOARD_TOPICS: readonly string[] = [...Object.keys(METRIC_TOPICS), ...Object.keys(ROW_TOPICS), INCIDENTS_TOPIC, ...Object.keys(GOAL_TOPICS), REJECTS_TOPIC];

/** Topics counted as pipeline input (the rest are outputs of the detectors). */
const INPUT_TOPICS = new Set(Object.keys(METRIC_TOPICS));

/** Whether the dashboard counts a topic as the pipeline's input, its output, or its dead letters. */
export function topicRole(topic: string): 'input' | 'output' | 'rejects' {
  return topic === REJECTS_TOPIC ? 'rejects' : INPUT_TOPICS.has(topic) ? 'input' : 'output';
}

/** The detector a dead letter comes from, by its source topic. */
const JOB_OF_SOURCE: Record<string, string> = {
  'topic-cpu': 'cpu-mem',
  'topic-mem': 'cpu-mem',
  'topic-net': 'net-disk',
  'topic-disk': 'net-disk',
  'nginx-logs': 'nginx',
  'lb-logs': 'lb-summary',
};

/** Called per dead letter read: the detector it came from (`other` when its source is not one of the pipeline's topics), and whether it was late. */
export type DeadLetterHook = (job: string, late: boolean) => void;

type Json = Record<string, unknown>;

export class TopicFeeder {
  private readonly feed: DashboardFeed;
  private readonly rollovers = new Map<string, DayRollover>();
  private readonly counts = new Map<string, number>();
  private lastRates: { at: number; counts: Map<string, number> } | null = null;
  unreadable = 0;
  /** Dead letters seen: late records, and the other rejects. */
  late = 0;
  rejected = 0;

  private readonly onDeadLetter: DeadLetterHook | undefined;

  constructor(feed: DashboardFeed, onDeadLetter?: DeadLetterHook) {
    this.feed = feed;
    this.onDeadLetter = onDeadLetter;
  }

  /** Feeds one record; false when the topic is not the dashboard's or the value does not read. */
  record(topic: string, partition: number, value: string | null): boolean {
    this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
    if (value === null) return this.bad();
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return this.bad();
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return this.bad();
    const json = parsed as Json;
    const fields = METRIC_TOPICS[topic];
    if (fields !== undefined) return this.metric(topic, partition, json, fields);
    const job = ROW_TOPICS[topic];
    if (job !== undefined) return this.row(topic, partition, job, json);
    const goal = GOAL_TOPICS[topic];
    if (goal !== undefined) return this.goal(topic, partition, goal, json);
    if (topic === INCIDENTS_TOPIC) return this.incident(partition, json);
    if (topic === REJECTS_TOPIC) {
      const late = typeof json.reason === 'string' && json.reason.startsWith('late');
      if (late) this.late++;
      else this.rejected++;
      this.onDeadLetter?.((typeof json.topic === 'string' ? JOB_OF_SOURCE[json.topic] : undefined) ?? 'other', late);
      return true;
    }
    return false;
  }

  /**
   * Message rates per topic since the previous call, as the dashboard's
   * health reading. Input topics count as `inPerSec`; detector outputs as `outPerSec`.
   */
  health(now: number, lag: HealthSnapshot['lag']): HealthSnapshot {
    const previous = this.lastRates;
    const seconds = previous ? Math.max(0.001, (now - previous.at) / 1000) : 0;
    const topics = [...this.counts].filter(([topic]) => topic !== REJECTS_TOPIC).map(([topic, count]) => {
      const rate = previous ? (count - (previous.counts.get(topic) ?? 0)) / seconds : 0;
      return INPUT_TOPICS.has(topic) ? { topic, inPerSec: rate } : { topic, inPerSec: 0, outPerSec: rate };
    });
    this.lastRates = { at: now, counts: new Map(this.counts) };
    return { at: now, topics, lag, late: this.late, rejected: this.rejected };
  }

  private bad(): boolean {
    this.unreadable++;
    return false;
  }

  /** An instant from a printed time, on the timeline of its topic partition. */
  private instant(topic: string, partition: number, text: unknown): { ms: number; kind: TimeKind } | null {
    if (typeof text !== 'string' && typeof text !== 'number') return null;
    const time = parseTime(String(text));
    if (time === null) return null;
    if (time.kind === 'absolute') return time;
    const id = `${topic}:${partition}`;
    let rollover = this.rollovers.get(id);
    if (rollover === undefined) {
      rollover = new DayRollover();
      this.rollovers.set(id, rollover);
    }
    return { ms: rollover.place(time.ms), kind: 'time-of-day' };
  }

  private metric(topic: string, partition: number, json: Json, fields: ReadonlyArray<[string, keyof MetricFields]>): boolean {
    const server = json.server_id;
    const at = this.instant(topic, partition, json.ts ?? json.timestamp);
    if (typeof server !== 'string' || server === '' || at === null) return this.bad();
    const values: MetricFields = {};
    for (const [from, to] of fields) {
      const v = json[from];
      if (typeof v === 'number' && Number.isFinite(v)) values[to] = v;
    }
    if (Object.keys(values).length === 0) return this.bad();
    this.feed.metric(server, at.ms, values);
    return true;
  }

  private row(topic: string, partition: number, job: string, json: Json): boolean {
    const server = json.server_id;
    const start = this.instant(topic, partition, json.window_start);
    const end = this.instant(topic, partition, json.window_end);
    if (typeof server !== 'string' || start === null || end === null) return this.bad();
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(json)) if (typeof v === 'number') values[k] = v;
    this.feed.windowRow(job, { server, start: start.ms, end: end.ms, values, alert: typeof json.alert === 'string' ? json.alert : '' });
    return true;
  }

  private goal(topic: string, partition: number, detector: string, json: Json): boolean {
    const start = this.instant(topic, partition, json.window_start);
    const end = this.instant(topic, partition, json.window_end);
    const key = json.client_ip ?? json.host ?? json.country ?? json.key;
    const value = Number(json.count ?? json.avg_request_time ?? json.value);
    if (start === null || end === null || typeof key !== 'string' || !Number.isFinite(value)) return this.bad();
    this.feed.goal(detector, { start: start.ms, end: end.ms, key, value });
    return true;
  }

  private incident(partition: number, json: Json): boolean {
    const { detector, key, alert } = json;
    const start = this.instant(INCIDENTS_TOPIC, partition, json.start);
    const end = this.instant(INCIDENTS_TOPIC, partition, json.end);
    const state = json.state;
    if (typeof detector !== 'string' || typeof key !== 'string' || typeof alert !== 'string' || start === null || end === null) return this.bad();
    if (state !== 'opened' && state !== 'updated' && state !== 'closed') return this.bad();
    this.feed.incident({
      detector,
      key,
      alert,
      start: start.ms,
      end: end.ms,
      windows: Number(json.windows) || 0,
      peak: Number(json.peak),
      state: state as IncidentState,
      timeKind: start.kind,
    });
    return true;
  }
}
