// A running server-metrics detector: the watermark clock, the windowed join,
// the threshold rule and the incident tracker of one job wired together.
// Pure: records and wall time are pushed in, rows and incidents come out
// through the callbacks. Batch jobs and the streaming `detect` command both
// run this same object.

import type { Units } from '../engine/decimal.ts';
import { IncidentTracker, type Incident } from '../engine/incidents.ts';
import { PairedWindows, type AddOutcome, type KeyHandle, type PairedWindowResult, type PairedWindowSnapshot } from '../engine/paired-windows.ts';
import { SilenceTracker, type SilenceEvent, type SilenceSnapshot } from '../engine/silence.ts';
import { WatermarkClock, type WatermarkSnapshot } from '../engine/watermark.ts';
import { alertFor, peakOf, type MetricPairJob, type Thresholds } from './metric-pairs.ts';

export interface WindowRow {
  key: string;
  /** The number given to the key's handle (`keyHandle`), -1 for none. */
  keyNumber: number;
  start: number;
  end: number;
  value0: Units;
  value1: Units;
  alert: string;
}

export interface DetectorOptions {
  thresholds: Thresholds;
  trimLeading: boolean;
  /** Allowed lateness, ms. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
  /** Event-time ms without a record after which a server is reported silent (streaming only; default off). */
  silenceAfter?: number;
}

export interface DetectorOutput {
  /** Each window's row; with `reuseRows` the object is filled anew for every row, so it must not be kept. */
  row(row: WindowRow): void;
  readonly reuseRows?: boolean;
  incident(incident: Incident, state: 'opened' | 'updated' | 'closed'): void;
  silence?(event: SilenceEvent): void;
}

export interface DetectorSnapshot {
  clock: WatermarkSnapshot;
  windows: PairedWindowSnapshot;
  incidents: Incident[];
  silence?: SilenceSnapshot;
}

export class MetricPairDetector {
  readonly job: MetricPairJob;
  private readonly options: DetectorOptions;
  private readonly clock: WatermarkClock;
  private readonly windows: PairedWindows;
  private readonly incidents: IncidentTracker;
  private readonly output: DetectorOutput;
  private readonly onWindow: (result: PairedWindowResult) => void;
  private readonly silence: SilenceTracker;
  private readonly watchSilence: boolean;
  private readonly onSilence: (event: SilenceEvent) => void;
  rowsEmitted = 0;
  private readonly reused: WindowRow = { key: '', keyNumber: -1, start: 0, end: 0, value0: 0, value1: 0, alert: '' };

  constructor(job: MetricPairJob, options: DetectorOptions, output: DetectorOutput) {
    this.job = job;
    this.options = options;
    this.output = output;
    this.clock = new WatermarkClock({ lateness: options.lateness, idleTimeout: options.idleTimeout });
    this.windows = new PairedWindows({ window: job.window, aggregates: [job.aggregate, job.aggregate], digits: job.digits, trimLeading: options.trimLeading });
    this.incidents = new IncidentTracker(job.window.size, (incident, state) => output.incident(incident, state));
    this.onWindow = (result) => this.emit(result);
    this.silence = new SilenceTracker(options.silenceAfter ?? Number.POSITIVE_INFINITY);
    this.watchSilence = Number.isFinite(options.silenceAfter ?? Number.POSITIVE_INFINITY);
    this.onSilence = (event) => output.silence?.(event);
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

  get openSlots(): number {
    return this.windows.openSlots;
  }

  /** Declares an input partition before its first record, so it holds the watermark back (see WatermarkClock.register). */
  registerPartition(partition: string, wallNow: number): void {
    this.clock.register(partition, wallNow);
  }

  /** Whether the reader has read all that `partition` holds (only then can it count as idle). */
  setCaughtUp(partition: string, caughtUp: boolean): void {
    this.clock.setCaughtUp(partition, caughtUp);
  }

  /** An input partition that has ended (a finished file) no longer holds the watermark back. */
  endPartition(partition: string): void {
    this.clock.forget(partition);
  }

  /** One side's value for (key, instant), read from `partition` (any name unique per input). */
  add(partition: string, side: 0 | 1, key: string, instant: number, units: Units, scale: number, wallNow: number): AddOutcome {
    this.clock.observe(partition, instant, wallNow);
    return this.added(this.windows.add(key, side, instant, units, scale), key, instant);
  }

  /** Both sides' values for (key, instant) from one record: the same as `add` for side 0, then for side 1. */
  addPair(partition: string, key: string, instant: number, units0: Units, scale0: number, units1: Units, scale1: number, wallNow: number): AddOutcome {
    this.clock.observe(partition, instant, wallNow);
    return this.added(this.windows.addPair(key, instant, units0, scale0, units1, scale1), key, instant);
  }

  /**
   * The batch reader's way in: it tells the clock the latest instant of a
   * batch once (`observe`), then adds the batch's records by key handle
   * (`addTo`/`addPairTo`), which do not touch the clock.
   */
  observe(partition: string, instant: number, wallNow: number): void {
    this.clock.observe(partition, instant, wallNow);
  }

  /** A handle on `key` (its rows carry `number` as keyNumber). */
  keyHandle(key: string, number: number): KeyHandle {
    return this.windows.handle(key, number);
  }

  addTo(handle: KeyHandle, side: 0 | 1, instant: number, units: Units, scale: number): AddOutcome {
    return this.added(this.windows.addTo(handle, side, instant, units, scale), handle.key, instant);
  }

  addPairTo(handle: KeyHandle, instant: number, units0: Units, scale0: number, units1: Units, scale1: number): AddOutcome {
    return this.added(this.windows.addPairTo(handle, instant, units0, scale0, units1, scale1), handle.key, instant);
  }

  /** After a record was added (outcome 0) to `key`'s windows: the silence watch hears of it. */
  private added(outcome: AddOutcome, key: string, instant: number): AddOutcome {
    if (outcome === 0 && this.watchSilence) this.silence.observe(key, instant, this.onSilence);
    return outcome;
  }

  /** Advances the watermark to what the clock says at `wallNow`, emitting the windows it closes. */
  tick(wallNow: number): void {
    const watermark = this.clock.watermark(wallNow);
    if (watermark > this.windows.watermark) {
      this.windows.advanceTo(watermark, this.onWindow);
      this.incidents.advanceTo(watermark);
      this.silence.advanceTo(watermark, this.onSilence);
    }
  }

  /** End of a finite input: every open window and incident is emitted. */
  finish(): void {
    this.windows.flush(this.onWindow);
    this.incidents.flush();
  }

  private emit(result: PairedWindowResult): void {
    const alert = alertFor(this.job, this.options.thresholds, result.value0, result.value1);
    this.rowsEmitted++;
    if (this.output.reuseRows) {
      const row = this.reused;
      row.key = result.key;
      row.keyNumber = result.keyNumber;
      row.start = result.start;
      row.end = result.end;
      row.value0 = result.value0;
      row.value1 = result.value1;
      row.alert = alert;
      this.output.row(row);
    } else {
      this.output.row({ key: result.key, keyNumber: result.keyNumber, start: result.start, end: result.end, value0: result.value0, value1: result.value1, alert });
    }
    if (alert !== '') {
      this.incidents.observe({
        detector: this.job.name,
        key: result.key,
        alert,
        start: result.start,
        end: result.end,
        units: peakOf(this.job, alert, result.value0, result.value1),
        scale: this.job.digits,
      });
    }
  }

  snapshot(): DetectorSnapshot {
    return { clock: this.clock.snapshot(), windows: this.windows.snapshot(), incidents: this.incidents.snapshot(), silence: this.silence.snapshot() };
  }

  restore(snapshot: DetectorSnapshot, wallNow: number): void {
    this.clock.restore(snapshot.clock, wallNow);
    this.windows.restore(snapshot.windows);
    this.incidents.restore(snapshot.incidents);
    this.silence.restore(snapshot.silence);
  }
}
