// One streaming task of a log job (the NGINX goals, lb-summary): one input
// topic, the partitions the task reads (one for the NGINX goals, keyed by
// client; all of them for lb-summary, a summary over every backend), and one
// PaneDetector per goal, all fed from one parse of each message. Pure:
// records and wall time come in, window rows, incidents and rejects go out
// through callbacks, and the whole state, offsets included, is one JSON-safe
// checkpoint.
//
// Every valid event moves event time on for every goal, also for goals whose
// filter leaves it out (host-4xx counts only 4xx, but a minute of 2xx traffic
// still closes its windows). A message rejected by one goal only (a combined
// log line without a request time, which only host-latency needs), or late
// for some goals only (their windows are shorter), still counts for the
// others; the dead letter names the goals that left it out and why.

import type { Incident } from '../engine/incidents.ts';
import type { PaneWindowResult } from '../engine/pane-windows.ts';
import { formatIso } from '../engine/time.ts';
import { PaneDetector, type PaneDetectorSnapshot, type PaneInput, type PaneJob } from './pane-detector.ts';
import type { InputRecord, StreamTask, StreamTaskCounters, TaskPosition } from './stream-task.ts';

/** One goal of a log job: its windows, and what an event gives it. */
export interface LogGoal<E> {
  pane: PaneJob;
  /** Fills `input` from an event: true when it counts, false when the goal's filter leaves it out, or a reason. */
  fill(event: E, input: PaneInput): boolean | string;
}

export interface LogStreamJob<E> {
  name: string;
  topic: string;
  /** A message as an event, or why it is rejected. */
  parse(value: string): { ok: true; event: E } | { ok: false; reason: string };
  /** Event time, epoch ms. */
  instant(event: E): number;
  goals: ReadonlyArray<LogGoal<E>>;
}

export interface LogTaskOutput {
  row(goal: number, result: PaneWindowResult): void;
  incident(goal: number, incident: Incident, state: 'opened' | 'updated' | 'closed'): void;
  reject(record: InputRecord, reason: string): void;
}

export interface LogTaskCheckpoint {
  version: 1;
  job: string;
  task: number;
  /** Next offset to read per input partition. */
  offsets: Record<string, number>;
  /** By goal name. */
  detectors: Record<string, PaneDetectorSnapshot>;
  counters: StreamTaskCounters;
}

export interface LogTaskOptions {
  /** Allowed lateness, ms of event time. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
}

export class LogStreamTask<E> implements StreamTask<LogTaskCheckpoint> {
  readonly job: LogStreamJob<E>;
  readonly task: number;
  /** The input partitions this task reads. */
  readonly partitions: readonly number[];
  private readonly detectors: PaneDetector[];
  private readonly output: LogTaskOutput;
  private readonly offsets = new Map<number, number>();
  private readonly input: PaneInput = { key: '', instant: 0, units: 0, scale: 0, category: -1 };
  /**
   * Latest event time and wall time per input partition since the last
   * tick: the detectors' clocks hear of them once per tick instead of once
   * per event and goal (their windows' watermark only moves at a tick).
   */
  private readonly seen = new Map<string, { instant: number; wall: number }>();
  /** `topic:partition` by input partition, made once (a new string per event would be hashed again at each lookup). */
  private readonly partitionNames: string[] = [];
  readonly counters: StreamTaskCounters = { read: 0, rejected: 0, late: 0 };

  constructor(job: LogStreamJob<E>, task: number, partitions: readonly number[], options: LogTaskOptions, output: LogTaskOutput) {
    this.job = job;
    this.task = task;
    this.partitions = partitions;
    this.output = output;
    this.detectors = job.goals.map((goal, i) => new PaneDetector(goal.pane, options, {
      row: (result) => output.row(i, result),
      incident: (incident, state) => output.incident(i, incident, state),
    }));
  }

  /** Watermark of each goal's windows. */
  get watermarks(): number[] {
    return this.detectors.map((d) => d.watermark);
  }

  start(wallNow: number): void {
    for (const detector of this.detectors) for (const p of this.partitions) detector.registerPartition(`${this.job.topic}:${p}`, wallNow);
  }

  setLogEnd(topic: string, logEnd: number, partition: number): void {
    if (topic !== this.job.topic) return;
    const caughtUp = (this.offsets.get(partition) ?? 0) >= logEnd;
    for (const detector of this.detectors) detector.setCaughtUp(`${topic}:${partition}`, caughtUp);
  }

  resumeOffset(topic: string, partition: number): number | undefined {
    return topic === this.job.topic ? this.offsets.get(partition) : undefined;
  }

  positions(): TaskPosition[] {
    return [...this.offsets].map(([partition, offset]) => ({ topic: this.job.topic, partition, offset }));
  }

  process(record: InputRecord, wallNow: number): void {
    this.offsets.set(record.partition, record.offset + 1);
    this.counters.read++;
    if (record.topic !== this.job.topic) return this.reject(record, `topic ${record.topic} is not an input of ${this.job.name}`);
    const parsed = this.job.parse(record.value);
    if (!parsed.ok) return this.reject(record, parsed.reason);
    const { event } = parsed;
    const instant = this.job.instant(event);
    const partition = (this.partitionNames[record.partition] ??= `${record.topic}:${record.partition}`);
    const seen = this.seen.get(partition);
    if (seen === undefined) this.seen.set(partition, { instant, wall: wallNow });
    else {
      if (instant > seen.instant) seen.instant = instant;
      seen.wall = wallNow;
    }
    const input = this.input;
    let problems: string[] | null = null;
    let late: string[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const detector = this.detectors[i]!;
      const outcome = this.job.goals[i]!.fill(event, input);
      if (outcome === true) {
        if (detector.count(input) === 1) (late ??= []).push(detector.job.name);
      } else if (outcome !== false) {
        (problems ??= []).push(this.detectors.length > 1 ? `${detector.job.name}: ${outcome}` : outcome);
      }
    }
    if (late !== null) {
      this.counters.late++;
      const names = late;
      const lowest = Math.min(...this.detectors.filter((d) => names.includes(d.job.name)).map((d) => d.watermark));
      const goals = this.detectors.length > 1 ? ` of ${names.join(', ')}` : '';
      (problems ??= []).push(`late: event time ${formatIso(instant)} is behind the watermark ${formatIso(lowest)} for all of its windows${goals}`);
    }
    if (problems !== null) this.reject(record, problems.join('; '));
  }

  private reject(record: InputRecord, reason: string): void {
    this.counters.rejected++;
    this.output.reject(record, reason);
  }

  tick(wallNow: number): void {
    this.tellClocks();
    for (const detector of this.detectors) detector.tick(wallNow);
  }

  finish(): void {
    this.tellClocks();
    for (const detector of this.detectors) detector.finish();
  }

  private tellClocks(): void {
    if (this.seen.size === 0) return;
    for (const [partition, { instant, wall }] of this.seen) for (const detector of this.detectors) detector.observe(partition, instant, wall);
    this.seen.clear();
  }

  checkpoint(): LogTaskCheckpoint {
    this.tellClocks();
    return {
      version: 1,
      job: this.job.name,
      task: this.task,
      offsets: Object.fromEntries([...this.offsets].map(([p, offset]) => [String(p), offset])),
      detectors: Object.fromEntries(this.detectors.map((d) => [d.job.name, d.snapshot()])),
      counters: { ...this.counters },
    };
  }

  restore(checkpoint: LogTaskCheckpoint, wallNow: number): void {
    this.offsets.clear();
    for (const [p, offset] of Object.entries(checkpoint.offsets)) this.offsets.set(Number(p), offset);
    Object.assign(this.counters, checkpoint.counters);
    for (const detector of this.detectors) {
      const saved = checkpoint.detectors[detector.job.name];
      if (saved !== undefined) detector.restore(saved, wallNow);
    }
  }
}
