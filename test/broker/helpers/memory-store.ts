// A small in-memory BrokerStore for protocol and server tests that do not
// exercise the disk: batches are kept as received (baseOffset rewritten),
// with no CRC or sequence checks. The real store is tested separately.
import { randomUUID } from 'node:crypto';
import type {
  Acks, AppendResult, BrokerStore, CommittedOffset, CreateTopicResult, OffsetCommitEntry, OffsetForTimestampResult,
  PartitionLog, ReadResult, StoreCounters, TopicInfo,
} from '../../../src/broker/storage/types.ts';

class MemoryPartition implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  logStartOffset = 0;
  highWatermark = 0;
  private readonly batches: { base: number; bytes: Buffer }[] = [];
  private readonly listeners = new Set<(log: PartitionLog) => void>();

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  async append(records: Buffer, _acks: Acks): Promise<AppendResult> {
    const base = this.highWatermark;
    for (let at = 0; at + 61 <= records.length;) {
      const size = records.readInt32BE(at + 8) + 12;
      const bytes = Buffer.from(records.subarray(at, at + size));
      bytes.writeBigInt64BE(BigInt(this.highWatermark), 0);
      this.batches.push({ base: this.highWatermark, bytes });
      this.highWatermark += bytes.readInt32BE(23) + 1;
      at += size;
    }
    for (const listener of this.listeners) listener(this);
    return { errorCode: 0, baseOffset: base, logAppendTimeMs: -1, logStartOffset: 0, errorMessage: null };
  }

  async read(fetchOffset: number, maxBytes: number): Promise<ReadResult> {
    if (fetchOffset > this.highWatermark || fetchOffset < this.logStartOffset) {
      return { errorCode: 1, records: Buffer.alloc(0), highWatermark: this.highWatermark, logStartOffset: this.logStartOffset };
    }
    const out: Buffer[] = [];
    let size = 0;
    for (const batch of this.batches) {
      const last = batch.base + batch.bytes.readInt32BE(23);
      if (last < fetchOffset) continue;
      if (out.length > 0 && size + batch.bytes.length > maxBytes) break;
      out.push(batch.bytes);
      size += batch.bytes.length;
    }
    return { errorCode: 0, records: Buffer.concat(out), highWatermark: this.highWatermark, logStartOffset: this.logStartOffset };
  }

  waitForData(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.highWatermark > offset) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const listener = (): void => {
        if (this.highWatermark > offset) done(true);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.listeners.add(listener);
      signal?.addEventListener('abort', onAbort);
    });
  }

  onAppend(listener: (log: PartitionLog) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async offsetForTimestamp(timestamp: number): Promise<OffsetForTimestampResult> {
    if (timestamp === -1) return { errorCode: 0, offset: this.highWatermark, timestamp: -1 };
    if (timestamp === -2) return { errorCode: 0, offset: this.logStartOffset, timestamp: -1 };
    for (const batch of this.batches) {
      const maxTimestamp = Number(batch.bytes.readBigInt64BE(35));
      if (maxTimestamp >= timestamp) return { errorCode: 0, offset: batch.base, timestamp: maxTimestamp };
    }
    return { errorCode: 0, offset: -1, timestamp: -1 };
  }
}

export class MemoryStore implements BrokerStore {
  readonly dataDir = ':memory:';
  readonly counters: StoreCounters = { fsyncs: 0, fsyncRounds: 0, appends: 0, bytesAppended: 0 };
  private readonly topics = new Map<string, { info: TopicInfo; logs: MemoryPartition[] }>();
  private readonly offsets = new Map<string, Map<string, CommittedOffset>>();

  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}, validateOnly = false): Promise<CreateTopicResult> {
    if (this.topics.has(name)) return { errorCode: 36, errorMessage: `topic ${name} exists`, topic: null };
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..') return { errorCode: 17, errorMessage: 'bad name', topic: null };
    if (partitions < 1) return { errorCode: 37, errorMessage: 'bad partitions', topic: null };
    const id = randomUUID();
    const info: TopicInfo = { name, topicId: Buffer.from(id.replaceAll('-', ''), 'hex'), topicIdString: id, partitions, configs };
    if (!validateOnly) this.topics.set(name, { info, logs: Array.from({ length: partitions }, (_, i) => new MemoryPartition(name, i)) });
    return { errorCode: 0, errorMessage: null, topic: info };
  }

  async deleteTopic(name: string): Promise<number> {
    return this.topics.delete(name) ? 0 : 3;
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name)?.info;
  }

  topicById(topicId: Buffer): TopicInfo | undefined {
    for (const entry of this.topics.values()) if (entry.info.topicId.equals(topicId)) return entry.info;
    return undefined;
  }

  listTopics(): TopicInfo[] {
    return [...this.topics.values()].map((entry) => entry.info);
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.logs[partition];
  }

  async commitOffsets(group: string, offsets: readonly OffsetCommitEntry[]): Promise<void> {
    let map = this.offsets.get(group);
    if (!map) this.offsets.set(group, (map = new Map()));
    for (const entry of offsets) map.set(`${entry.topic}\0${entry.partition}`, { ...entry, commitTimestamp: Date.now() });
  }

  fetchOffsets(group: string, topic?: string, partition?: number): CommittedOffset[] {
    return [...(this.offsets.get(group)?.values() ?? [])].filter((entry) => (topic === undefined || entry.topic === topic) && (partition === undefined || entry.partition === partition));
  }

  listGroupsWithOffsets(): string[] {
    return [...this.offsets.keys()];
  }

  async deleteGroupOffsets(group: string): Promise<void> {
    this.offsets.delete(group);
  }

  private lastProducerId = 0;

  async allocateProducerId(): Promise<number> {
    return ++this.lastProducerId;
  }

  async enforceRetention(): Promise<void> {}

  async close(): Promise<void> {}
}
