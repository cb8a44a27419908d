// Public contract of the broker's storage layer, written first so the
// protocol/API code can be built against it while storage is implemented.
//
// Layout on disk (under dataDir):
//   topics.json                      topic metadata (atomic rewrite: tmp + fsync + rename + dir fsync)
//   <topic>-<partition>/             one directory per partition
//     00000000000000000000.log       record batches exactly as produced, only baseOffset rewritten
//     00000000000000000000.index     sparse offset index (relative offset int32, file position int32)
//   group-offsets.log                committed group offsets, append-only, compacted on open
//
// Entry point: `openBrokerStore(dataDir, options): Promise<BrokerStore>` in ./index.ts.
//
// Conventions:
// - Offsets and timestamps are JS numbers (exact up to 2^53, which a single
//   node will never reach); the wire codec converts to/from int64.
// - Every method that can fail for a client-visible reason returns a Kafka
//   error code (see `StorageErrorCode`) instead of throwing. Exceptions mean
//   a broken disk or a programming error.
// - Record bytes handed in (Produce `records`) and out (Fetch `records`) are
//   concatenated RecordBatch v2 frames; storage never decompresses.

/** Kafka error codes the storage layer produces (values from the Kafka protocol). */
export const StorageErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_CONFIG: 40,
  KAFKA_STORAGE_ERROR: 56,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  UNKNOWN_PRODUCER_ID: 59,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

export type FsyncMode = 'always' | 'never';

export interface BrokerStoreOptions {
  /** 'always' (default): acks 1/-1 and offset commits resolve after fdatasync (group commit). 'never': after write(). */
  fsync?: FsyncMode;
  /** Roll the active segment once it reaches this size. Default 64 MiB. */
  segmentBytes?: number;
  /** Per-partition size bound enforced by enforceRetention(); -1 (default) = unbounded. */
  retentionBytes?: number;
  /**
   * Delete segments whose newest record timestamp and last append are both older
   * than this (a fully expired log is rolled so its last segment goes too); -1 =
   * forever. Default 7 days.
   */
  retentionMs?: number;
  /** Largest Produce `records` blob accepted per partition. Default 16 MiB. */
  maxBatchBytes?: number;
  /** Clock for retention and commit timestamps; injectable for tests. Default Date.now. */
  now?: () => number;
  /** Notable storage events, for the broker's log (never called on the hot path). */
  onEvent?: (event: StorageEvent) => void;
}

export type StorageEvent =
  /** Recovery cut a torn or corrupt tail off a segment. */
  | { type: 'truncated'; topic: string; partition: number; segmentBaseOffset: number; keptBytes: number; droppedBytes: number; reason: string }
  /** Recovery removed segments that followed a cut one (offsets must stay contiguous). */
  | { type: 'segments-dropped'; topic: string; partition: number; segmentBaseOffsets: number[] }
  /** Retention deleted old segments. */
  | { type: 'retention'; topic: string; partition: number; deletedSegments: number; logStartOffset: number }
  /** A write or fsync failed: the partition refuses appends until the broker restarts. */
  | { type: 'log-failed'; topic: string; partition: number; error: string };

export interface TopicInfo {
  readonly name: string;
  /** 16 bytes, random UUID v4, never all zero; stable across restarts. */
  readonly topicId: Buffer;
  /** Same id as the canonical 8-4-4-4-12 hex string. */
  readonly topicIdString: string;
  readonly partitions: number;
  /** Kafka topic configs as given at creation (e.g. retention.ms, segment.bytes). */
  readonly configs: Readonly<Record<string, string>>;
}

export type CreateTopicResult =
  | { errorCode: 0; errorMessage: null; topic: TopicInfo }
  | { errorCode: number; errorMessage: string; topic: null };

/** acks as in the Produce request: 0 none, 1 leader, -1 all (same as 1 on one node). */
export type Acks = 0 | 1 | -1;

export interface AppendResult {
  errorCode: number;
  /** Offset given to the first record of the first batch; -1 on error. */
  baseOffset: number;
  /** Always -1: batches keep CreateTime (LogAppendTime would need a CRC rewrite). */
  logAppendTimeMs: number;
  logStartOffset: number;
  /** Human-readable reason when errorCode != 0 (Produce v8+ error_message). */
  errorMessage: string | null;
}

export interface ReadResult {
  /** 0, or OFFSET_OUT_OF_RANGE when fetchOffset < logStartOffset or > highWatermark. */
  errorCode: number;
  /** Whole batches, the first one containing fetchOffset (it may start before it). Empty Buffer at the end, never null. */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

export interface OffsetForTimestampResult {
  errorCode: number;
  /** -1 when no batch has a timestamp >= the target. */
  offset: number;
  /** Timestamp of the record found (a compressed batch's maxTimestamp), or -1 for latest/earliest/none. */
  timestamp: number;
}

/** ListOffsets special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** First offset still readable (advances with retention). */
  readonly logStartOffset: number;
  /** Log end offset: next offset to be assigned. Single node, so HW == LEO == last stable offset. */
  readonly highWatermark: number;
  /**
   * Appends a Produce request's `records` bytes (one or more RecordBatch v2).
   * Validated whole before anything is written: one bad batch rejects all.
   * The buffer is taken over: baseOffset fields are rewritten in place and
   * it is kept until written, so pass a view the caller no longer changes.
   * Readers see the batches once written (before the fsync), as in Kafka.
   * Resolves after fdatasync when acks != 0 and fsync = 'always' (group commit).
   */
  append(records: Buffer, acks: Acks): Promise<AppendResult>;
  /** Reads whole batches from fetchOffset up to about maxBytes, capped at 8 MiB (always at least one whole batch). */
  read(fetchOffset: number, maxBytes: number): Promise<ReadResult>;
  /**
   * Resolves true as soon as highWatermark > offset, false when timeoutMs
   * passes or the signal aborts first. For Fetch long-polling.
   */
  waitForData(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Calls listener after each append (after the write, before fsync). Returns an unsubscribe function. */
  onAppend(listener: (log: PartitionLog) => void): () => void;
  /**
   * ListOffsets: -1 latest → HW, -2 earliest → logStart, -3 the record with the
   * largest timestamp, else the first record with timestamp >= ts. Records are
   * resolved inside uncompressed batches; a compressed batch answers with its
   * first offset and maxTimestamp (storage never decompresses).
   */
  offsetForTimestamp(timestamp: number): Promise<OffsetForTimestampResult>;
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
  /** -1 when unknown. */
  leaderEpoch: number;
}

export interface CommittedOffset extends OffsetCommitEntry {
  /** When the commit was stored (options.now()). */
  commitTimestamp: number;
}

export interface StoreCounters {
  /** fdatasync calls issued for log data (group commit: far fewer than appends). */
  fsyncs: number;
  /** Group-commit rounds: each syncs every file written since the previous round. */
  fsyncRounds: number;
  /** fdatasync calls for committed group offsets (shared by concurrent commits). */
  offsetFsyncs: number;
  /** Successful append() calls. */
  appends: number;
  /** Bytes appended to logs. */
  bytesAppended: number;
}

export interface BrokerStore {
  readonly dataDir: string;
  readonly counters: Readonly<StoreCounters>;

  /**
   * Creates and persists a topic. Errors: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION
   * (name: 1..249 chars of [a-zA-Z0-9._-], not "." or ".."), INVALID_PARTITIONS (< 1 or > 10000).
   * With validateOnly nothing is created.
   */
  createTopic(name: string, partitions: number, configs?: Record<string, string>, validateOnly?: boolean): Promise<CreateTopicResult>;
  /** Removes topic, its files and its committed offsets. Returns UNKNOWN_TOPIC_OR_PARTITION if absent. */
  deleteTopic(name: string): Promise<number>;
  topic(name: string): TopicInfo | undefined;
  topicById(topicId: Buffer): TopicInfo | undefined;
  listTopics(): TopicInfo[];
  /** The log of one partition, or undefined for an unknown topic/partition. */
  partition(topic: string, partition: number): PartitionLog | undefined;

  /** Durably stores (fsync) the offsets; later commits for the same key win. */
  commitOffsets(group: string, offsets: readonly OffsetCommitEntry[]): Promise<void>;
  /** Committed offsets of a group, optionally filtered by topic and partition. */
  fetchOffsets(group: string, topic?: string, partition?: number): CommittedOffset[];
  /** Groups that have at least one committed offset. */
  listGroupsWithOffsets(): string[];
  /** Forgets all committed offsets of a group (DeleteGroups). */
  deleteGroupOffsets(group: string): Promise<void>;

  /**
   * A producer id never handed out before by this data directory (InitProducerId),
   * so idempotence state left in the logs can never be mistaken for a new producer's.
   */
  allocateProducerId(): Promise<number>;

  /** Deletes whole old segments by size and age in every partition. Call periodically. */
  enforceRetention(): Promise<void>;
  /** Waits for in-flight writes and fsyncs, then closes every file. */
  close(): Promise<void>;
}
