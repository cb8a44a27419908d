// The broker's storage: topics, their partition logs and committed group
// offsets under one data directory. Opening it recovers every partition
// (torn tails cut off) before anything is served.

import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './files.ts';
import { FlushScheduler } from './flush-scheduler.ts';
import { GroupOffsetStore } from './group-offsets.ts';
import { lockDataDir } from './lock.ts';
import { Partition, type PartitionConfig } from './partition-log.ts';
import { MAX_PARTITIONS, loadTopics, makeTopicInfo, newTopicId, saveTopics, topicNameProblem } from './topics.ts';
import {
  StorageErrorCode,
  type BrokerStore,
  type BrokerStoreOptions,
  type CommittedOffset,
  type CreateTopicResult,
  type OffsetCommitEntry,
  type PartitionLog,
  type StoreCounters,
  type TopicInfo,
} from './types.ts';

const DEFAULTS = {
  fsync: 'always',
  segmentBytes: 64 * 1024 * 1024,
  retentionBytes: -1,
  retentionMs: 7 * 24 * 3600 * 1000,
  maxBatchBytes: 16 * 1024 * 1024,
} as const;
/** Segment positions are stored as int32 in the index. */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const PRODUCER_ID_FILE = 'producer-ids.json';
/** Producer ids are reserved on disk in blocks, so allocation rarely touches the disk. */
const PRODUCER_ID_BLOCK = 1000;
/** Not 0: @platformatic/kafka sends producerId 0 in InitProducerId to mean "none yet". */
const FIRST_PRODUCER_ID = 1000;

/** Topic configs that override store options per topic. */
const CONFIG_KEYS: Record<string, keyof Pick<PartitionConfig, 'segmentBytes' | 'retentionBytes' | 'retentionMs' | 'maxBatchBytes'>> = {
  'segment.bytes': 'segmentBytes',
  'retention.bytes': 'retentionBytes',
  'retention.ms': 'retentionMs',
  'max.message.bytes': 'maxBatchBytes',
};

interface TopicEntry {
  info: TopicInfo;
  partitions: Partition[];
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

class Store implements BrokerStore {
  readonly dataDir: string;
  readonly counters: StoreCounters = { fsyncs: 0, fsyncRounds: 0, offsetFsyncs: 0, appends: 0, bytesAppended: 0 };
  private readonly base: PartitionConfig;
  private readonly flusher = new FlushScheduler();
  private readonly topics = new Map<string, TopicEntry>();
  private readonly topicsById = new Map<string, TopicEntry>();
  /** Names being created or deleted: the name is taken until that finishes. */
  private readonly busyNames = new Set<string>();
  /** Topics whose partitions are open but which are not registered yet: every metadata write must list them. */
  private readonly creating = new Map<string, TopicInfo>();
  private offsets: GroupOffsetStore | undefined;
  private metadataWrites: Promise<void> = Promise.resolve();
  private nextProducerId = FIRST_PRODUCER_ID;
  private producerIdLimit = FIRST_PRODUCER_ID;
  private producerIdWrite: Promise<void> = Promise.resolve();
  private unlock: () => Promise<void> = async () => {};

  constructor(dataDir: string, base: PartitionConfig) {
    this.dataDir = dataDir;
    this.base = base;
    // Expose the flusher's figures through the public counters object.
    Object.defineProperty(this.counters, 'fsyncs', { get: () => this.flusher.fsyncs, enumerable: true });
    Object.defineProperty(this.counters, 'fsyncRounds', { get: () => this.flusher.rounds, enumerable: true });
    Object.defineProperty(this.counters, 'offsetFsyncs', { get: () => this.offsets?.fsyncs ?? 0, enumerable: true });
  }

  async load(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    this.unlock = await lockDataDir(this.dataDir);
    const topics = await loadTopics(this.dataDir);
    for (const info of topics) {
      const config = this.configFor(info.configs);
      const partitions: Partition[] = [];
      for (let p = 0; p < info.partitions; p++) {
        partitions.push(await Partition.open(join(this.dataDir, partitionDirName(info.name, p)), info.name, p, config, this.flusher, this.counters));
      }
      this.register({ info, partitions });
    }
    await this.removeOrphanDirectories();
    this.offsets = await GroupOffsetStore.open(this.dataDir, this.base.now, this.base.fsync === 'always');
    await this.loadProducerIds();
  }

  private get offsetStore(): GroupOffsetStore {
    if (!this.offsets) throw new Error('store is not loaded');
    return this.offsets;
  }

  private register(entry: TopicEntry): void {
    this.topics.set(entry.info.name, entry);
    this.topicsById.set(entry.info.topicId.toString('hex'), entry);
  }

  /** Partition directories of topics that are not in topics.json: a crashed create or delete. */
  private async removeOrphanDirectories(): Promise<void> {
    for (const name of await readdir(this.dataDir)) {
      const match = /^(.+)-(\d+)$/.exec(name);
      if (!match) continue;
      const topic = this.topics.get(match[1]!);
      if (topic && Number(match[2]) < topic.info.partitions) continue;
      const dir = join(this.dataDir, name);
      if (!(await stat(dir)).isDirectory()) continue;
      // Only delete what is recognisably ours.
      const files = await readdir(dir);
      if (files.every((f) => /^\d{20}\.(log|index)$/.test(f))) await rm(dir, { recursive: true, force: true });
    }
  }

  private configFor(configs: Readonly<Record<string, string>>): PartitionConfig {
    const config = { ...this.base };
    for (const [name, field] of Object.entries(CONFIG_KEYS)) {
      const value = configs[name];
      if (value !== undefined) config[field] = Number(value);
    }
    return config;
  }

  private configProblem(configs: Record<string, string>): string | null {
    for (const [name, value] of Object.entries(configs)) {
      const field = CONFIG_KEYS[name];
      if (!field) continue; // other Kafka configs are kept but have no effect here
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return `config ${name}=${value} is not an integer`;
      if (field === 'segmentBytes' && (n < 1024 || n > MAX_SEGMENT_BYTES)) return `segment.bytes must be between 1024 and ${MAX_SEGMENT_BYTES}`;
      if (field === 'maxBatchBytes' && n < 1) return 'max.message.bytes must be positive';
      if ((field === 'retentionBytes' || field === 'retentionMs') && n < -1) return `${name} must be -1 or more`;
    }
    return null;
  }

  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}, validateOnly = false): Promise<CreateTopicResult> {
    const fail = (errorCode: number, errorMessage: string): CreateTopicResult => ({ errorCode, errorMessage, topic: null });
    const nameProblem = topicNameProblem(name);
    if (nameProblem) return fail(StorageErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.topics.has(name) || this.busyNames.has(name)) return fail(StorageErrorCode.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) return fail(StorageErrorCode.INVALID_PARTITIONS, `partitions must be between 1 and ${MAX_PARTITIONS}`);
    const configProblem = this.configProblem(configs);
    if (configProblem) return fail(StorageErrorCode.INVALID_CONFIG, configProblem);
    const info = makeTopicInfo(name, newTopicId(), partitions, configs);
    if (validateOnly) return { errorCode: 0, errorMessage: null, topic: info };
    this.busyNames.add(name);
    try {
      const config = this.configFor(info.configs);
      const logs: Partition[] = [];
      for (let p = 0; p < partitions; p++) {
        const dir = join(this.dataDir, partitionDirName(name, p));
        await rm(dir, { recursive: true, force: true }); // leftovers of a crashed delete
        logs.push(await Partition.open(dir, name, p, config, this.flusher, this.counters));
      }
      const entry = { info, partitions: logs };
      this.creating.set(name, info);
      try {
        await this.persistTopics();
      } finally {
        this.creating.delete(name);
      }
      this.register(entry);
      return { errorCode: 0, errorMessage: null, topic: info };
    } finally {
      this.busyNames.delete(name);
    }
  }

  async deleteTopic(name: string): Promise<number> {
    const entry = this.topics.get(name);
    if (!entry) return StorageErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    this.topics.delete(name);
    this.topicsById.delete(entry.info.topicId.toString('hex'));
    this.busyNames.add(name);
    try {
      await this.persistTopics();
      await Promise.all(entry.partitions.map((p) => p.destroy()));
      await this.offsetStore.deleteTopic(name);
    } finally {
      this.busyNames.delete(name);
    }
    return 0;
  }

  private allInfos(): TopicInfo[] {
    return [...this.topics.values()].map((t) => t.info);
  }

  /**
   * Metadata writes are serialised, and each lists the topics as they are
   * when it runs (registered ones plus creations in flight), never a list
   * taken when it was queued: two topics created at once would otherwise
   * each write a list without the other, and the last write would drop a
   * topic whose data is on disk (a restart then deletes it as an orphan).
   */
  private persistTopics(): Promise<void> {
    const write = this.metadataWrites.then(() => saveTopics(this.dataDir, [...this.allInfos(), ...this.creating.values()]));
    this.metadataWrites = write.catch(() => {});
    return write;
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name)?.info;
  }

  topicById(topicId: Buffer): TopicInfo | undefined {
    return this.topicsById.get(topicId.toString('hex'))?.info;
  }

  listTopics(): TopicInfo[] {
    return this.allInfos().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.topics.get(topic)?.partitions[partition];
  }

  commitOffsets(group: string, offsets: readonly OffsetCommitEntry[]): Promise<void> {
    return this.offsetStore.commit(group, offsets);
  }

  fetchOffsets(group: string, topic?: string, partition?: number): CommittedOffset[] {
    return this.offsetStore.fetch(group, topic, partition);
  }

  listGroupsWithOffsets(): string[] {
    return this.offsetStore.groupIds();
  }

  deleteGroupOffsets(group: string): Promise<void> {
    return this.offsetStore.deleteGroup(group);
  }

  async allocateProducerId(): Promise<number> {
    // Reserve the next block on disk before handing out ids from it.
    while (this.nextProducerId >= this.producerIdLimit) {
      const reserve = this.producerIdWrite.then(async () => {
        if (this.nextProducerId < this.producerIdLimit) return;
        const limit = this.producerIdLimit + PRODUCER_ID_BLOCK;
        await writeFileAtomic(join(this.dataDir, PRODUCER_ID_FILE), JSON.stringify({ reservedUpTo: limit }) + '\n');
        this.producerIdLimit = limit;
      });
      this.producerIdWrite = reserve.catch(() => {});
      await reserve;
    }
    return this.nextProducerId++;
  }

  private async loadProducerIds(): Promise<void> {
    try {
      const { reservedUpTo } = JSON.parse(await readFile(join(this.dataDir, PRODUCER_ID_FILE), 'utf8')) as { reservedUpTo: number };
      // Everything up to the reservation may have been handed out before a crash.
      this.nextProducerId = this.producerIdLimit = reservedUpTo;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async enforceRetention(): Promise<void> {
    for (const entry of [...this.topics.values()]) {
      for (const partition of entry.partitions) await partition.enforceRetention();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
    await this.metadataWrites;
    await this.producerIdWrite;
    await this.offsets?.close();
    await this.unlock();
  }
}

export async function openStore(dataDir: string, options: BrokerStoreOptions): Promise<BrokerStore> {
  const segmentBytes = options.segmentBytes ?? DEFAULTS.segmentBytes;
  if (segmentBytes < 1024 || segmentBytes > MAX_SEGMENT_BYTES) throw new RangeError(`segmentBytes must be between 1024 and ${MAX_SEGMENT_BYTES}`);
  const store = new Store(dataDir, {
    fsync: options.fsync ?? DEFAULTS.fsync,
    segmentBytes,
    retentionBytes: options.retentionBytes ?? DEFAULTS.retentionBytes,
    retentionMs: options.retentionMs ?? DEFAULTS.retentionMs,
    maxBatchBytes: options.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
    now: options.now ?? Date.now,
    onEvent: (event) => {
      try {
        options.onEvent?.(event);
      } catch {
        // A failing observer must not break storage.
      }
    },
  });
  try {
    await store.load();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
