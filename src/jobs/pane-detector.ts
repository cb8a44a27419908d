// A running single-input windowed detector for the log jobs (NGINX goals,
// lb-summary): the watermark clock, the pane window operator, the
// reporting rule (always, or count above a threshold) and the incident
// tracker wired together. Pure, like MetricPairDetector: events and wall
// time go in, reported windows and incidents come out through callbacks,
// so the batch jobs and the streaming `detect` commands run the same object.

import { IncidentTracker, type Incident } from '../engine/incidents.ts';
import { PaneWindows, type PaneAddOutcome, type PaneAggregate, type PaneWindowResult, type PaneWindowSnapshot } from '../engine/pane-windows.ts';
import { WatermarkClock, type WatermarkSnapshot } from '../engine/watermark.ts';
import type { WindowSpec } from '../engine/windows.ts';

/** What a log job computes per key and window. */
export interface PaneJob {
  /** Detector name, as incidents print it. */
  name: string;
  window: WindowSpec;
  aggregate: PaneAggregate;
  /** Decimals of a mean. */
  digits: number;
  /** Categories of events counted apart (0 for none). */
  categories: number;
  /** A window is reported only when its count is strictly greater; null: always reported. */
  threshold: number | null;
  /** The alert of a reported window (the rule itself, `count > 10`); null when the job has no alerts. */
  alert: string | null;
}

/** One event as the operator takes it; parsers fill a reused object. */
export interface PaneInput {
  key: string;
  instant: number;
  units: number | bigint;
  scale: number;
  category: number;
}

export interface PaneDetectorOptions {
  /** Allowed lateness, ms. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
}

export interface PaneDetectorOutput {
  row(result: PaneWindowResult): void;
  incident(incident: Incident, state: 'opened' | 'updated' | 'closed'): void;
}

export interface PaneDetectorSnapshot {
  clock: WatermarkSnapshot;
  windows: PaneWindowSnapshot;
  incidents: Incident[];
}

export class PaneDetector {
  readonly job: PaneJob;
  private readonly clock: WatermarkClock;
  private readonly windows: PaneWindows;
  private readonly incidents: IncidentTracker;
  private readonly output: PaneDetectorOutput;
  private readonly onWindow: (result: PaneWindowResult) => void;
  rowsEmitted = 0;

  constructor(job: PaneJob, options: PaneDetectorOptions, output: PaneDetectorOutput) {
    this.job = job;
    this.output = output;
    this.clock = new WatermarkClock({ lateness: options.lateness, idleTimeout: options.idleTimeout });
    this.windows = new PaneWindows({ window: job.window, aggregate: job.aggregate, digits: job.digits, categories: job.categories, minCount: job.threshold === null ? 1 : Math.floor(job.threshold) + 1 });
    this.incidents = new IncidentTracker(job.window.size, (incident, state) => output.incident(incident, state));
    this.onWindow = (result) => this.emit(result);
  }

  get lateCount(): number {
    return this.windows.lateCount;
  }

  get partlyLateCount(): number {
    return this.windows.partlyLateCount;
  }

  get watermark(): number {
    return this.windows.watermark;
  }

  /**
   * Declares an input partition before any of its events came: it holds the
   * watermark back until it delivers or goes idle (see WatermarkClock.register).
   */
  registerPartition(partition: string, wallNow: number): void {
    this.clock.register(partition, wallNow);
  }

  /** Tells whether the reader has read everything `partition` holds (only then may it count as idle). */
  setCaughtUp(partition: string, caughtUp: boolean): void {
    this.clock.setCaughtUp(partition, caughtUp);
  }

  /**
   * An event seen on `partition` that this detector does not count (its
   * filter leaves it out): it still moves event time on, so windows close
   * with the input's time, not only with the counted events' time.
   */
  observe(partition: string, instant: number, wallNow: number): void {
    this.clock.observe(partition, instant, wallNow);
  }

  /** One event read from `partition` (any name unique per input). */
  add(partition: string, input: PaneInput, wallNow: number): PaneAddOutcome {
    this.clock.observe(partition, input.instant, wallNow);
    return this.windows.add(input.key, input.instant, input.units, input.scale, input.category);
  }

  /**
   * Counts one event without telling the clock: for a caller that reports
   * each partition's latest event time itself (`observe`) before each
   * `tick`. The windows' watermark only moves at `tick`, so this is the
   * same as `add` as long as the clock hears of every event before then.
   */
  count(input: PaneInput): PaneAddOutcome {
    return this.windows.add(input.key, input.instant, input.units, input.scale, input.category);
  }

  /** Advances the watermark to what the clock says at `wallNow`, emitting the windows it closes. */
  tick(wallNow: number): void {
    const watermark = this.clock.watermark(wallNow);
    if (watermark > this.windows.watermark) {
      this.windows.advanceTo(watermark, this.onWindow);
      this.incidents.advanceTo(watermark);
    }
  }

  /** End of a finite input: every open window and incident is emitted. */
  finish(): void {
    this.windows.flush(this.onWindow);
    this.incidents.flush();
  }

  private emit(result: PaneWindowResult): void {
    const { threshold, alert } = this.job;
    if (threshold !== null && !(result.count > threshold)) return;
    this.rowsEmitted++;
    this.output.row(result);
    if (alert !== null) {
      this.incidents.observe({ detector: this.job.name, key: result.key, alert, start: result.start, end: result.end, units: result.count, scale: 0 });
    }
  }

  snapshot(): PaneDetectorSnapshot {
    return { clock: this.clock.snapshot(), windows: this.windows.snapshot(), incidents: this.incidents.snapshot() };
  }

  restore(snapshot: PaneDetectorSnapshot, wallNow: number): void {
    this.clock.restore(snapshot.clock, wallNow);
    this.windows.restore(snapshot.windows);
    this.incidents.restore(snapshot.incidents);
  }
}
