// One streaming task of a server-metrics detector: partition p of each of the
// job's two input topics (the producer keys by server_id, so a server's cpu
// and mem records share a partition number: the inputs are co-partitioned,
// as Kafka Streams requires for a join). Pure: records and wall time come
// in, window rows, incidents and rejects go out through callbacks, and the
// whole task state, input offsets included, is one JSON-safe checkpoint.

import type { Incident } from '../engine/incidents.ts';
import { SILENT_ALERT } from '../engine/silence.ts';
import { DayRollover, formatInstant, type TimeKind } from '../engine/time.ts';
import { parseMetricMessage } from '../engine/metric-message.ts';
import { MetricPairDetector, type DetectorOptions, type DetectorSnapshot, type WindowRow } from './metric-pair-detector.ts';
import type { MetricPairJob } from './metric-pairs.ts';
import type { InputRecord, StreamTask, TaskPosition } from './stream-task.ts';

export type { InputRecord };

export interface TaskOutput {
  row(row: WindowRow, kind: TimeKind): void;
  incident(incident: Incident, state: 'opened' | 'updated' | 'closed', kind: TimeKind): void;
  reject(record: InputRecord, reason: string): void;
}

export interface TaskCounters {
  read: number;
  rejected: number;
  late: number;
  rows: number;
}

export interface TaskCheckpoint {
  version: 1;
  job: string;
  task: number;
  /** Next offset to read per input topic. */
  offsets: Record<string, number>;
  /** Latest instant per input topic, for the midnight rollover. */
  rollovers: Record<string, number>;
  timeKind: TimeKind | null;
  detector: DetectorSnapshot;
  counters: TaskCounters;
}

export class MetricStreamTask implements StreamTask<TaskCheckpoint> {
  readonly job: MetricPairJob;
  readonly task: number;
  private readonly detector: MetricPairDetector;
  private readonly output: TaskOutput;
  private readonly rollovers = new Map<string, DayRollover>();
  readonly offsets = new Map<string, number>();
  private timeKind: TimeKind | null = null;
  readonly counters: TaskCounters = { read: 0, rejected: 0, late: 0, rows: 0 };

  constructor(job: MetricPairJob, task: number, options: DetectorOptions, output: TaskOutput) {
    this.job = job;
    this.task = task;
    this.output = output;
    this.detector = new MetricPairDetector(job, options, {
      row: (row) => {
        this.counters.rows++;
        output.row(row, this.timeKind ?? 'time-of-day');
      },
      incident: (incident, state) => output.incident(incident, state, this.timeKind ?? 'time-of-day'),
      silence: (event) => {
        // A silence is an incident of its own: from the last record to when the server reported again.
        const incident: Incident = { detector: job.name, key: event.key, alert: SILENT_ALERT, start: event.lastSeen, end: event.at, windows: 0, peakUnits: 0, peakScale: 0 };
        output.incident(incident, event.state, this.timeKind ?? 'time-of-day');
      },
    });
  }

  get watermark(): number {
    return this.detector.watermark;
  }

  /** Declares the task's input partitions, which hold the watermark back until they deliver or go idle. */
  start(wallNow: number): void {
    for (const side of this.job.sides) this.detector.registerPartition(`${side.topic}:${this.task}`, wallNow);
  }

  /** Tells the task whether it has read all of an input topic's partition (given the partition's log end). */
  setLogEnd(topic: string, logEnd: number): void {
    this.detector.setCaughtUp(`${topic}:${this.task}`, (this.offsets.get(topic) ?? 0) >= logEnd);
  }

  /** Where to resume reading `topic` (partition = this task), or undefined for the group's position. */
  resumeOffset(topic: string): number | undefined {
    return this.offsets.get(topic);
  }

  positions(): TaskPosition[] {
    return [...this.offsets].map(([topic, offset]) => ({ topic, partition: this.task, offset }));
  }

  process(record: InputRecord, wallNow: number): void {
    this.offsets.set(record.topic, record.offset + 1);
    this.counters.read++;
    const sideIndex = record.topic === this.job.sides[0].topic ? 0 : record.topic === this.job.sides[1].topic ? 1 : -1;
    if (sideIndex === -1) return this.reject(record, `topic ${record.topic} is not an input of ${this.job.name}`);
    const side = this.job.sides[sideIndex]!;
    let rollover = this.rollovers.get(record.topic);
    if (rollover === undefined) {
      rollover = new DayRollover();
      this.rollovers.set(record.topic, rollover);
    }
    const parsed = parseMetricMessage(record.value, side.fields, rollover);
    if (!parsed.ok) return this.reject(record, parsed.reason);
    const { message } = parsed;
    if (this.timeKind === null) this.timeKind = message.kind;
    else if (this.timeKind !== message.kind) return this.reject(record, `time kind ${message.kind} differs from this input's ${this.timeKind}`);
    const fieldIndex = side.fields.indexOf(side.field);
    const outcome = this.detector.add(`${record.topic}:${record.partition}`, sideIndex as 0 | 1, message.serverId, message.instant, message.units[fieldIndex]!, message.scales[fieldIndex]!, wallNow);
    if (outcome === 1) {
      this.counters.late++;
      this.reject(record, `late: event time ${formatInstant(message.instant, message.kind)} is behind the watermark ${formatInstant(this.detector.watermark, message.kind)} for all of its windows`);
    }
  }

  private reject(record: InputRecord, reason: string): void {
    this.counters.rejected++;
    this.output.reject(record, reason);
  }

  /** Lets the watermark move with wall time and emits what it closes. */
  tick(wallNow: number): void {
    this.detector.tick(wallNow);
  }

  /** End of a finite input: emits every open window. */
  finish(): void {
    this.detector.finish();
  }

  checkpoint(): TaskCheckpoint {
    return {
      version: 1,
      job: this.job.name,
      task: this.task,
      offsets: Object.fromEntries(this.offsets),
      rollovers: Object.fromEntries([...this.rollovers].map(([topic, r]) => [topic, r.snapshot()])),
      timeKind: this.timeKind,
      detector: this.detector.snapshot(),
      counters: { ...this.counters },
    };
  }

  restore(checkpoint: TaskCheckpoint, wallNow: number): void {
    this.offsets.clear();
    for (const [topic, offset] of Object.entries(checkpoint.offsets)) this.offsets.set(topic, offset);
    this.rollovers.clear();
    for (const [topic, latest] of Object.entries(checkpoint.rollovers)) {
      const rollover = new DayRollover();
      rollover.restore(latest);
      this.rollovers.set(topic, rollover);
    }
    this.timeKind = checkpoint.timeKind;
    Object.assign(this.counters, checkpoint.counters);
    this.detector.restore(checkpoint.detector, wallNow);
  }
}
