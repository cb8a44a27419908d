// A simulated fleet (what `streamwatch simulate` publishes): N servers that
// report their metrics every interval, and a load balancer in front of them
// writing one log line per request. Deterministic by seed and start time,
// and endless: `next()` gives the next event in time order, and the caller
// decides when to stop and how to pace.
//
// Server metrics come from the dataset's MetricsProducer (same values, same
// anomaly episodes: cpu spike, memory saturation, both, DDoS, disk thrash,
// both), with episodes closer together so a user sees alerts within
// minutes. On top of it, now and then one server goes silent for 90-180 s
// (longer than the detectors' default 60 s silence limit): it reports
// nothing and the balancer gets 502s from it at once.
//
// Balancer lines follow SEMANTICS.md section 5. Each request goes to a
// random server; its latency and its chance of failing grow with that
// server's load at its latest report (cpu, memory, a net flood, a disk
// thrash), so an anomaly episode also shows in the balancer's summary.
// Three PRNG streams (metrics, silences, balancer) drawn from the seed keep
// the metrics the same whatever the balancer's rate.

import { CPU, DISK_IO, MEM, METRICS_PER_SERVER, MetricsProducer, NET_IN, type AnomalyKind } from './metrics.ts';
import { METHODS, PATHS, STATUSES } from './lb.ts';
import { intBetween, mulberry32, type Random } from './prng.ts';

export interface FleetOptions {
  servers: number;
  /** Milliseconds between two reports of a server. */
  intervalMs: number;
  /** Balancer lines per second (0: none). */
  lbRate: number;
  seed: number;
  /** Epoch ms of the first report. */
  startMs: number;
}

export type FleetEvent =
  /** Every reporting server's record at instant `at`, as rows of the combined CSV (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io). */
  | { kind: 'report'; at: number; rows: string[] }
  /** One balancer log line. */
  | { kind: 'lb'; at: number; line: string; backend: string };

export interface FleetEpisode {
  /** server_N */
  server: string;
  kind: AnomalyKind | 'silent';
  /** Epoch ms of its first and after its last affected instant. */
  startMs: number;
  endMs: number;
}

/** Thresholds of SEMANTICS.md section 3 in hundredths: above them a server is in trouble. */
const NET_FLOOD = 414_979;
const DISK_THRASH = 192_547;
const SILENT_MS = [90_000, 180_000] as const;
const FIRST_SILENCE_MS = [150_000, 360_000] as const;
const SILENCE_GAP_MS = [600_000, 1_500_000] as const;
const FAILURES = [500, 503, 504] as const;

export class FleetSimulator {
  readonly options: FleetOptions;
  readonly #metrics: MetricsProducer;
  readonly #values: Int32Array;
  readonly #serverIds: string[];
  readonly #onEpisode: ((episode: FleetEpisode) => void) | undefined;
  readonly #silenceRandom: Random;
  readonly #lbRandom: Random;
  readonly #latencyBase: Int32Array;
  #reportAt: number;
  #lbAt: number;
  #silentServer = -1;
  #silentFrom: number;
  #silentUntil = 0;

  constructor(options: FleetOptions, onEpisode?: (episode: FleetEpisode) => void) {
    this.options = options;
    this.#onEpisode = onEpisode;
    const { servers, intervalMs, startMs } = options;
    this.#metrics = new MetricsProducer(
      { servers, startSeconds: 0, cadence: intervalMs / 1000, duration: Number.POSITIVE_INFINITY, seed: options.seed, firstEpisodeWithinSeconds: 300 },
      (episode) => onEpisode?.({
        server: `server_${episode.server}`,
        kind: episode.kind,
        startMs: startMs + episode.startStep * intervalMs,
        endMs: startMs + episode.endStep * intervalMs,
      }),
    );
    this.#values = new Int32Array(servers * METRICS_PER_SERVER);
    this.#serverIds = Array.from({ length: servers }, (_, i) => `server_${i + 1}`);
    this.#silenceRandom = mulberry32(options.seed * 3 + 1);
    this.#lbRandom = mulberry32(options.seed * 3 + 2);
    this.#latencyBase = Int32Array.from(this.#serverIds, () => intBetween(this.#lbRandom, 10, 120));
    this.#reportAt = startMs;
    this.#lbAt = options.lbRate > 0 ? startMs + this.#lbGap() : Number.POSITIVE_INFINITY;
    this.#silentFrom = startMs + intBetween(this.#silenceRandom, FIRST_SILENCE_MS[0], FIRST_SILENCE_MS[1]);
  }

  /** The next event; reports come before balancer lines of the same instant. */
  next(): FleetEvent {
    if (this.#reportAt <= this.#lbAt) {
      const at = this.#reportAt;
      this.#reportAt += this.options.intervalMs;
      return { kind: 'report', at, rows: this.#report(at) };
    }
    const at = Math.floor(this.#lbAt);
    this.#lbAt += this.#lbGap();
    return this.#lbLine(at);
  }

  #lbGap(): number {
    return (-Math.log(1 - this.#lbRandom()) * 1000) / this.options.lbRate;
  }

  /** The server silent at instant `at`, or -1; starts and ends silences as time passes. */
  #silentAt(at: number): number {
    const random = this.#silenceRandom;
    if (this.#silentServer >= 0 && at >= this.#silentUntil) {
      this.#silentServer = -1;
      this.#silentFrom = this.#silentUntil + intBetween(random, SILENCE_GAP_MS[0], SILENCE_GAP_MS[1]);
    }
    if (this.#silentServer < 0 && at >= this.#silentFrom) {
      this.#silentServer = intBetween(random, 0, this.options.servers - 1);
      this.#silentUntil = this.#silentFrom + intBetween(random, SILENT_MS[0], SILENT_MS[1]);
      this.#onEpisode?.({ server: this.#serverIds[this.#silentServer]!, kind: 'silent', startMs: this.#silentFrom, endMs: this.#silentUntil });
    }
    return this.#silentServer;
  }

  #report(at: number): string[] {
    const values = this.#values;
    this.#metrics.next(values);
    const silent = this.#silentAt(at);
    const ts = new Date(at).toISOString();
    const rows: string[] = [];
    for (let i = 0, o = 0; i < this.options.servers; i++, o += METRICS_PER_SERVER) {
      if (i === silent) continue;
      rows.push(`${ts},${this.#serverIds[i]},${hundredths(values[o]!)},${hundredths(values[o + 1]!)},${hundredths(values[o + 2]!)},${hundredths(values[o + 3]!)},${hundredths(values[o + 4]!)}`);
    }
    return rows;
  }

  #lbLine(at: number): FleetEvent {
    const random = this.#lbRandom;
    const server = intBetween(random, 0, this.options.servers - 1);
    const method = METHODS[intBetween(random, 0, METHODS.length - 1)]!;
    const path = PATHS[intBetween(random, 0, PATHS.length - 1)]!;
    const draw = random();
    const jitter = 0.4 + 1.2 * random();
    let status: number;
    let latency: number;
    if (server === this.#silentAt(at)) {
      // Nothing listens: the balancer's connection is refused at once.
      status = 502;
      latency = 1 + Math.floor(4 * jitter);
    } else {
      const o = server * METRICS_PER_SERVER;
      const values = this.#values;
      const cpu = values[o + CPU]! / 100;
      const mem = values[o + MEM]! / 100;
      const flood = values[o + NET_IN]! > NET_FLOOD;
      const thrash = values[o + DISK_IO]! > DISK_THRASH;
      const slowdown = 1 + Math.max(0, cpu - 70) / 5 + Math.max(0, mem - 80) / 5 + (flood ? 3 : 0) + (thrash ? 2 : 0);
      const failChance = Math.max(0, cpu - 85) / 30 + Math.max(0, mem - 85) / 30 + (flood ? 0.2 : 0) + (thrash ? 0.05 : 0);
      latency = Math.round(this.#latencyBase[server]! * jitter * slowdown);
      status = draw < failChance ? FAILURES[intBetween(random, 0, FAILURES.length - 1)]! : STATUSES[intBetween(random, 0, STATUSES.length - 1)]!;
    }
    const backend = this.#serverIds[server]!;
    return { kind: 'lb', at, line: `${new Date(at).toISOString()} lb-1 ${backend} ${method} ${path} ${status} ${latency}`, backend };
  }
}

/** A non-negative integer of hundredths as a decimal with two fraction digits (3350 → 33.50), as the dataset prints. */
export function hundredths(value: number): string {
  const fraction = value % 100;
  return `${(value - fraction) / 100}.${fraction < 10 ? '0' : ''}${fraction}`;
}
