// ListOffsets (key 2), v1-9: the offset for a timestamp, or the special
// timestamps -1 (latest = high watermark), -2 (earliest), -3 (max timestamp).
// With no transactions the last stable offset is the high watermark, so
// isolation_level changes nothing.
//
//   ListOffsetsRequest  => replica_id isolation_level(v2+) [name [partition_index current_leader_epoch(v4+) timestamp]]
//   ListOffsetsResponse => throttle_time_ms(v2+) [name [partition_index error_code timestamp offset leader_epoch(v4+)]]
import { f } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';

export interface ListOffsetsRequest {
  replicaId: number;
  isolationLevel: number;
  topics: { name: string; partitions: { partitionIndex: number; currentLeaderEpoch: number; timestamp: number }[] }[];
}

interface PartitionOffset {
  partitionIndex: number;
  errorCode: number;
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

export interface ListOffsetsResponse {
  throttleTimeMs: number;
  topics: { name: string; partitions: PartitionOffset[] }[];
}

export const listOffsets = defineApi<ListOffsetsRequest, ListOffsetsResponse>({
  key: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    f('replicaId', 'int32', '0+'),
    f('isolationLevel', 'int8', '2+'),
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitions', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
        f('timestamp', 'int64', '0+'),
        f('maxNumOffsets', 'int32', '0', { default: 1 }),
      ]),
    ]),
    f('timeoutMs', 'int32', '10+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitions', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('oldStyleOffsets', '[]int64', '0'),
        f('timestamp', 'int64', '1+', { default: -1 }),
        f('offset', 'int64', '1+', { default: -1 }),
        f('leaderEpoch', 'int32', '4+', { default: -1 }),
      ]),
    ]),
  ],
  async handle(request, broker) {
    const topics: ListOffsetsResponse['topics'] = [];
    for (const topic of request.topics) {
      const partitions: PartitionOffset[] = [];
      for (const part of topic.partitions) {
        const log = broker.store.partition(topic.name, part.partitionIndex);
        if (!log) {
          partitions.push({ partitionIndex: part.partitionIndex, errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1, leaderEpoch: -1 });
          continue;
        }
        if (part.currentLeaderEpoch > 0) {
          partitions.push({ partitionIndex: part.partitionIndex, errorCode: KafkaError.UNKNOWN_LEADER_EPOCH, timestamp: -1, offset: -1, leaderEpoch: -1 });
          continue;
        }
        const found = await log.offsetForTimestamp(part.timestamp);
        partitions.push({ partitionIndex: part.partitionIndex, errorCode: found.errorCode, timestamp: found.timestamp, offset: found.offset, leaderEpoch: 0 });
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
});
