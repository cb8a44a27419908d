// What every producer of src/io/produce shares: topics created when missing,
// a producer on the direct path for them, and a pacer that waits for a
// moment on the wall clock while an AbortSignal can cut the wait short.

import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaAdmin, KafkaProducer, type Acks, type Compression } from '../../kafka/index.ts';

/** Kafka settings of a producer; everything but the brokers has a default. */
export interface PublishOptions {
  brokers: readonly string[];
  /** Partitions of topics created here (default 3). */
  partitions?: number;
  acks?: Acks;
  compression?: Compression;
  /** Messages per produce request (default 4000). */
  batchMessages?: number;
  /** How long a partial batch waits for more, ms (default 5). */
  lingerMs?: number;
}

/** Creates the missing topics, then a producer that sends to them on its direct path. */
export async function openPublisher(options: PublishOptions, topics: readonly string[]): Promise<KafkaProducer> {
  const admin = await KafkaAdmin.connect({ brokers: options.brokers, retries: 1 });
  try {
    await admin.ensureTopics(topics, options.partitions ?? 3);
  } finally {
    await admin.close();
  }
  const producer = await KafkaProducer.connect({
    brokers: options.brokers,
    acks: options.acks ?? 'all',
    compression: options.compression ?? 'lz4',
    batchMessages: options.batchMessages ?? 4000,
    lingerMs: options.lingerMs ?? 5,
  });
  try {
    await producer.useTopics(topics);
  } catch (error) {
    await producer.abort();
    throw error;
  }
  return producer;
}

/**
 * Linger of the live producers (generators, simulate): a few events per
 * request instead of one costs the process about 40 % less CPU at 100
 * events a second, and 50 ms is nothing next to windows of seconds.
 */
export const LIVE_LINGER_MS = 50;

/** A pause shorter than this is carried over rather than slept (timers are coarse). */
const MIN_SLEEP_MS = 4;

/**
 * Waits until `dueMs` on the performance.now() clock. Returns false when the
 * signal fired (before or during the wait), true otherwise.
 */
export async function waitUntil(dueMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  const wait = dueMs - performance.now();
  if (wait < MIN_SLEEP_MS) return true;
  try {
    await sleep(wait, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps wall-clock instants (epoch ms) onto the monotonic clock, read once at
 * the start: a schedule stays steady when the wall clock is stepped (NTP).
 */
export class WallSchedule {
  /** The wall clock when the schedule started (epoch ms). */
  readonly startMs: number;
  readonly #monoStart: number;

  constructor(now: () => number = Date.now) {
    this.startMs = now();
    this.#monoStart = performance.now();
  }

  /** Waits until instant `epochMs`; false when the signal fired. */
  waitFor(epochMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    return waitUntil(this.#monoStart + (epochMs - this.startMs), signal);
  }

  /** How far (ms) the schedule is behind instant `epochMs` (negative: ahead). */
  lateBy(epochMs: number): number {
    return performance.now() - this.#monoStart - (epochMs - this.startMs);
  }
}
