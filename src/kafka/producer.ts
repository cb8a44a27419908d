// A batching producer. Records are gathered per call site into batches of
// `batchMessages` (or whatever arrived within `lingerMs`) and sent with up to
// `maxInFlight` requests outstanding; `send()` returns a promise only when
// the caller must wait (too many batches in flight), so a tight loop pays
// no promise per record. Partitions come from the Java client's murmur2 of
// the key, so a key lands on the same partition as with any Kafka client.

import { Producer, compatibilityPartitioner, type MessageToProduce } from '@platformatic/kafka';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import type { Acks, Compression } from './types.ts';

export interface ProducerConfig extends ClientConfig {
  /** 'all' (default) waits for the log append, 1 the same on a one-broker cluster, 0 waits for nothing. */
  acks?: Acks;
  /** Default lz4: cheap, and read by our broker, kcat and every Kafka client. */
  compression?: Compression;
  /** How long a partly filled batch may wait for more records (ms). */
  lingerMs?: number;
  /** Records per produce request. */
  batchMessages?: number;
  /** Produce requests outstanding before `send()` asks the caller to wait. */
  maxInFlight?: number;
  /** Idempotent delivery (no duplicates on retry); default true with acks 'all', never otherwise (Kafka requires acks=all). */
  idempotent?: boolean;
}

/** Distinct string keys whose bytes and hash are remembered. */
const MAX_CACHED_KEYS = 100_000;

const ACKS: Record<string, number> = { all: -1, 1: 1, 0: 0 };

export class KafkaProducer {
  private readonly client: Producer;
  private readonly brokers: readonly string[];
  private readonly acks: number;
  private readonly idempotent: boolean;
  private readonly lingerMs: number;
  private readonly batchMessages: number;
  private readonly maxInFlight: number;
  private pending: MessageToProduce[] = [];
  private lingerTimer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private failure: Error | null = null;
  private readonly keys = new Map<string, { bytes: Buffer; hash: number }>();
  /** Records the brokers acknowledged (with acks 0: records written to the socket). */
  acknowledged = 0;

  private constructor(client: Producer, config: ProducerConfig, idempotent: boolean) {
    this.client = client;
    this.idempotent = idempotent;
    this.brokers = config.brokers;
    this.acks = ACKS[String(config.acks ?? 'all')] ?? -1;
    this.lingerMs = config.lingerMs ?? 5;
    this.batchMessages = config.batchMessages ?? 4000;
    this.maxInFlight = config.maxInFlight ?? 4;
  }

  /** Creates the producer and checks that a broker answers (SW_ERR_BROKER_UNREACHABLE otherwise). */
  static async connect(config: ProducerConfig): Promise<KafkaProducer> {
    const acks = config.acks ?? 'all';
    const idempotent = acks === 'all' && (config.idempotent ?? true);
    const client = new Producer({
      ...baseOptions(config, 'streamwatch-producer'),
      acks: ACKS[String(acks)] ?? -1,
      compression: config.compression ?? 'lz4',
      // Passed per send instead: with it in the constructor the client starts
      // InitProducerId on its own and a missing broker hangs instead of failing.
      idempotent: false,
      partitioner: compatibilityPartitioner,
      // Topics are created explicitly (KafkaAdmin.ensureTopics) with the partition count the user chose.
      autocreateTopics: false,
    });
    const producer = new KafkaProducer(client, config, idempotent);
    try {
      await client.metadata({ topics: [], forceUpdate: true });
      if (idempotent) await client.initIdempotentProducer({ acks: -1 });
    } catch (error) {
      await client.close(true).catch(() => {});
      throw kafkaError(error, 'starting the producer', config.brokers);
    }
    return producer;
  }

  /**
   * Queues one record (to `partition`, or the key's partition when not given). Returns a promise only when the caller has to wait
   * before queuing more; a failed earlier batch makes it throw.
   */
  send(topic: string, key: string | Buffer | null, value: string | Buffer, partition?: number): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let keyBytes: Buffer | undefined;
    let target = partition;
    if (typeof key === 'string') {
      // Keys repeat (one per server): their bytes and murmur2 hash are computed once.
      let known = this.keys.get(key);
      if (known === undefined) {
        const bytes = Buffer.from(key);
        known = { bytes, hash: compatibilityPartitioner({ topic }, bytes) };
        if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(key, known);
      }
      keyBytes = known.bytes;
      // The client reduces the partition modulo the topic's partition count.
      target ??= known.hash;
    } else if (key !== null) {
      keyBytes = key;
    }
    this.pending.push({ topic, partition: target, key: keyBytes, value: typeof value === 'string' ? Buffer.from(value) : value });
    if (this.pending.length >= this.batchMessages) {
      this.dispatch();
      if (this.inFlight >= this.maxInFlight) return this.waitForSlot();
    } else if (this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => this.dispatch(), this.lingerMs);
    }
    return undefined;
  }

  /** Sends what is queued and waits until every batch is acknowledged. */
  async flush(): Promise<void> {
    this.dispatch();
    while (this.inFlight > 0) await this.waitForSlot();
    if (this.failure) throw this.failure;
  }

  /** Flushes, then closes the connections. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.client.close().catch(() => {});
    }
  }

  /** Closes without waiting for queued records (after a failure). */
  async abort(): Promise<void> {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    this.pending = [];
    await this.client.close(true).catch(() => {});
  }

  private dispatch(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.pending.length === 0 || this.failure) return;
    const messages = this.pending;
    this.pending = [];
    this.inFlight++;
    this.client.send({ messages, acks: this.acks, idempotent: this.idempotent }).then(
      () => {
        this.acknowledged += messages.length;
      },
      (error: unknown) => {
        this.failure ??= kafkaError(error, 'producing records', this.brokers);
      },
    ).finally(() => {
      this.inFlight--;
      this.slotWaiters.shift()?.();
    });
  }

  private async waitForSlot(): Promise<void> {
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    if (this.failure) throw this.failure;
  }
}
