// CreateTopics (key 19), v0-7. One node, so the replication factor must be
// -1 (broker default) or 1; num_partitions -1 means --default-partitions; an
// explicit replica assignment fixes the partition count.
//
//   CreateTopicsRequest  => [name num_partitions replication_factor [partition_index [broker_ids]] [name value]]
//                           timeout_ms validate_only(v1+)
//   CreateTopicsResponse => throttle_time_ms(v2+) [name topic_id(v7+) error_code error_message(v1+)
//                           <tag 0: topic_config_error_code>(v5+) num_partitions(v5+) replication_factor(v5+)
//                           [name value read_only config_source is_sensitive](v5+, nullable)]
import { f, ZERO_UUID } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import { topicIdHex } from './context.ts';

export interface CreateTopicsRequest {
  topics: {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: { partitionIndex: number; brokerIds: number[] }[];
    configs: { name: string; value: string | null }[];
  }[];
  timeoutMs: number;
  validateOnly: boolean;
}

interface CreatedTopic {
  name: string;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
  numPartitions: number;
  replicationFactor: number;
  configs: { name: string; value: string | null; readOnly: boolean; configSource: number; isSensitive: boolean }[] | null;
}

export interface CreateTopicsResponse {
  throttleTimeMs: number;
  topics: CreatedTopic[];
}

export const createTopics = defineApi<CreateTopicsRequest, CreateTopicsResponse>({
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 5,
  request: [
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('numPartitions', 'int32', '0+'),
      f('replicationFactor', 'int16', '0+'),
      f('assignments', '[]', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('brokerIds', '[]int32', '0+'),
      ]),
      f('configs', '[]', '0+', [
        f('name', 'string', '0+'),
        f('value', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
    f('timeoutMs', 'int32', '0+', { default: 60000 }),
    f('validateOnly', 'bool', '1+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    f('topics', '[]', '0+', [
      f('name', 'string', '0+'),
      f('topicId', 'uuid', '7+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '1+', { nullable: '0+' }),
      f('topicConfigErrorCode', 'int16', '5+', { tag: 0 }),
      f('numPartitions', 'int32', '5+', { default: -1 }),
      f('replicationFactor', 'int16', '5+', { default: -1 }),
      f('configs', '[]', '5+', { nullable: '5+' }, [
        f('name', 'string', '5+'),
        f('value', 'string', '5+', { nullable: '5+' }),
        f('readOnly', 'bool', '5+'),
        f('configSource', 'int8', '5+', { default: -1 }),
        f('isSensitive', 'bool', '5+'),
      ]),
    ]),
  ],
  async handle(request, broker) {
    const topics: CreatedTopic[] = [];
    const seen = new Set<string>();
    for (const wanted of request.topics) {
      const fail = (errorCode: number, errorMessage: string): void => {
        topics.push({ name: wanted.name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null });
      };
      if (seen.has(wanted.name)) {
        fail(KafkaError.INVALID_REQUEST, 'topic named twice in one request');
        continue;
      }
      seen.add(wanted.name);
      if (wanted.replicationFactor !== -1 && wanted.replicationFactor !== 1 && wanted.assignments.length === 0) {
        fail(KafkaError.INVALID_REPLICATION_FACTOR, `replication factor ${wanted.replicationFactor} is larger than the 1 broker available`);
        continue;
      }
      let partitions = wanted.numPartitions === -1 ? broker.settings.defaultPartitions : wanted.numPartitions;
      if (wanted.assignments.length > 0) {
        if (wanted.numPartitions !== -1) {
          fail(KafkaError.INVALID_REQUEST, 'both num_partitions and a replica assignment given');
          continue;
        }
        partitions = wanted.assignments.length;
      }
      const configs: Record<string, string> = {};
      for (const config of wanted.configs) if (config.value !== null) configs[config.name] = config.value;
      const result = await broker.store.createTopic(wanted.name, partitions, configs, request.validateOnly);
      if (result.topic === null) {
        fail(result.errorCode, result.errorMessage);
        continue;
      }
      topics.push({
        name: wanted.name,
        topicId: request.validateOnly ? ZERO_UUID : topicIdHex(result.topic),
        errorCode: 0,
        errorMessage: null,
        numPartitions: result.topic.partitions,
        replicationFactor: 1,
        configs: Object.entries(result.topic.configs).map(([name, value]) => ({ name, value, readOnly: false, configSource: 1, isSensitive: false })),
      });
    }
    return { throttleTimeMs: 0, topics };
  },
});
