// A consumer-group member that hands out records in batches. The caller
// decides where each partition starts (`startOffsets`, e.g. from its own
// checkpoint); partitions it does not name start at the group's committed
// offset, else at the earliest (or latest) offset. Offsets are committed
// only when the caller says so, after its output is safe.
//
// Group membership (join, heartbeats, rebalances, commits) is
// @platformatic/kafka's; fetching is done here, with our own Fetch requests
// on a connection of their own (a long-polling fetch must not hold up
// heartbeats) and our own record decoding (record-decoder.ts): the client's
// message stream made several objects, closures and bigints per record and
// was most of a busy consumer's CPU time. One fetch per broker is in flight
// at a time; fetching stops while more than `maxBuffered` records wait, so a
// slow caller holds memory bounded.
//
// Positions: a partition this member keeps across a rebalance keeps its
// position; a partition it receives starts at its `startOffsets` entry (the
// first time), else at the group's committed offset (read at that moment),
// else at `fallback`. A fetch answered after its partition moved is dropped.

import { Consumer, ConnectionPool, ListOffsetTimestamps, ProtocolError, kOptions, type Broker, type ClusterMetadata, type Connection } from '@platformatic/kafka';
import { KafkaAdmin } from './admin.ts';
import { copartitionedAssigner, singleMemberAssigner } from './copartitioned.ts';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import { fetchApi, type FetchResult, type FetchTopic } from './fetch.ts';
import { CorruptRecordSetError, splitRecordSet, type FetchedBatch } from './record-decoder.ts';
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
  /** Records held before fetching pauses. */
  maxBuffered?: number;
  /** Most records one poll() returns (default 2,000): a caller that works through a batch without yielding holds its timers and sockets that long. */
  maxPollRecords?: number;
  /** Largest fetch response (bytes) and largest share of one partition in it. */
  fetchMaxBytes?: number;
  partitionMaxBytes?: number;
  /** Called with this member's partitions after each (re)join. */
  onAssign?: (partitions: TopicPartition[]) => void;
  /** Give partition p of every topic to one member (for joins of co-partitioned topics). */
  copartitioned?: boolean;
  /** Give every partition to one member; the others stand by (jobs that are one task over all partitions). */
  singleMember?: boolean;
  /** Called when the group starts a rebalance (partitions may move). */
  onRebalance?: () => void;
}

type BufferConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/** A partition this member fetches. Replaced, not reused, when the partition is assigned again or reset. */
interface Position {
  topic: string;
  partition: number;
  /** Next offset to fetch; -1 while the start is being looked up. */
  offset: number;
}

interface Requested {
  position: Position;
  offset: number;
}

const OFFSET_OUT_OF_RANGE = 1;

export class GroupConsumer {
  private readonly consumer: BufferConsumer;
  /** Connections for fetches only. */
  private readonly pool: ConnectionPool;
  private readonly topics: readonly string[];
  private readonly brokers: readonly string[];
  private readonly maxBuffered: number;
  private readonly maxPollRecords: number;
  private readonly fallback: 'earliest' | 'latest';
  private readonly fetchOptions: { maxWaitMs: number; maxBytes: number; partitionMaxBytes: number; isolationLevel: 0 | 1 };
  private readonly retries: number;
  private readonly retryDelayMs: number;
  /** Start offsets not used yet: the group's commits when we started, overridden by `startOffsets`. */
  private readonly initialOffsets: Map<string, number>;
  /** This member's partitions and where each is read next. */
  private readonly positions = new Map<string, Position>();
  private joined = false;
  private metadata: ClusterMetadata | null = null;
  private metadataLoading = false;
  /** Brokers with a fetch in flight. */
  private readonly fetching = new Set<number>();
  /** Turns the order of partitions in fetch requests, so that none waits behind the others' backlog. */
  private rotation = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Fetched batches not handed out yet, from `head` on; their records are made when handed out. */
  private batches: FetchedBatch[] = [];
  private head = 0;
  /** Records in those batches (an upper bound: some may lie below the offset asked for). */
  private buffered = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private closed = false;

  private constructor(consumer: BufferConsumer, config: GroupConsumerConfig, initialOffsets: Map<string, number>) {
    this.consumer = consumer;
    this.topics = [...config.topics];
    this.brokers = config.brokers;
    this.maxBuffered = config.maxBuffered ?? 10_000;
    this.maxPollRecords = Math.max(1, config.maxPollRecords ?? 2000);
    this.fallback = config.fallback ?? 'earliest';
    this.fetchOptions = {
      maxWaitMs: config.maxWaitMs ?? 500,
      // Records are decoded as views of the response, so a response lives as long as its last record.
      maxBytes: config.fetchMaxBytes ?? 1024 * 1024,
      partitionMaxBytes: config.partitionMaxBytes ?? 256 * 1024,
      isolationLevel: 1,
    };
    const options = baseOptions(config, 'streamwatch-consumer');
    this.retries = options.retries;
    this.retryDelayMs = options.retryDelay;
    this.initialOffsets = initialOffsets;
    this.pool = new ConnectionPool(options.clientId, { ...consumer[kOptions] });
    consumer.on('consumer:group:join', (payload) => this.onJoin(payload.assignments ?? []));
    // A failed rejoin: without a listener the client's 'error' event would crash the process.
    consumer.on('error', (error: Error) => this.fail(kafkaError(error, `rejoining group ${config.groupId}`, this.brokers)));
  }

  /**
   * Joins the group and starts fetching. Checks first that a broker answers
   * and that the topics exist.
   */
  static async start(config: GroupConsumerConfig): Promise<GroupConsumer> {
    const admin = await KafkaAdmin.connect(config);
    const initialOffsets = new Map<string, number>();
    try {
      const counts = await admin.partitionCounts(config.topics);
      const committed = await admin.committedOffsets(config.groupId, config.topics);
      for (const c of committed) initialOffsets.set(partitionKey(c.topic, c.partition), c.offset);
      for (const s of config.startOffsets ?? []) {
        if ((counts.get(s.topic) ?? 0) > s.partition) initialOffsets.set(partitionKey(s.topic, s.partition), s.offset);
      }
    } finally {
      await admin.close();
    }
    const consumer: BufferConsumer = new Consumer({
      ...baseOptions(config, 'streamwatch-consumer'),
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: config.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: config.heartbeatIntervalMs ?? 1000,
      ...(config.singleMember ? { partitionAssigner: singleMemberAssigner } : config.copartitioned ? { partitionAssigner: copartitionedAssigner } : {}),
    });
    const member = new GroupConsumer(consumer, config, initialOffsets);
    if (config.onAssign) {
      const onAssign = config.onAssign;
      consumer.on('consumer:group:join', (payload) => {
        onAssign((payload.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))));
      });
    }
    if (config.onRebalance) consumer.on('consumer:group:rebalance', config.onRebalance);
    try {
      for (const topic of config.topics) consumer.topics.track(topic);
      await consumer.joinGroup({});
      return member;
    } catch (error) {
      await member.pool.close().catch(() => {});
      await consumer.close(true).catch(() => {});
      throw kafkaError(error, `joining group ${config.groupId}`, config.brokers);
    }
  }

  /** This member's partitions (empty before the first join completes). */
  assignments(): TopicPartition[] {
    return (this.consumer.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
  }

  /**
   * The records that arrived since the last call (at most `maxPollRecords`),
   * waiting up to `maxWaitMs` for at least one. An empty array means nothing
   * came (or the consumer was closed). Always lets the event loop run once
   * (timers, sockets), even when records are waiting.
   */
  async poll(maxWaitMs: number): Promise<ConsumedRecord[]> {
    if (this.buffered === 0 && !this.failure && !this.closed) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, maxWaitMs);
      });
      clearTimeout(timer);
      this.wake = null;
    } else {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.failure) throw this.failure;
    const records: ConsumedRecord[] = [];
    while (records.length < this.maxPollRecords && this.head < this.batches.length) {
      const batch = this.batches[this.head]!;
      const before = batch.remaining;
      try {
        batch.take(records, this.maxPollRecords - records.length);
      } catch (error) {
        if (!(error instanceof CorruptRecordSetError) && !(error instanceof RangeError)) throw error;
        this.fail(kafkaError(error, `decoding records of ${partitionKey(batch.topic, batch.partition)} from offset ${batch.baseOffset}`, this.brokers));
        throw this.failure!;
      }
      this.buffered -= before - batch.remaining;
      if (batch.remaining === 0) this.head++;
    }
    // Let go of the batches handed out (and their bytes).
    if (this.head === this.batches.length) {
      this.batches = [];
      this.head = 0;
    } else if (this.head >= 16) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
    this.pump();
    return records;
  }

  /** Batches until `close()` is called. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord[]> {
    while (!this.closed) {
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
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    await this.pool.close().catch(() => {});
    await this.consumer.close().catch(() => this.consumer.close(true).catch(() => {}));
  }

  /** A (re)join: partitions kept keep their positions, new ones are looked up. */
  private onJoin(assignments: ReadonlyArray<{ topic: string; partitions: number[] }>): void {
    const assigned = new Set<string>();
    const added: Position[] = [];
    for (const { topic, partitions } of assignments) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        assigned.add(key);
        if (!this.positions.has(key)) {
          const position = { topic, partition, offset: -1 };
          this.positions.set(key, position);
          added.push(position);
        }
      }
    }
    for (const key of [...this.positions.keys()]) if (!assigned.has(key)) this.positions.delete(key);
    // The commits read at start are fresh for the first join; later joins read them again.
    this.locate(added, this.joined);
    this.joined = true;
  }

  /** Finds where `positions` start: their start offset, else (with `useCommits`) the group's commit, else the fallback. */
  private locate(positions: Position[], useCommits: boolean): void {
    if (positions.length === 0) return;
    this.startingOffsets(positions, useCommits).then(
      () => this.pump(),
      (error: unknown) => this.fail(kafkaError(error, `finding where to read ${positions.map((p) => partitionKey(p.topic, p.partition)).join(', ')}`, this.brokers)),
    );
  }

  private async startingOffsets(positions: Position[], useCommits: boolean): Promise<void> {
    let unknown: Position[] = [];
    for (const position of positions) {
      const key = partitionKey(position.topic, position.partition);
      const initial = this.initialOffsets.get(key);
      if (initial === undefined) {
        unknown.push(position);
      } else {
        this.initialOffsets.delete(key);
        position.offset = initial;
      }
    }
    if (unknown.length > 0 && useCommits) {
      const commits = await this.consumer.listCommittedOffsets({ topics: byTopic(unknown).map(([topic, partitions]) => ({ topic, partitions })) });
      unknown = unknown.filter((position) => {
        const commit = commits.get(position.topic)?.[position.partition];
        if (commit === undefined || commit < 0n) return true;
        position.offset = Number(commit);
        return false;
      });
    }
    if (unknown.length === 0) return;
    const groups = byTopic(unknown);
    const ends = await this.consumer.listOffsets({
      topics: groups.map(([topic]) => topic),
      partitions: Object.fromEntries(groups),
      timestamp: this.fallback === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
    });
    for (const position of unknown) {
      const offset = ends.get(position.topic)?.[position.partition];
      if (offset === undefined || offset < 0n) throw new Error(`the broker gave no ${this.fallback} offset for ${partitionKey(position.topic, position.partition)}`);
      position.offset = Number(offset);
    }
  }

  /** Sends a fetch to every broker that leads a partition of ours and has none in flight. */
  private pump(): void {
    if (this.closed || this.failure || this.retryTimer !== null || this.buffered >= this.maxBuffered) return;
    const metadata = this.metadata;
    if (metadata === null) {
      this.loadMetadata();
      return;
    }
    const requests = new Map<number, { topics: Map<string, FetchTopic>; requested: Map<string, Requested> }>();
    const positions = [...this.positions.values()];
    const first = this.rotation++ % Math.max(positions.length, 1);
    for (let i = 0; i < positions.length; i++) {
      const position = positions[(first + i) % positions.length]!;
      if (position.offset < 0) continue;
      const leader = metadata.topics.get(position.topic)?.partitions[position.partition]?.leader ?? -1;
      if (leader < 0 || !metadata.brokers.has(leader)) {
        this.retry(new Error(`no leader known for ${partitionKey(position.topic, position.partition)}`), 'finding partition leaders');
        return;
      }
      if (this.fetching.has(leader)) continue;
      let request = requests.get(leader);
      if (request === undefined) requests.set(leader, (request = { topics: new Map(), requested: new Map() }));
      let topic = request.topics.get(position.topic);
      if (topic === undefined) request.topics.set(position.topic, (topic = { topic: position.topic, partitions: [] }));
      topic.partitions.push({ partition: position.partition, offset: position.offset });
      request.requested.set(partitionKey(position.topic, position.partition), { position, offset: position.offset });
    }
    for (const [leader, request] of requests) this.fetchFrom(metadata.brokers.get(leader)!, leader, [...request.topics.values()], request.requested);
  }

  private loadMetadata(): void {
    if (this.metadataLoading) return;
    this.metadataLoading = true;
    this.consumer.metadata({ topics: [...this.topics], forceUpdate: true }).then(
      (metadata) => {
        this.metadataLoading = false;
        this.metadata = metadata;
        this.pump();
      },
      (error: unknown) => {
        this.metadataLoading = false;
        this.retry(error, 'reading topic metadata');
      },
    );
  }

  private fetchFrom(broker: Broker, node: number, topics: FetchTopic[], requested: Map<string, Requested>): void {
    this.fetching.add(node);
    this.pool.get(broker, (connectError: Error | null, connection?: Connection) => {
      if (connectError || connection === undefined) {
        this.fetching.delete(node);
        this.retry(connectError ?? new Error('no connection'), 'fetching records');
        return;
      }
      fetchApi(connection, this.fetchOptions, topics, (error: Error | null, result?: FetchResult) => {
        this.fetching.delete(node);
        if (this.closed) return;
        if (error || result === undefined) {
          this.retry(error ?? new Error('no response'), 'fetching records');
          return;
        }
        if (this.fetched(result, requested)) this.failures = 0;
        this.pump();
      });
    });
  }

  /** Takes in one fetch response; false when a partition needs a retry. */
  private fetched(result: FetchResult, requested: Map<string, Requested>): boolean {
    if (result.errorCode !== 0) {
      this.partitionError(result.errorCode, 'fetching records');
      return false;
    }
    let clean = true;
    const before = this.buffered;
    for (const fetched of result.partitions) {
      const key = partitionKey(fetched.topic, fetched.partition);
      const asked = requested.get(key);
      // Moved to another member, or reset, while the fetch was in flight.
      if (asked === undefined || this.positions.get(key) !== asked.position || asked.position.offset !== asked.offset) continue;
      if (fetched.errorCode === OFFSET_OUT_OF_RANGE) {
        const reset = { topic: fetched.topic, partition: fetched.partition, offset: -1 };
        this.positions.set(key, reset);
        const known = this.fallback === 'earliest' ? fetched.logStartOffset : fetched.highWatermark;
        if (known >= 0) reset.offset = known;
        else this.locate([reset], false);
        continue;
      }
      if (fetched.errorCode !== 0) {
        this.partitionError(fetched.errorCode, `fetching ${key}`);
        clean = false;
        continue;
      }
      if (fetched.records === null) continue;
      try {
        const split = splitRecordSet(fetched.records, fetched.topic, fetched.partition, asked.offset, fetched.aborted, this.batches);
        asked.position.offset = split.next;
        this.buffered += split.records;
      } catch (error) {
        if (!(error instanceof CorruptRecordSetError) && !(error instanceof RangeError)) throw error;
        this.fail(kafkaError(error, `decoding records of ${key} at offset ${asked.offset}`, this.brokers));
        return false;
      }
    }
    if (this.buffered > before) this.notify();
    return clean;
  }

  private partitionError(code: number, action: string): void {
    const error = new ProtocolError(code);
    if (error.canRetry) this.retry(error, action);
    else this.fail(kafkaError(error, action, this.brokers));
  }

  /** Tries again after a pause with fresh metadata; fails after `retries` failures in a row. */
  private retry(error: unknown, action: string): void {
    if (this.closed || this.failure) return;
    if (++this.failures > this.retries) {
      this.fail(kafkaError(error, action, this.brokers));
      return;
    }
    this.metadata = null;
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, this.retryDelayMs * this.failures);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** Positions grouped by topic: [topic, partitions]. */
function byTopic(positions: readonly Position[]): Array<[string, number[]]> {
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of positions) {
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push(partition);
  }
  return [...topics];
}
