// A consumer-group member that hands out records in batches. The caller
// decides where each partition starts (`startOffsets`, e.g. from its own
// checkpoint); partitions it does not name start at the group's committed
// offset, else at the earliest (or latest) offset. Offsets are committed
// only when the caller says so, after its output is safe.
//
// @platformatic/kafka delivers records one by one on a Readable; they are
// gathered here into arrays, and the stream is paused while more than
// `maxBuffered` records wait, so a slow caller holds memory bounded.

import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { KafkaAdmin } from './admin.ts';
import { copartitionedAssigner } from './copartitioned.ts';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import { partitionKey, type ConsumedRecord, type PartitionOffset, type TopicPartition } from './types.ts';

export interface GroupConsumerConfig extends ClientConfig {
  groupId: string;
  topics: readonly string[];
  /** Where to start reading these partitions (next offset to read); they win over the group's commits. */
  startOffsets?: readonly PartitionOffset[];
  /** Where partitions without a start offset or a commit begin. */
  fallback?: 'earliest' | 'latest';
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Longest time the broker may hold a fetch waiting for data (ms). */
  maxWaitMs?: number;
  /** Records held before the stream is paused. */
  maxBuffered?: number;
  /** Called with this member's partitions after each (re)join. */
  onAssign?: (partitions: TopicPartition[]) => void;
  /** Give partition p of every topic to one member (for joins of co-partitioned topics). */
  copartitioned?: boolean;
  /** Called when the group starts a rebalance (partitions may move). */
  onRebalance?: () => void;
}

type BufferConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

export class GroupConsumer {
  private readonly consumer: BufferConsumer;
  private readonly stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  private readonly brokers: readonly string[];
  private readonly maxBuffered: number;
  private buffered: ConsumedRecord[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private ended = false;
  private closed = false;

  private constructor(consumer: BufferConsumer, stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, config: GroupConsumerConfig) {
    this.consumer = consumer;
    this.stream = stream;
    this.brokers = config.brokers;
    this.maxBuffered = config.maxBuffered ?? 10_000;
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => this.onMessage(message));
    stream.on('error', (error: Error) => {
      this.failure ??= kafkaError(error, 'consuming', this.brokers);
      this.notify();
    });
    stream.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  /**
   * Joins the group and starts fetching. Checks first that a broker answers
   * and that the topics exist.
   */
  static async start(config: GroupConsumerConfig): Promise<GroupConsumer> {
    const admin = await KafkaAdmin.connect(config);
    let starts: PartitionOffset[];
    try {
      const counts = await admin.partitionCounts(config.topics);
      const committed = await admin.committedOffsets(config.groupId, config.topics);
      const chosen = new Map<string, PartitionOffset>();
      for (const c of committed) chosen.set(partitionKey(c.topic, c.partition), c);
      for (const s of config.startOffsets ?? []) {
        if ((counts.get(s.topic) ?? 0) > s.partition) chosen.set(partitionKey(s.topic, s.partition), s);
      }
      starts = [...chosen.values()];
    } finally {
      await admin.close();
    }
    const consumer: BufferConsumer = new Consumer({
      ...baseOptions(config, 'streamwatch-consumer'),
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: config.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: config.heartbeatIntervalMs ?? 1000,
      maxWaitTime: config.maxWaitMs ?? 500,
      // Kept small: one fetch becomes one JavaScript object per record, and
      // compressed metric batches unpack to ~5x their size, so 16 MB fetches
      // held a gigabyte of records at once (1 MB: 440 MB peak, less CPU than 2 MB).
      maxBytes: 1024 * 1024,
      maxBytesPerPartition: 256 * 1024,
      ...(config.copartitioned ? { partitionAssigner: copartitionedAssigner } : {}),
    });
    if (config.onAssign) {
      const onAssign = config.onAssign;
      consumer.on('consumer:group:join', (payload) => {
        onAssign((payload.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))));
      });
    }
    if (config.onRebalance) consumer.on('consumer:group:rebalance', config.onRebalance);
    try {
      // MANUAL mode fetches from the offsets given; partitions not named begin
      // at `fallbackMode` (the stream lists earliest/latest for them on each join).
      const stream = await consumer.consume({
        topics: [...config.topics],
        mode: starts.length > 0 ? 'manual' : config.fallback ?? 'earliest',
        ...(starts.length > 0 ? { offsets: starts.map((s) => ({ topic: s.topic, partition: s.partition, offset: BigInt(s.offset) })) } : {}),
        fallbackMode: config.fallback ?? 'earliest',
        autocommit: false,
      });
      return new GroupConsumer(consumer, stream, config);
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw kafkaError(error, `joining group ${config.groupId}`, config.brokers);
    }
  }

  /** This member's partitions (empty before the first join completes). */
  assignments(): TopicPartition[] {
    return (this.consumer.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
  }

  /**
   * The records that arrived since the last call, waiting up to `maxWaitMs`
   * for at least one. An empty array means nothing came (or the consumer was closed).
   */
  async poll(maxWaitMs: number): Promise<ConsumedRecord[]> {
    if (this.buffered.length === 0 && !this.failure && !this.ended && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, maxWaitMs);
      });
      clearTimeout(timer);
      this.wake = null;
    }
    if (this.failure) throw this.failure;
    const batch = this.buffered;
    this.buffered = [];
    if (this.stream.isPaused() && !this.closed) this.stream.resume();
    return batch;
  }

  /** Batches until `close()` is called. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord[]> {
    while (!this.closed && !this.ended) {
      const batch = await this.poll(1000);
      if (batch.length > 0) yield batch;
    }
  }

  /** Commits the next offsets to read. Fails (SW_ERR_KAFKA, retriable) e.g. during a rebalance. */
  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
    } catch (error) {
      throw kafkaError(error, `committing offsets of group ${this.consumer.groupId}`, this.brokers);
    }
  }

  /** Stops fetching and leaves the group. Records still buffered are dropped (they were not committed). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    await this.stream.close().catch(() => {});
    await this.consumer.close().catch(() => this.consumer.close(true).catch(() => {}));
  }

  private onMessage(message: Message<Buffer, Buffer, Buffer, Buffer>): void {
    this.buffered.push({
      topic: message.topic,
      partition: message.partition,
      offset: Number(message.offset),
      key: message.key ?? null,
      value: message.value ?? null,
      timestamp: Number(message.timestamp),
    });
    if (this.buffered.length >= this.maxBuffered && !this.stream.isPaused()) this.stream.pause();
    if (this.buffered.length === 1) this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
