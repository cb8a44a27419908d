// Plain data types shared by the Kafka adapter and its users. Offsets are
// JavaScript numbers (exact below 2^53, which no partition here reaches), so
// callers can store them in JSON and compare them without bigint.

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position in a partition: for commits and start positions this is the next offset to read. */
export interface PartitionOffset extends TopicPartition {
  offset: number;
}

/** One record read from Kafka. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Milliseconds since the epoch (CreateTime or LogAppendTime, as the broker returns it). */
  timestamp: number;
}

export type Acks = 'all' | 1 | 0;

/** Codecs our broker stores and kcat 1.7.1 (librdkafka 2.0.2) reads. zstd is left out: librdkafka gates it on Produce v7/Fetch v10 and it needs a native module. */
export const COMPRESSIONS = ['none', 'gzip', 'lz4', 'snappy'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface TopicDescription {
  name: string;
  id: string;
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[] }>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{ memberId: string; clientId: string; clientHost: string; assignments: TopicPartition[] }>;
}

/** Key of a partition in maps: `topic:partition`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
