// A batching producer. Records are gathered per call site into batches of
// `batchMessages` (or whatever arrived within `lingerMs`) and sent with up to
// `maxInFlight` requests outstanding; `send()` returns a promise only when
// the caller must wait (too many batches in flight), so a tight loop pays
// no promise per record. Partitions come from the Java client's murmur2 of
// the key, so a key lands on the same partition as with any Kafka client.
//
// Topics announced with `useTopics()` take a direct path: records are
// encoded into one RecordBatch per partition as they arrive (record-batch.ts)
// and sent as one Produce v7 request per leader, several times cheaper than
// the client's generic send. That path does not retry: a failed request
// fails the producer (with idempotence the broker rejects duplicates anyway).

import { Producer, Writer, compatibilityPartitioner, createAPI, kGetConnection, produceV7, type Broker, type Connection, type MessageToProduce } from '@platformatic/kafka';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import { BatchBuilder } from './record-batch.ts';
import { partitionKey, type Acks, type Compression } from './types.ts';

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

interface PartitionBatches {
  name: string;
  partitions: Array<{ index: number; batch: Buffer }>;
}

/** Produce v7 (non-flexible; every broker since Kafka 2.1, librdkafka's choice too) with batches already encoded. */
function createProduceRequest(acks: number, timeout: number, topics: PartitionBatches[]): Writer {
  const writer = Writer.create()
    .appendString(null, false)
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray(topics, (w, topic) => {
      w.appendString(topic.name, false).appendArray(topic.partitions, (pw, p) => {
        pw.appendInt32(p.index).appendInt32(p.batch.length).append(p.batch);
      }, false, false);
    }, false, false);
  // acks=0: the broker sends no response, so the connection must not wait for one.
  if (acks === 0) (writer.context as { noResponse?: boolean }).noResponse = true;
  return writer;
}

const produceApi = createAPI<[number, number, PartitionBatches[]], unknown>(0, 7, createProduceRequest, produceV7.parseResponse, false, false);

interface DirectTopic {
  partitions: number;
  leaders: number[];
}

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
  private readonly compression: Compression;
  private readonly requestTimeoutMs: number;
  private readonly directTopics = new Map<string, DirectTopic>();
  private brokersById = new Map<number, Broker>();
  private builders = new Map<string, { topic: string; partition: number; builder: BatchBuilder }>();
  private directPending = 0;
  private readonly sequences = new Map<string, number>();
  private roundRobin = 0;
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
    this.compression = config.compression ?? 'lz4';
    this.requestTimeoutMs = config.requestTimeoutMs ?? 30_000;
  }

  /**
   * Sends records of these topics on the direct path (see the top of the
   * file). Their partition count and leaders are read now; call it again
   * after they change.
   */
  async useTopics(topics: readonly string[]): Promise<void> {
    let metadata;
    try {
      metadata = await this.client.metadata({ topics: [...topics], forceUpdate: true });
    } catch (error) {
      throw kafkaError(error, 'reading topic metadata', this.brokers);
    }
    for (const topic of topics) {
      const described = metadata.topics.get(topic);
      if (!described) throw kafkaError(new Error(`topic ${topic} does not exist`), 'reading topic metadata', this.brokers);
      this.directTopics.set(topic, { partitions: described.partitionsCount, leaders: described.partitions.map((p) => p.leader) });
    }
    this.brokersById = new Map(metadata.brokers);
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
    const direct = this.directTopics.get(topic);
    if (direct !== undefined) {
      const partition = (target ?? this.roundRobin++) % direct.partitions;
      const key = partitionKey(topic, partition);
      let open = this.builders.get(key);
      if (open === undefined) {
        open = { topic, partition, builder: new BatchBuilder() };
        this.builders.set(key, open);
      }
      open.builder.add(keyBytes, value);
      if (++this.directPending >= this.batchMessages) {
        this.dispatch();
        if (this.inFlight >= this.maxInFlight) return this.waitForSlot();
      } else if (this.lingerTimer === null) {
        this.lingerTimer = setTimeout(() => this.dispatch(), this.lingerMs);
      }
      return undefined;
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
    if (this.directPending > 0 && !this.failure) this.dispatchDirect();
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

  /** Finishes every open batch and sends them, one request per leader. */
  private dispatchDirect(): void {
    const open = this.builders;
    this.builders = new Map();
    this.directPending = 0;
    const byLeader = new Map<number, Map<string, PartitionBatches>>();
    const recordsOfLeader = new Map<number, number>();
    for (const [key, { topic, partition, builder }] of open) {
      let identity = null;
      if (this.idempotent) {
        const baseSequence = this.sequences.get(key) ?? 0;
        // Sequences wrap at 2^31 as in Kafka.
        this.sequences.set(key, (baseSequence + builder.count) % 2 ** 31);
        identity = { producerId: this.client.producerId ?? -1n, producerEpoch: this.client.producerEpoch ?? 0, baseSequence };
      }
      const leader = this.directTopics.get(topic)!.leaders[partition] ?? -1;
      let topics = byLeader.get(leader);
      if (!topics) byLeader.set(leader, (topics = new Map()));
      let entry = topics.get(topic);
      if (!entry) topics.set(topic, (entry = { name: topic, partitions: [] }));
      entry.partitions.push({ index: partition, batch: builder.finish(identity, this.compression) });
      recordsOfLeader.set(leader, (recordsOfLeader.get(leader) ?? 0) + builder.count);
    }
    for (const [leader, topics] of byLeader) {
      this.inFlight++;
      const broker = this.brokersById.get(leader);
      const done = (error: unknown): void => {
        if (error) this.failure ??= kafkaError(error, 'producing records', this.brokers);
        this.inFlight--;
        this.slotWaiters.shift()?.();
      };
      if (!broker) {
        done(new Error(`no address for leader ${leader}`));
        continue;
      }
      const request = [...topics.values()];
      const requestRecords = recordsOfLeader.get(leader) ?? 0;
      this.client[kGetConnection](broker, (error: Error | null, connection?: Connection) => {
        if (error || !connection) {
          done(error ?? new Error('no connection'));
          return;
        }
        produceApi(connection, this.acks, this.requestTimeoutMs, request, (produceError: Error | null) => {
          if (!produceError) this.acknowledged += requestRecords;
          done(produceError);
        });
      });
    }
  }

  private async waitForSlot(): Promise<void> {
    await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    if (this.failure) throw this.failure;
  }
}
