// Produce (key 0), v0-11. The records of each partition go to storage as
// they arrived: no per-record work here. acks=0 gets no response at all;
// acks 1 and -1 are answered once storage says the batches are durable.
//
// Only RecordBatch v2 (magic 2, Produce v3+) is stored; older message sets
// get UNSUPPORTED_FOR_MESSAGE_FORMAT. v0-2 are still advertised because
// librdkafka 2.0.2 sends gzip, snappy and lz4 only to a broker whose Produce
// range includes v0 (rdkafka_msgset_writer.c checks Produce [0, 0] for
// them); it then picks v3+ for magic 2 anyway.
//
//   ProduceRequest  => transactional_id acks timeout_ms [name [index records]]
//   ProduceResponse => [name [index error_code base_offset log_append_time_ms(v2+) log_start_offset(v5+)
//                        [batch_index batch_index_error_message](v8+) error_message(v8+) <tag 0: current_leader>(v10+)]]
//                      throttle_time_ms(v1+) <tag 0: node_endpoints>(v10+)
import { f } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';
import type { Acks, AppendResult } from '../storage/types.ts';

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
}

interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[];
  errorMessage: string | null;
}

export interface ProduceResponse {
  responses: { name: string; partitionResponses: PartitionResponse[] }[];
  throttleTimeMs: number;
}

function failed(index: number, errorCode: number, errorMessage: string): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

export const produce = defineApi<ProduceRequest, ProduceResponse>({
  key: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 11,
  flexibleFrom: 9,
  request: [
    f('transactionalId', 'string', '3+', { nullable: '3+', default: null }),
    f('acks', 'int16', '0+'),
    f('timeoutMs', 'int32', '0+'),
    f('topicData', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitionData', '[]', '0+', [
        f('index', 'int32', '0+'),
        f('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
  response: [
    f('responses', '[]', '0+', [
      f('name', 'string', '0+'),
      f('partitionResponses', '[]', '0+', [
        f('index', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('baseOffset', 'int64', '0+'),
        f('logAppendTimeMs', 'int64', '2+', { default: -1 }),
        f('logStartOffset', 'int64', '5+', { default: -1 }),
        f('recordErrors', '[]', '8+', [
          f('batchIndex', 'int32', '8+'),
          f('batchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
        ]),
        f('errorMessage', 'string', '8+', { nullable: '8+', default: null }),
      ]),
    ]),
    f('throttleTimeMs', 'int32', '1+'),
  ],
  handle(request, broker) {
    const acks = request.acks;
    const valid = acks === 0 || acks === 1 || acks === -1;
    // Every append starts here, synchronously and in request order, so
    // pipelined requests on one connection keep their order in the log.
    const pending = request.topicData.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionData.map((part): PartitionResponse | Promise<PartitionResponse> => {
        if (!valid) return failed(part.index, KafkaError.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, not ${acks}`);
        if (request.transactionalId !== null) return failed(part.index, KafkaError.INVALID_REQUEST, 'transactions are not supported by this broker');
        const log = broker.store.partition(topic.name, part.index);
        if (!log) return failed(part.index, KafkaError.UNKNOWN_TOPIC_OR_PARTITION, `unknown partition ${topic.name}-${part.index}`);
        if (part.records === null || part.records.length === 0) return failed(part.index, KafkaError.CORRUPT_MESSAGE, 'no records');
        // Byte 16 is the magic of the first batch (storage checks every batch).
        if (part.records.length < 17 || part.records[16] !== 2) return failed(part.index, KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT, 'only RecordBatch v2 (magic 2) is accepted');
        return log.append(part.records, acks as Acks).then(
          (result: AppendResult): PartitionResponse => ({ index: part.index, recordErrors: [], ...result }),
          (error: unknown): PartitionResponse => {
            broker.log(`produce to ${topic.name}-${part.index} failed: ${(error as Error)?.message ?? String(error)}`);
            return failed(part.index, KafkaError.KAFKA_STORAGE_ERROR, 'storage failure');
          },
        );
      }),
    }));
    if (acks === 0) return null;
    return Promise.all(pending.map(async (topic) => ({ name: topic.name, partitionResponses: await Promise.all(topic.partitions) })))
      .then((responses) => ({ responses, throttleTimeMs: 0 }));
  },
});
