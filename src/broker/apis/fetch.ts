// Fetch (key 1), v4-17 (v4 is the first to promise RecordBatch v2). Topics
// are named up to v12 and addressed by topic id from v13 (UNKNOWN_TOPIC_ID
// when the id is unknown). Sessions are not kept: session_id is always 0,
// so every client stays on full fetches. Stored batches go back exactly as
// stored (the writer appends them by reference); an empty partition answers
// zero-length records, never null (librdkafka rejects a -1 size).
//
// Long poll: when fewer than min_bytes are available the request waits up
// to max_wait_ms for any of its partitions to grow. A partition error ends
// the wait at once. The budget max_bytes may be exceeded by the first batch
// returned, so a consumer is never stuck behind a batch larger than its limit.
//
//   FetchRequest  => <tag 0: cluster_id>(v12+) replica_id(v0-14) <tag 1: replica_state>(v15+) max_wait_ms min_bytes
//                    max_bytes(v3+) isolation_level(v4+) session_id(v7+) session_epoch(v7+)
//                    [topic(v0-12) topic_id(v13+) [partition current_leader_epoch(v9+) fetch_offset
//                      last_fetched_epoch(v12+) log_start_offset(v5+) partition_max_bytes]]
//                    [topic(v7-12) topic_id(v13+) [partitions]](v7+) rack_id(v11+)
//   FetchResponse => throttle_time_ms(v1+) error_code(v7+) session_id(v7+)
//                    [topic(v0-12) topic_id(v13+) [partition_index error_code high_watermark last_stable_offset(v4+)
//                      log_start_offset(v5+) [producer_id first_offset](v4+, nullable) preferred_read_replica(v11+) records]]
//                    <tag 0: node_endpoints>(v16+)
import { f } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import type { RequestInfo } from './api.ts';
import type { BrokerContext } from './context.ts';
import type { PartitionLog, TopicInfo } from '../storage/types.ts';

interface FetchPartition {
  partition: number;
  currentLeaderEpoch: number;
  fetchOffset: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  clusterId: string | null;
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  sessionId: number;
  sessionEpoch: number;
  topics: { topic: string; topicId: string; partitions: FetchPartition[] }[];
  forgottenTopicsData: { topic: string; topicId: string; partitions: number[] }[];
  rackId: string;
}

interface PartitionData {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  abortedTransactions: { producerId: number; firstOffset: number }[] | null;
  preferredReadReplica: number;
  records: Buffer;
}

export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  responses: { topic: string; topicId: string; partitions: PartitionData[] }[];
}

const EMPTY = Buffer.alloc(0);

function partitionError(partitionIndex: number, errorCode: number): PartitionData {
  return { partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: [], preferredReadReplica: -1, records: EMPTY };
}

/** One requested partition resolved to its log (or to the error that stands for it). */
interface Target {
  request: FetchPartition;
  log: PartitionLog | undefined;
  errorCode: number;
}

function resolve(request: FetchRequest, broker: BrokerContext, byId: boolean): { topic: string; topicId: string; targets: Target[] }[] {
  return request.topics.map((wanted) => {
    const topic: TopicInfo | undefined = byId ? broker.store.topicById(Buffer.from(wanted.topicId, 'hex')) : broker.store.topic(wanted.topic);
    const missing = byId ? KafkaError.UNKNOWN_TOPIC_ID : KafkaError.UNKNOWN_TOPIC_OR_PARTITION;
    return {
      topic: topic?.name ?? wanted.topic,
      topicId: wanted.topicId,
      targets: wanted.partitions.map((part): Target => {
        if (!topic) return { request: part, log: undefined, errorCode: missing };
        const log = broker.store.partition(topic.name, part.partition);
        if (!log) return { request: part, log: undefined, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION };
        // This broker's leader epoch is always 0; -1 means "not checked".
        if (part.currentLeaderEpoch > 0) return { request: part, log: undefined, errorCode: KafkaError.UNKNOWN_LEADER_EPOCH };
        return { request: part, log, errorCode: 0 };
      }),
    };
  });
}

async function readOnce(plan: ReturnType<typeof resolve>, maxBytes: number): Promise<{ responses: FetchResponse['responses']; bytes: number; failed: boolean }> {
  let bytes = 0;
  let failed = false;
  const responses: FetchResponse['responses'] = [];
  for (const entry of plan) {
    const partitions: PartitionData[] = [];
    for (const target of entry.targets) {
      const { request, log } = target;
      if (!log) {
        failed = true;
        partitions.push(partitionError(request.partition, target.errorCode));
        continue;
      }
      const budget = Math.min(request.partitionMaxBytes, maxBytes - bytes);
      const base = { partitionIndex: request.partition, abortedTransactions: [], preferredReadReplica: -1 };
      if (budget <= 0 && bytes > 0) {
        // Budget spent: report the offsets, send no records.
        const hw = log.highWatermark;
        partitions.push({ ...base, errorCode: 0, highWatermark: hw, lastStableOffset: hw, logStartOffset: log.logStartOffset, records: EMPTY });
        continue;
      }
      const read = await log.read(request.fetchOffset, Math.max(budget, 1));
      if (read.errorCode !== 0) failed = true;
      bytes += read.records.length;
      partitions.push({
        ...base,
        errorCode: read.errorCode,
        highWatermark: read.highWatermark,
        lastStableOffset: read.highWatermark,
        logStartOffset: read.logStartOffset,
        records: read.records,
      });
    }
    responses.push({ topic: entry.topic, topicId: entry.topicId, partitions });
  }
  return { responses, bytes, failed };
}

async function waitForAny(plan: ReturnType<typeof resolve>, timeoutMs: number, closed: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const onClose = (): void => stop.abort();
  closed.addEventListener('abort', onClose, { once: true });
  try {
    const waits: Promise<boolean>[] = [];
    for (const entry of plan) {
      for (const target of entry.targets) {
        // Wait beyond what is there now: data already below min_bytes must not wake us again.
        if (target.log) waits.push(target.log.waitForData(Math.max(target.request.fetchOffset, target.log.highWatermark), timeoutMs, stop.signal));
      }
    }
    if (waits.length === 0) return;
    await Promise.race(waits);
  } finally {
    stop.abort();
    closed.removeEventListener('abort', onClose);
  }
}

export const fetch = defineApi<FetchRequest, FetchResponse>({
  key: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  flexibleFrom: 12,
  request: [
    f('clusterId', 'string', '12+', { nullable: '12+', tag: 0, default: null }),
    f('replicaId', 'int32', '0-14', { default: -1 }),
    f('replicaState', '{}', '15+', { tag: 1 }, [
      f('replicaId', 'int32', '15+', { default: -1 }),
      f('replicaEpoch', 'int64', '15+', { default: -1 }),
    ]),
    f('maxWaitMs', 'int32', '0+'),
    f('minBytes', 'int32', '0+'),
    f('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
    f('isolationLevel', 'int8', '4+'),
    f('sessionId', 'int32', '7+'),
    f('sessionEpoch', 'int32', '7+', { default: -1 }),
    f('topics', '[]', '0+', [
      f('topic', 'string', '0-12'),
      f('topicId', 'uuid', '13+'),
      f('partitions', '[]', '0+', [
        f('partition', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
        f('fetchOffset', 'int64', '0+'),
        f('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        f('partitionMaxBytes', 'int32', '0+'),
        f('replicaDirectoryId', 'uuid', '17+', { tag: 0 }),
      ]),
    ]),
    f('forgottenTopicsData', '[]', '7+', [
      f('topic', 'string', '7-12'),
      f('topicId', 'uuid', '13+'),
      f('partitions', '[]int32', '7+'),
    ]),
    f('rackId', 'string', '11+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '7+'),
    f('sessionId', 'int32', '7+'),
    f('responses', '[]', '0+', [
      f('topic', 'string', '0-12'),
      f('topicId', 'uuid', '13+'),
      f('partitions', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('highWatermark', 'int64', '0+'),
        f('lastStableOffset', 'int64', '4+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        f('abortedTransactions', '[]', '4+', { nullable: '4+' }, [
          f('producerId', 'int64', '4+'),
          f('firstOffset', 'int64', '4+'),
        ]),
        f('preferredReadReplica', 'int32', '11+', { default: -1 }),
        f('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  async handle(request, broker, info: RequestInfo) {
    const plan = resolve(request, broker, info.apiVersion >= 13);
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    const maxBytes = request.maxBytes > 0 ? request.maxBytes : 0x7fffffff;
    for (;;) {
      const { responses, bytes, failed } = await readOnce(plan, maxBytes);
      const left = deadline - Date.now();
      if (failed || bytes >= request.minBytes || left <= 0 || info.connection.closed.aborted) {
        return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
      }
      await waitForAny(plan, left, info.connection.closed);
    }
  },
});
