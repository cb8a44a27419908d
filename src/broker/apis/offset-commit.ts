// OffsetCommit (key 8), v0-9: stores a group's consumed offsets after the
// coordinator accepts the member and generation (generation -1 with no
// member is accepted for groups without members: simple consumers, admin
// tools). Advertised from v0: librdkafka 2.0.2 needs v1-2 offered for
// consumer groups.
//
//   OffsetCommitRequest  => group_id generation_id_or_member_epoch(v1+) member_id(v1+) group_instance_id(v7+)
//                           retention_time_ms(v2-4) [name [partition_index committed_offset committed_leader_epoch(v6+)
//                           commit_timestamp(v1) committed_metadata]]
//   OffsetCommitResponse => throttle_time_ms(v3+) [name [partition_index error_code]]
import { f } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import type { OffsetCommitEntry } from '../storage/types.ts';

export interface OffsetCommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[];
  }[];
}

export interface OffsetCommitResponse {
  throttleTimeMs: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export const offsetCommit = defineApi<OffsetCommitRequest, OffsetCommitResponse>({
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 8,
  request: [
    f('groupId', 'string', '0+'),
    f('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
    f('memberId', 'string', '1+'),
    f('groupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
    f('retentionTimeMs', 'int64', '2-4', { default: -1 }),
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitions', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('committedOffset', 'int64', '0+'),
        f('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
        f('commitTimestamp', 'int64', '1', { default: -1 }),
        f('committedMetadata', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitions', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
      ]),
    ]),
  ],
  async handle(request, broker) {
    const groupError = request.groupId === ''
      ? KafkaError.INVALID_GROUP_ID
      : broker.groups.validateCommit(request.groupId, request.memberId, request.generationIdOrMemberEpoch, request.groupInstanceId);
    const entries: OffsetCommitEntry[] = [];
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((part) => {
        let errorCode: number = groupError;
        if (errorCode === 0 && !broker.store.partition(topic.name, part.partitionIndex)) errorCode = KafkaError.UNKNOWN_TOPIC_OR_PARTITION;
        if (errorCode === 0) {
          entries.push({ topic: topic.name, partition: part.partitionIndex, offset: part.committedOffset, metadata: part.committedMetadata, leaderEpoch: part.committedLeaderEpoch });
        }
        return { partitionIndex: part.partitionIndex, errorCode };
      }),
    }));
    if (entries.length > 0) {
      try {
        await broker.store.commitOffsets(request.groupId, entries);
      } catch (error) {
        broker.log(`offset commit for group ${request.groupId} failed: ${(error as Error)?.message ?? String(error)}`);
        for (const topic of topics) for (const part of topic.partitions) if (part.errorCode === 0) part.errorCode = KafkaError.KAFKA_STORAGE_ERROR;
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
