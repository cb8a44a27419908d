// Metadata (key 3), v0-12: brokers (just this one) and topics with their
// partitions. v1+ null topics = all topics (v0: an empty array). v4+ carries
// allow_auto_topic_creation (implied true before). v10+ returns topic ids
// (stable, non-zero: Fetch v13+ addresses topics by them) and v10+ may ask by
// id with a null name.
//
//   MetadataRequest  => [topic_id(v10+) name] allow_auto_topic_creation(v4+)
//                       include_cluster_authorized_operations(v8-10) include_topic_authorized_operations(v8+)
//   MetadataResponse => throttle_time_ms(v3+) [node_id host port rack(v1+)] cluster_id(v2+) controller_id(v1+)
//                       [error_code name topic_id(v10+) is_internal(v1+)
//                         [error_code partition_index leader_id leader_epoch(v7+) [replica_nodes] [isr_nodes] [offline_replicas](v5+)]
//                         topic_authorized_operations(v8+)]
//                       cluster_authorized_operations(v8-10)
import { f, ZERO_UUID } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import { advertisedAddress, ensureTopic, topicIdHex } from './context.ts';
import type { TopicInfo } from '../storage/types.ts';

export interface MetadataRequest {
  topics: { topicId: string; name: string | null }[] | null;
  allowAutoTopicCreation: boolean;
  includeClusterAuthorizedOperations: boolean;
  includeTopicAuthorizedOperations: boolean;
}

interface MetadataTopic {
  errorCode: number;
  name: string | null;
  topicId: string;
  isInternal: boolean;
  partitions: {
    errorCode: number; partitionIndex: number; leaderId: number; leaderEpoch: number;
    replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[];
  }[];
  topicAuthorizedOperations: number;
}

export interface MetadataResponse {
  throttleTimeMs: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
  clusterAuthorizedOperations: number;
}

const UNKNOWN_OPERATIONS = -2147483648;

function describeTopic(topic: TopicInfo, nodeId: number): MetadataTopic {
  const partitions: MetadataTopic['partitions'] = [];
  for (let index = 0; index < topic.partitions; index++) {
    partitions.push({ errorCode: 0, partitionIndex: index, leaderId: nodeId, leaderEpoch: 0, replicaNodes: [nodeId], isrNodes: [nodeId], offlineReplicas: [] });
  }
  return { errorCode: 0, name: topic.name, topicId: topicIdHex(topic), isInternal: false, partitions, topicAuthorizedOperations: UNKNOWN_OPERATIONS };
}

function failedTopic(name: string | null, topicId: string, errorCode: number): MetadataTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: UNKNOWN_OPERATIONS };
}

export const metadata = defineApi<MetadataRequest, MetadataResponse>({
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  flexibleFrom: 9,
  request: [
    f('topics', '[]', '0+', { nullable: '1+' }, [
      f('topicId', 'uuid', '10+'),
      f('name', 'string', '0+', { nullable: '10+' }),
    ]),
    f('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    f('includeClusterAuthorizedOperations', 'bool', '8-10'),
    f('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '3+'),
    f('brokers', '[]', '0+', [
      f('nodeId', 'int32', '0+'),
      f('host', 'string', '0+'),
      f('port', 'int32', '0+'),
      f('rack', 'string', '1+', { nullable: '1+', default: null }),
    ]),
    f('clusterId', 'string', '2+', { nullable: '2+', default: null }),
    f('controllerId', 'int32', '1+', { default: -1 }),
    f('topics', '[]', '0+', [
      f('errorCode', 'int16', '0+'),
      f('name', 'string', '0+', { nullable: '12+' }),
      f('topicId', 'uuid', '10+'),
      f('isInternal', 'bool', '1+'),
      f('partitions', '[]', '0+', [
        f('errorCode', 'int16', '0+'),
        f('partitionIndex', 'int32', '0+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '7+', { default: -1 }),
        f('replicaNodes', '[]int32', '0+'),
        f('isrNodes', '[]int32', '0+'),
        f('offlineReplicas', '[]int32', '5+'),
      ]),
      f('topicAuthorizedOperations', 'int32', '8+', { default: UNKNOWN_OPERATIONS }),
    ]),
    f('clusterAuthorizedOperations', 'int32', '8-10', { default: UNKNOWN_OPERATIONS }),
  ],
  async handle(request, broker, info) {
    const { nodeId } = broker.settings;
    const { host, port } = advertisedAddress(broker, info.connection);
    const allTopics = request.topics === null || (info.apiVersion === 0 && request.topics.length === 0);
    const topics: MetadataTopic[] = [];
    if (allTopics) {
      for (const topic of broker.store.listTopics()) topics.push(describeTopic(topic, nodeId));
    } else {
      const autoCreate = broker.settings.autoCreateTopics && request.allowAutoTopicCreation;
      for (const wanted of request.topics ?? []) {
        if (wanted.name === null) {
          const topic = wanted.topicId === ZERO_UUID ? undefined : broker.store.topicById(Buffer.from(wanted.topicId, 'hex'));
          topics.push(topic ? describeTopic(topic, nodeId) : failedTopic(null, wanted.topicId, KafkaError.UNKNOWN_TOPIC_ID));
          continue;
        }
        const known = broker.store.topic(wanted.name);
        if (known) {
          topics.push(describeTopic(known, nodeId));
        } else if (autoCreate) {
          const { topic, errorCode } = await ensureTopic(broker, wanted.name);
          topics.push(topic ? describeTopic(topic, nodeId) : failedTopic(wanted.name, ZERO_UUID, errorCode));
        } else {
          topics.push(failedTopic(wanted.name, ZERO_UUID, KafkaError.UNKNOWN_TOPIC_OR_PARTITION));
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId, host, port, rack: null }],
      clusterId: broker.settings.clusterId,
      controllerId: nodeId,
      topics,
      clusterAuthorizedOperations: UNKNOWN_OPERATIONS,
    };
  },
});
