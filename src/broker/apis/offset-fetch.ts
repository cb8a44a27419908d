// OffsetFetch (key 9), v0-9: a group's committed offsets; a partition never
// committed answers offset -1. Null topics (v2+) mean every committed
// partition of the group. v8+ asks for several groups at once. Advertised
// from v0: librdkafka 2.0.2 needs v1 offered for consumer groups.
//
//   OffsetFetchRequest  => group_id(v0-7) [name [partition_indexes]](v0-7, nullable v2+)
//                          [group_id member_id(v9+) member_epoch(v9+) [name [partition_indexes]](nullable)](v8+)
//                          require_stable(v7+)
//   OffsetFetchResponse => throttle_time_ms(v3+) [name [partition_index committed_offset committed_leader_epoch(v5+)
//                          metadata error_code]](v0-7) error_code(v2-7)
//                          [group_id [name [partition_index committed_offset committed_leader_epoch metadata error_code]]
//                          error_code](v8+)
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';
import type { BrokerContext } from './context.ts';

type WantedTopics = { name: string; partitionIndexes: number[] }[] | null;

export interface OffsetFetchRequest {
  groupId: string;
  topics: WantedTopics;
  groups: { groupId: string; memberId: string | null; memberEpoch: number; topics: WantedTopics }[];
  requireStable: boolean;
}

interface FetchedPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

type FetchedTopics = { name: string; partitions: FetchedPartition[] }[];

export interface OffsetFetchResponse {
  throttleTimeMs: number;
  topics: FetchedTopics;
  errorCode: number;
  groups: { groupId: string; topics: FetchedTopics; errorCode: number }[];
}

function committed(broker: BrokerContext, groupId: string, wanted: WantedTopics): FetchedTopics {
  if (wanted === null) {
    const byTopic = new Map<string, FetchedPartition[]>();
    for (const entry of broker.store.fetchOffsets(groupId)) {
      let list = byTopic.get(entry.topic);
      if (!list) byTopic.set(entry.topic, (list = []));
      list.push({ partitionIndex: entry.partition, committedOffset: entry.offset, committedLeaderEpoch: entry.leaderEpoch, metadata: entry.metadata, errorCode: 0 });
    }
    return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
  }
  return wanted.map((topic) => {
    const found = new Map(broker.store.fetchOffsets(groupId, topic.name).map((entry) => [entry.partition, entry]));
    return {
      name: topic.name,
      partitions: topic.partitionIndexes.map((partitionIndex) => {
        const entry = found.get(partitionIndex);
        return entry
          ? { partitionIndex, committedOffset: entry.offset, committedLeaderEpoch: entry.leaderEpoch, metadata: entry.metadata, errorCode: 0 }
          : { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 };
      }),
    };
  });
}

const partitionFields = (v: string) => [
  f('partitionIndex', 'int32', v),
  f('committedOffset', 'int64', v),
  f('committedLeaderEpoch', 'int32', v === '0-7' ? '5-7' : v, { default: -1 }),
  f('metadata', 'string', v, { nullable: v }),
  f('errorCode', 'int16', v),
];

export const offsetFetch = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: [
    f('groupId', 'string', '0-7'),
    f('topics', '[]', '0-7', { nullable: '2-7' }, [
      f('name', 'string', '0-7'),
      f('partitionIndexes', '[]int32', '0-7'),
    ]),
    f('groups', '[]', '8+', [
      f('groupId', 'string', '8+'),
      f('memberId', 'string', '9+', { nullable: '9+', default: null }),
      f('memberEpoch', 'int32', '9+', { default: -1 }),
      f('topics', '[]', '8+', { nullable: '8+' }, [
        f('name', 'string', '8+'),
        f('partitionIndexes', '[]int32', '8+'),
      ]),
    ]),
    f('requireStable', 'bool', '7+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    f('topics', '[]', '0-7', [
      f('name', 'string', '0-7'),
      f('partitions', '[]', '0-7', partitionFields('0-7')),
    ]),
    f('errorCode', 'int16', '2-7'),
    f('groups', '[]', '8+', [
      f('groupId', 'string', '8+'),
      f('topics', '[]', '8+', [
        f('name', 'string', '8+'),
        f('partitions', '[]', '8+', partitionFields('8+')),
      ]),
      f('errorCode', 'int16', '8+'),
    ]),
  ],
  handle(request, broker, info) {
    if (info.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: 0,
        groups: request.groups.map((group) => ({ groupId: group.groupId, topics: committed(broker, group.groupId, group.topics), errorCode: 0 })),
      };
    }
    return { throttleTimeMs: 0, topics: committed(broker, request.groupId, request.topics), errorCode: 0, groups: [] };
  },
});
