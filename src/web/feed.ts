// The dashboard's in-memory hub. Pipelines push what they see through the
// small `DashboardFeed` interface (`streamwatch up` and `detect` in-process,
// `streamwatch dashboard` from Kafka topics); the hub keeps a bounded recent
// history (a ring buffer of points per server, the latest incidents, goal
// rows and health) for pages that connect later, and fans live events out to
// subscribers (the server-sent-event streams).
//
// Events are batched per tick (default 100 ms) so a busy pipeline costs one
// message per client per tick, not one per record. Each subscriber has a
// bounded queue: while its connection is congested, events queue up, and
// when the queue is full the oldest are dropped and counted, so one slow
// browser never holds memory or the pipeline back.

import { formatInstant, type TimeKind } from '../engine/time.ts';
import { formatUnits } from '../engine/decimal.ts';
import type { Incident } from '../engine/incidents.ts';

export const METRIC_FIELDS = ['cpu', 'mem', 'net_in', 'disk_io'] as const;
export type MetricName = (typeof METRIC_FIELDS)[number];
export type MetricFields = Partial<Record<MetricName, number>>;

/** A window row of a server-metrics job (cpu-mem, net-disk). */
export interface FeedWindowRow {
  server: string;
  start: number;
  end: number;
  /** The job's two values by column name (`avg_cpu`, `avg_mem` / `max_net_in`, `max_disk_io`). */
  values: Readonly<Record<string, number>>;
  /** Empty when the window is normal. */
  alert: string;
}

export type IncidentState = 'opened' | 'updated' | 'closed';

export interface IncidentEvent {
  detector: string;
  key: string;
  alert: string;
  /** Instants (ms): epoch for absolute inputs, from midnight for times of day (see `timeKind`). */
  start: number;
  end: number;
  windows: number;
  peak: number;
  state: IncidentState;
  timeKind?: TimeKind;
}

/** One result row of an NGINX goal. */
export interface GoalRow {
  start: number;
  end: number;
  key: string;
  value: number;
}

export interface HealthSnapshot {
  /** Wall-clock ms of the reading. */
  at: number;
  topics: ReadonlyArray<{ topic: string; inPerSec: number; outPerSec?: number }>;
  lag: ReadonlyArray<{ group: string; topic: string; partition: number; lag: number }>;
  late: number;
  rejected: number;
}

/** What a pipeline pushes into the dashboard. Every method returns at once. */
export interface DashboardFeed {
  metric(serverId: string, instant: number, fields: MetricFields): void;
  windowRow(job: string, row: FeedWindowRow): void;
  incident(event: IncidentEvent): void;
  goal(detector: string, row: GoalRow): void;
  health(snapshot: HealthSnapshot): void;
}

/** The engine's incident record as a feed event (peak as a number). */
export function incidentEvent(incident: Incident, state: IncidentState, timeKind?: TimeKind): IncidentEvent {
  return {
    detector: incident.detector,
    key: incident.key,
    alert: incident.alert,
    start: incident.start,
    end: incident.end,
    windows: incident.windows,
    peak: Number(formatUnits(incident.peakUnits, incident.peakScale)),
    state,
    ...(timeKind ? { timeKind } : {}),
  };
}

export function formatEventTime(instant: number, kind: TimeKind | undefined): string {
  return formatInstant(instant, kind ?? (instant >= 2 * 86_400_000 ? 'absolute' : 'time-of-day'));
}

/** Stable identity of one incident: per detector, key, alert and start. */
export function incidentId(e: Pick<IncidentEvent, 'detector' | 'key' | 'alert' | 'start'>): string {
  return `${e.detector}|${e.key}|${e.alert}|${e.start}`;
}

// ---- live events -----------------------------------------------------------

export type FeedEvent =
  | { type: 'metric'; server: string; t: number; fields: MetricFields }
  | { type: 'window'; job: string; row: FeedWindowRow }
  | { type: 'incident'; incident: IncidentEvent & { id: string } }
  | { type: 'goal'; detector: string; row: GoalRow }
  | { type: 'health'; health: HealthSnapshot };

/** Writes a batch to a client; returns false when the connection is congested (try again on drain). */
export type EventSink = (events: readonly FeedEvent[]) => boolean;

export class FeedSubscription {
  private readonly sink: EventSink;
  private readonly maxQueued: number;
  private queue: FeedEvent[] = [];
  private congested = false;
  dropped = 0;
  private readonly onDrop: (n: number) => void;

  constructor(sink: EventSink, maxQueued: number, onDrop: (n: number) => void) {
    this.sink = sink;
    this.maxQueued = maxQueued;
    this.onDrop = onDrop;
  }

  /** Hands a batch to the client, or queues it while the client is congested. */
  deliver(events: readonly FeedEvent[]): void {
    if (!this.congested) {
      this.congested = !this.sink(events);
      return;
    }
    this.queue.push(...events);
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.dropped += excess;
      this.onDrop(excess);
    }
  }

  /** The connection drained: send what queued up meanwhile. */
  resume(): void {
    this.congested = false;
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.congested = !this.sink(queued);
  }

  get queued(): number {
    return this.queue.length;
  }
}

// ---- bounded history -------------------------------------------------------

/**
 * Fixed-capacity columns of points (time, cpu, mem, net_in, disk_io); when
 * full, the point stored longest ago is overwritten. Per-topic messages of
 * one instant arrive separately, and from Kafka possibly far apart (a whole
 * topic's backlog before the next), so points are found by instant.
 */
export class PointRing {
  readonly capacity: number;
  private readonly times: Float64Array;
  private readonly columns: Float64Array[];
  private readonly slots = new Map<number, number>();
  private head = 0;
  size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.times = new Float64Array(capacity);
    this.columns = METRIC_FIELDS.map(() => new Float64Array(capacity).fill(Number.NaN));
  }

  /** Adds fields at an instant, merged into the point of that instant when there is one. */
  put(instant: number, fields: MetricFields): void {
    const existing = this.slots.get(instant);
    if (existing !== undefined) {
      this.write(existing, fields);
      return;
    }
    const i = this.head;
    if (this.size === this.capacity) this.slots.delete(this.times[i] as number);
    this.times[i] = instant;
    this.slots.set(instant, i);
    for (const column of this.columns) column[i] = Number.NaN;
    this.write(i, fields);
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  private write(i: number, fields: MetricFields): void {
    METRIC_FIELDS.forEach((name, c) => {
      const value = fields[name];
      if (value !== undefined) (this.columns[c] as Float64Array)[i] = value;
    });
  }

  /** The newest `limit` points in time order as plain columns (null for a field not seen). */
  toColumns(limit = this.size): { t: number[] } & Record<MetricName, Array<number | null>> {
    const sorted = [...this.slots.entries()].sort((a, b) => a[0] - b[0]);
    const order = sorted.slice(Math.max(0, sorted.length - Math.max(0, limit))).map((e) => e[1]);
    const pick = (c: number): Array<number | null> =>
      order.map((i) => {
        const v = (this.columns[c] as Float64Array)[i] as number;
        return Number.isNaN(v) ? null : v;
      });
    return { t: order.map((i) => this.times[i] as number), cpu: pick(0), mem: pick(1), net_in: pick(2), disk_io: pick(3) };
  }

  /** The newest value of each field (even when the newest point lacks it) and the newest instant. */
  latest(): MetricFields & { t?: number } {
    if (this.size === 0) return {};
    const cols = this.toColumns(32);
    const out: MetricFields & { t?: number } = { t: cols.t[cols.t.length - 1] };
    for (const name of METRIC_FIELDS) {
      for (let k = cols[name].length - 1; k >= 0; k--) {
        const v = cols[name][k];
        if (v !== null && v !== undefined) {
          out[name] = v;
          break;
        }
      }
    }
    return out;
  }
}

export interface ServerState {
  /** Latest window per job: its alert ('' when normal) and end. */
  jobs: Record<string, { alert: string; end: number; values: Readonly<Record<string, number>> }>;
}

export interface Thresholds {
  cpu: number;
  mem: number;
  net_in: number;
  disk_io: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { cpu: 83.45, mem: 78.92, net_in: 4149.79, disk_io: 1925.47 };

export interface FeedHubOptions {
  /** Points kept per server (default 2000: close to 3 hours at 5 s). */
  pointsPerServer?: number;
  /** Most servers tracked; later ones are ignored (a guard against key floods). */
  maxServers?: number;
  /** Closed incidents kept for the feed. */
  closedIncidents?: number;
  /** Events a congested client may have queued before the oldest are dropped. */
  maxQueuedPerClient?: number;
  /** Batching period of live events, ms. */
  tickMs?: number;
  thresholds?: Thresholds;
  /** Called with the number of events dropped for slow clients (e.g. a metrics counter). */
  onDrop?: (n: number) => void;
}

/**
 * The goal rows a page needs, per detector. Hopping goals (ip-burst,
 * host-4xx) report one burst in many windows: a key shows its peak over the
 * recent span. Tumbling goals show each key's newest window.
 */
class GoalBoard {
  private readonly keepMs: number;
  private readonly peak: boolean;
  private readonly rows = new Map<string, GoalRow>();
  private newestEnd = Number.NEGATIVE_INFINITY;

  constructor(keepMs: number, peak: boolean) {
    this.keepMs = keepMs;
    this.peak = peak;
  }

  add(row: GoalRow): void {
    const current = this.rows.get(row.key);
    if (current === undefined || current.end < this.newestEnd - this.keepMs) {
      this.rows.set(row.key, { ...row });
    } else if (this.peak) {
      current.value = Math.max(current.value, row.value);
      current.start = Math.min(current.start, row.start);
      current.end = Math.max(current.end, row.end);
    } else if (row.end >= current.end) {
      this.rows.set(row.key, { ...row });
    }
    if (row.end > this.newestEnd) {
      this.newestEnd = row.end;
      for (const [key, r] of this.rows) if (r.end < this.newestEnd - this.keepMs) this.rows.delete(key);
    }
    // Keys are unbounded (client IPs): beyond a cap, forget the stalest tenth at once (not one sort per event).
    if (this.rows.size > 2000) {
      const stalest = [...this.rows.entries()].sort((a, b) => a[1].end - b[1].end).slice(0, this.rows.size - 1800);
      for (const [key] of stalest) this.rows.delete(key);
    }
  }

  top(n: number): GoalRow[] {
    return [...this.rows.values()].sort((a, b) => b.value - a.value || a.key.localeCompare(b.key)).slice(0, n);
  }
}

export interface FeedSnapshot {
  thresholds: Thresholds;
  servers: Array<{ id: string; latest: MetricFields & { t?: number }; state: ServerState; spark: Array<number | null> }>;
  incidents: Array<IncidentEvent & { id: string }>;
  goals: Record<string, GoalRow[]>;
  health: HealthSnapshot | null;
  healthHistory: Array<{ at: number; inPerSec: number }>;
}

export class FeedHub implements DashboardFeed {
  readonly thresholds: Thresholds;
  private readonly pointsPerServer: number;
  private readonly maxServers: number;
  private readonly closedLimit: number;
  private readonly maxQueued: number;
  private readonly tickMs: number;
  private readonly onDrop: (n: number) => void;
  private readonly points = new Map<string, PointRing>();
  private readonly states = new Map<string, ServerState>();
  private readonly openIncidents = new Map<string, IncidentEvent & { id: string }>();
  private readonly closedIncidents: Array<IncidentEvent & { id: string }> = [];
  private readonly goals = new Map<string, GoalBoard>();
  private latestHealth: HealthSnapshot | null = null;
  private readonly healthHistory: Array<{ at: number; inPerSec: number }> = [];
  private readonly subscribers = new Set<FeedSubscription>();
  private pending: FeedEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  droppedEvents = 0;

  constructor(options: FeedHubOptions = {}) {
    this.pointsPerServer = options.pointsPerServer ?? 2000;
    this.maxServers = options.maxServers ?? 1000;
    this.closedLimit = options.closedIncidents ?? 200;
    this.maxQueued = options.maxQueuedPerClient ?? 5000;
    this.tickMs = options.tickMs ?? 100;
    this.thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
    this.onDrop = options.onDrop ?? (() => {});
  }

  // ---- DashboardFeed ----

  metric(serverId: string, instant: number, fields: MetricFields): void {
    let ring = this.points.get(serverId);
    if (ring === undefined) {
      if (this.points.size >= this.maxServers) return;
      ring = new PointRing(this.pointsPerServer);
      this.points.set(serverId, ring);
    }
    ring.put(instant, fields);
    this.publish({ type: 'metric', server: serverId, t: instant, fields });
  }

  windowRow(job: string, row: FeedWindowRow): void {
    let state = this.states.get(row.server);
    if (state === undefined) {
      if (this.states.size >= this.maxServers) return;
      state = { jobs: {} };
      this.states.set(row.server, state);
    }
    const current = state.jobs[job];
    if (current === undefined || row.end >= current.end) state.jobs[job] = { alert: row.alert, end: row.end, values: row.values };
    this.publish({ type: 'window', job, row });
  }

  incident(event: IncidentEvent): void {
    const id = incidentId(event);
    const record = { ...event, id };
    if (event.state === 'closed') {
      this.openIncidents.delete(id);
      this.closedIncidents.unshift(record);
      if (this.closedIncidents.length > this.closedLimit) this.closedIncidents.length = this.closedLimit;
    } else {
      this.openIncidents.set(id, record);
      // Guard against a detector that never closes: keep the newest open ones.
      if (this.openIncidents.size > 5000) this.openIncidents.delete(this.openIncidents.keys().next().value as string);
    }
    this.publish({ type: 'incident', incident: record });
  }

  goal(detector: string, row: GoalRow): void {
    let board = this.goals.get(detector);
    if (board === undefined) {
      const hopping = detector === 'ip-burst' || detector === 'host-4xx';
      board = new GoalBoard(60_000, hopping);
      this.goals.set(detector, board);
    }
    board.add(row);
    this.publish({ type: 'goal', detector, row });
  }

  health(snapshot: HealthSnapshot): void {
    this.latestHealth = snapshot;
    this.healthHistory.push({ at: snapshot.at, inPerSec: snapshot.topics.reduce((sum, t) => sum + t.inPerSec, 0) });
    if (this.healthHistory.length > 300) this.healthHistory.shift();
    this.publish({ type: 'health', health: snapshot });
  }

  // ---- reading ----

  serverIds(): string[] {
    return [...new Set([...this.points.keys(), ...this.states.keys()])];
  }

  series(serverId: string): { server: string; thresholds: Thresholds; points: ReturnType<PointRing['toColumns']>; incidents: Array<IncidentEvent & { id: string }> } | null {
    const ring = this.points.get(serverId);
    if (ring === undefined && !this.states.has(serverId)) return null;
    const empty = { t: [], cpu: [], mem: [], net_in: [], disk_io: [] };
    return {
      server: serverId,
      thresholds: this.thresholds,
      points: ring?.toColumns() ?? empty,
      incidents: this.incidentList().filter((i) => i.key === serverId),
    };
  }

  incidentList(): Array<IncidentEvent & { id: string }> {
    return [...[...this.openIncidents.values()].reverse(), ...this.closedIncidents];
  }

  snapshot(): FeedSnapshot {
    const goals: Record<string, GoalRow[]> = {};
    for (const [detector, board] of this.goals) goals[detector] = board.top(15);
    return {
      thresholds: this.thresholds,
      servers: this.serverIds().map((id) => {
        const ring = this.points.get(id);
        return { id, latest: ring?.latest() ?? {}, state: this.states.get(id) ?? { jobs: {} }, spark: ring?.toColumns(60).cpu ?? [] };
      }),
      incidents: this.incidentList().slice(0, 300),
      goals,
      health: this.latestHealth,
      healthHistory: [...this.healthHistory],
    };
  }

  // ---- live subscribers ----

  subscribe(sink: EventSink): FeedSubscription {
    const subscription = new FeedSubscription(sink, this.maxQueued, (n) => {
      this.droppedEvents += n;
      this.onDrop(n);
    });
    this.subscribers.add(subscription);
    return subscription;
  }

  unsubscribe(subscription: FeedSubscription): void {
    this.subscribers.delete(subscription);
  }

  get clientCount(): number {
    return this.subscribers.size;
  }

  /** Sends what is pending now (tests; shutdown). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const subscription of this.subscribers) subscription.deliver(batch);
  }

  close(): void {
    this.flush();
    this.subscribers.clear();
  }

  private publish(event: FeedEvent): void {
    if (this.subscribers.size === 0) return;
    this.pending.push(event);
    // Bound the batch itself too: a flood between ticks is sent at once rather than held.
    if (this.pending.length >= this.maxQueued) {
      this.flush();
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.tickMs);
      this.timer.unref();
    }
  }
}
