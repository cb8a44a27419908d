// The server-metrics dataset (SEMANTICS.md section 1) as a pure producer:
// step after step, the five metrics of every server, in hundredths.
//
// Values are integers of hundredths so the writer can print two decimals
// without floating-point formatting, and so tests can reason about them
// exactly. Normal values stay far below the alert thresholds of section 3;
// anomaly episodes of 45-120 s lift one or two metrics well above them, so
// every 30-second window lying inside an episode alerts, and the six alert
// kinds take turns on each server (a few episodes per server-hour).
import { intBetween, mulberry32 } from './prng.ts';
import type { Random } from './prng.ts';

export interface MetricsOptions {
  servers: number;
  /** Time of day of the first step, seconds after midnight. */
  startSeconds: number;
  /** Seconds between two steps. */
  cadence: number;
  /** Seconds covered: steps = floor(duration / cadence). */
  duration: number;
  seed: number;
  /** Seconds between two episodes of one server, [least, most] (default 600-1800). */
  episodeGapSeconds?: readonly [number, number];
  /** A server's first episode starts within this many seconds (default the longest gap). */
  firstEpisodeWithinSeconds?: number;
}

export const defaultMetricsOptions: MetricsOptions = {
  servers: 20,
  startSeconds: 20 * 3600 + 53 * 60,
  cadence: 5,
  duration: 7200,
  seed: 1,
};

/** Offsets of the metrics within one server's five values. */
export const CPU = 0;
export const MEM = 1;
export const NET_IN = 2;
export const NET_OUT = 3;
export const DISK_IO = 4;
export const METRICS_PER_SERVER = 5;
export const METRIC_COLUMNS = ['cpu_pct', 'mem_pct', 'net_in', 'net_out', 'disk_io'] as const;

/** The alert each episode kind is made to trigger (SEMANTICS.md section 3). */
export const ANOMALY_KINDS = ['cpu', 'mem', 'cpu+mem', 'net', 'disk', 'net+disk'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface Episode {
  /** 1-based server number (server_N). */
  server: number;
  kind: AnomalyKind;
  /** First step lifted. */
  startStep: number;
  /** First step after the episode. */
  endStep: number;
}

const NONE = -1;
const DAY = 86_400;
const EPISODE_SECONDS = [45, 120] as const;
const GAP_SECONDS = [600, 1800] as const;

// Kinds as bit sets, so a row tests "is cpu lifted" with one AND.
const LIFT_CPU = 1;
const LIFT_MEM = 2;
const LIFT_NET = 4;
const LIFT_DISK = 8;
const KIND_LIFTS = [LIFT_CPU, LIFT_MEM, LIFT_CPU | LIFT_MEM, LIFT_NET, LIFT_DISK, LIFT_NET | LIFT_DISK];

export function stepCount(options: MetricsOptions): number {
  return Math.floor(options.duration / options.cadence);
}

/** Seconds after midnight of a step, wrapping past midnight. */
export function timeOfStep(options: MetricsOptions, step: number): number {
  return (options.startSeconds + step * options.cadence) % DAY;
}

/** `HH:MM:SS` of seconds after midnight. */
export function formatTimeOfDay(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}`;
}

/**
 * Produces the dataset step by step. `next(values)` fills
 * values[(server - 1) * 5 + metric] with hundredths and returns the step
 * index, or -1 after the last step. Episodes are reported to `onEpisode` as
 * they start, so tests can see the plan without re-deriving it.
 */
export class MetricsProducer {
  readonly options: MetricsOptions;
  readonly steps: number;
  #step = 0;
  readonly #random: Random;
  readonly #onEpisode: ((episode: Episode) => void) | undefined;
  // Per-server state, in typed arrays: this runs once per row.
  readonly #cpuBase: Int32Array;
  readonly #cpuSwing: Int32Array;
  readonly #memLevel: Int32Array;
  readonly #memBase: Int32Array;
  readonly #netInBase: Int32Array;
  readonly #netOutBase: Int32Array;
  readonly #diskBase: Int32Array;
  readonly #nextKind: Int32Array;
  readonly #episodeLifts: Int32Array;
  readonly #episodeEnd: Int32Array;
  readonly #nextEpisode: Int32Array;
  readonly #gapSeconds: readonly [number, number];

  constructor(options: MetricsOptions, onEpisode?: (episode: Episode) => void) {
    this.options = options;
    this.steps = stepCount(options);
    this.#onEpisode = onEpisode;
    const n = options.servers;
    const random = mulberry32(options.seed);
    this.#random = random;
    this.#cpuBase = new Int32Array(n);
    this.#cpuSwing = new Int32Array(n);
    this.#memLevel = new Int32Array(n);
    this.#memBase = new Int32Array(n);
    this.#netInBase = new Int32Array(n);
    this.#netOutBase = new Int32Array(n);
    this.#diskBase = new Int32Array(n);
    this.#nextKind = new Int32Array(n);
    this.#episodeLifts = new Int32Array(n).fill(NONE);
    this.#episodeEnd = new Int32Array(n);
    this.#nextEpisode = new Int32Array(n);
    this.#gapSeconds = options.episodeGapSeconds ?? GAP_SECONDS;
    const firstWithin = options.firstEpisodeWithinSeconds ?? this.#gapSeconds[1];
    for (let i = 0; i < n; i++) {
      this.#cpuBase[i] = intBetween(random, 2000, 4200);
      this.#cpuSwing[i] = intBetween(random, -1000, 1000);
      this.#memBase[i] = intBetween(random, 3000, 5500);
      this.#memLevel[i] = this.#memBase[i]!;
      this.#netInBase[i] = intBetween(random, 25_000, 140_000);
      this.#netOutBase[i] = Math.round(this.#netInBase[i]! * (0.5 + random()));
      this.#diskBase[i] = intBetween(random, 2_000, 18_000);
      this.#nextKind[i] = intBetween(random, 0, KIND_LIFTS.length - 1);
      // The first episode comes anywhere in the first half hour, so episodes spread over time.
      this.#nextEpisode[i] = Math.floor(random() * this.#stepsOf(firstWithin));
    }
  }

  #stepsOf(seconds: number): number {
    return Math.max(1, Math.round(seconds / this.options.cadence));
  }

  next(values: Int32Array): number {
    const step = this.#step;
    if (step >= this.steps) return -1;
    this.#step = step + 1;
    const random = this.#random;
    // A slow wave shared by all servers (each with its own swing), one sine per step.
    const wave = Math.sin((2 * Math.PI * step * this.options.cadence) / 5400);
    const netWave = 1 + 0.15 * wave;
    const n = this.options.servers;
    // Locals, not private fields, in the loop that runs once per row.
    const episodeLifts = this.#episodeLifts;
    const episodeEnd = this.#episodeEnd;
    const nextEpisode = this.#nextEpisode;
    const cpuBase = this.#cpuBase;
    const cpuSwing = this.#cpuSwing;
    const memBase = this.#memBase;
    const memLevel = this.#memLevel;
    const netInBase = this.#netInBase;
    const netOutBase = this.#netOutBase;
    const diskBase = this.#diskBase;
    for (let i = 0, o = 0; i < n; i++, o += METRICS_PER_SERVER) {
      let lifts = episodeLifts[i]!;
      if (lifts !== NONE && step >= episodeEnd[i]!) {
        lifts = NONE;
        episodeLifts[i] = NONE;
        nextEpisode[i] = step + this.#stepsOf(intBetween(random, this.#gapSeconds[0], this.#gapSeconds[1]));
      }
      if (lifts === NONE && step >= nextEpisode[i]!) lifts = this.#startEpisode(i, step);

      // Normal values stay inside cpu 5-57 %, mem 20-65 %: far from the thresholds.
      const cpu = cpuBase[i]! + ((cpuSwing[i]! * wave) | 0) + ((random() * 1000) | 0) - 500;

      // Memory drifts slowly (a bounded random walk) rather than jumping about.
      const base = memBase[i]!;
      let level = memLevel[i]! + ((random() * 61) | 0) - 30;
      level = level < base - 800 ? base - 800 : level > base + 800 ? base + 800 : level;
      memLevel[i] = level;
      const mem = level + ((random() * 400) | 0) - 200;

      const netIn = (netInBase[i]! * (0.8 + 0.4 * random()) * netWave) | 0;
      const netOut = (netOutBase[i]! * (0.85 + 0.3 * random())) | 0;
      const disk = (diskBase[i]! * (0.6 + 0.8 * random())) | 0;

      values[o + CPU] = cpu;
      values[o + MEM] = mem;
      values[o + NET_IN] = netIn;
      values[o + NET_OUT] = netOut;
      values[o + DISK_IO] = disk;
      if (lifts !== NONE) {
        if (lifts & LIFT_CPU) values[o + CPU] = 8_600 + ((random() * 1_200) | 0);
        if (lifts & LIFT_MEM) values[o + MEM] = 8_100 + ((random() * 1_400) | 0);
        if (lifts & LIFT_NET) {
          values[o + NET_IN] = 450_000 + ((random() * 450_000) | 0);
          values[o + NET_OUT] = (netOut * 1.5) | 0;
        }
        if (lifts & LIFT_DISK) values[o + DISK_IO] = 200_000 + ((random() * 200_000) | 0);
      }
    }
    return step;
  }

  #startEpisode(i: number, step: number): number {
    const random = this.#random;
    const kindIndex = this.#nextKind[i]!;
    // Kinds take turns on each server, so even a short dataset shows all six.
    this.#nextKind[i] = (kindIndex + 1) % KIND_LIFTS.length;
    const lifts = KIND_LIFTS[kindIndex]!;
    this.#episodeLifts[i] = lifts;
    const endStep = step + this.#stepsOf(intBetween(random, EPISODE_SECONDS[0], EPISODE_SECONDS[1]));
    this.#episodeEnd[i] = endStep;
    this.#onEpisode?.({ server: i + 1, kind: ANOMALY_KINDS[kindIndex]!, startStep: step, endStep });
    return lifts;
  }
}

export interface MetricsRow {
  ts: string;
  serverId: string;
  /** The five metrics in hundredths, in METRIC_COLUMNS order. */
  hundredths: [number, number, number, number, number];
}

/** The rows one by one, for tests and small tools; the writer uses next() directly. */
export function* metricsRows(options: MetricsOptions): Generator<MetricsRow> {
  const producer = new MetricsProducer(options);
  const values = new Int32Array(options.servers * METRICS_PER_SERVER);
  for (let step = producer.next(values); step >= 0; step = producer.next(values)) {
    const ts = formatTimeOfDay(timeOfStep(options, step));
    for (let i = 0; i < options.servers; i++) {
      const o = i * METRICS_PER_SERVER;
      yield {
        ts,
        serverId: `server_${i + 1}`,
        hundredths: [values[o]!, values[o + 1]!, values[o + 2]!, values[o + 3]!, values[o + 4]!],
      };
    }
  }
}
