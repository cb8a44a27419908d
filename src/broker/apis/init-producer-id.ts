// InitProducerId (key 22), v0-5: hands an idempotent producer its id. Every
// non-transactional request gets a fresh id with epoch 0, as Kafka does
// (platformatic sends id 0 / epoch 0 rather than -1 / -1, so the request's
// id is not a hint to reuse). Transactions are not supported.
//
//   InitProducerIdRequest  => transactional_id transaction_timeout_ms producer_id(v3+) producer_epoch(v3+)
//   InitProducerIdResponse => throttle_time_ms error_code producer_id producer_epoch
import { f } from '../protocol/schema.ts';
import { KafkaError } from '../protocol/errors.ts';
import { defineApi } from './api.ts';

export interface InitProducerIdRequest {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  producerId: number;
  producerEpoch: number;
}

export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export const initProducerId = defineApi<InitProducerIdRequest, InitProducerIdResponse>({
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 2,
  request: [
    f('transactionalId', 'string', '0+', { nullable: '0+' }),
    f('transactionTimeoutMs', 'int32', '0+'),
    f('producerId', 'int64', '3+', { default: -1 }),
    f('producerEpoch', 'int16', '3+', { default: -1 }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('producerId', 'int64', '0+', { default: -1 }),
    f('producerEpoch', 'int16', '0+'),
  ],
  async handle(request, broker) {
    if (request.transactionalId !== null) {
      return { throttleTimeMs: 0, errorCode: KafkaError.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    }
    return { throttleTimeMs: 0, errorCode: 0, producerId: await broker.allocateProducerId(), producerEpoch: 0 };
  },
});
