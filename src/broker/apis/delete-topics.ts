// DeleteTopics (key 20), v0-6: by name (v0-5) or by name or topic id (v6+).
//
//   DeleteTopicsRequest  => [topic_names](v0-5) [name topic_id](v6+) timeout_ms
//   DeleteTopicsResponse => throttle_time_ms(v1+) [name topic_id(v6+) error_code error_message(v5+)]
import { f, ZERO_UUID } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import { topicIdHex } from './context.ts';

export interface DeleteTopicsRequest {
  topics: { name: string | null; topicId: string }[];
  topicNames: string[];
  timeoutMs: number;
}

interface DeletedTopic {
  name: string | null;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface DeleteTopicsResponse {
  throttleTimeMs: number;
  responses: DeletedTopic[];
}

export const deleteTopics = defineApi<DeleteTopicsRequest, DeleteTopicsResponse>({
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 4,
  request: [
    f('topics', '[]', '6+', [
      f('name', 'string', '6+', { nullable: '6+', default: null }),
      f('topicId', 'uuid', '6+'),
    ]),
    f('topicNames', '[]string', '0-5'),
    f('timeoutMs', 'int32', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('responses', '[]', '0+', [
      f('name', 'string', '0+', { nullable: '6+' }),
      f('topicId', 'uuid', '6+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
  async handle(request, broker, info) {
    const wanted = info.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses: DeletedTopic[] = [];
    for (const item of wanted) {
      const topic = item.name !== null ? broker.store.topic(item.name) : item.topicId === ZERO_UUID ? undefined : broker.store.topicById(Buffer.from(item.topicId, 'hex'));
      if (!topic) {
        const errorCode = item.name === null ? KafkaError.UNKNOWN_TOPIC_ID : KafkaError.UNKNOWN_TOPIC_OR_PARTITION;
        responses.push({ name: item.name, topicId: item.topicId, errorCode, errorMessage: 'no such topic' });
        continue;
      }
      const errorCode = await broker.store.deleteTopic(topic.name);
      responses.push({ name: topic.name, topicId: topicIdHex(topic), errorCode, errorMessage: errorCode === 0 ? null : 'delete failed' });
    }
    return { throttleTimeMs: 0, responses };
  },
});
