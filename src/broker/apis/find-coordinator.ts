// FindCoordinator (key 10), v0-6: this broker coordinates every group.
// v4+ batches keys. Advertised from v0: librdkafka 2.0.2 turns off consumer
// groups (and LZ4) unless FindCoordinator v0 is offered.
//
//   FindCoordinatorRequest  => key(v0-3) key_type(v1+) [coordinator_keys](v4+)
//   FindCoordinatorResponse => throttle_time_ms(v1+) error_code(v0-3) error_message(v1-3) node_id(v0-3) host(v0-3) port(v0-3)
//                              [key node_id host port error_code error_message](v4+)
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';
import { advertisedAddress } from './context.ts';

export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
  coordinatorKeys: string[];
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
  coordinators: { key: string; nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null }[];
}

export const findCoordinator = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 3,
  request: [
    f('key', 'string', '0-3'),
    f('keyType', 'int8', '1+'),
    f('coordinatorKeys', '[]string', '4+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0-3'),
    f('errorMessage', 'string', '1-3', { nullable: '1-3' }),
    f('nodeId', 'int32', '0-3'),
    f('host', 'string', '0-3'),
    f('port', 'int32', '0-3'),
    f('coordinators', '[]', '4+', [
      f('key', 'string', '4+'),
      f('nodeId', 'int32', '4+'),
      f('host', 'string', '4+'),
      f('port', 'int32', '4+'),
      f('errorCode', 'int16', '4+'),
      f('errorMessage', 'string', '4+', { nullable: '4+' }),
    ]),
  ],
  handle(request, broker, info) {
    const { host, port } = advertisedAddress(broker, info.connection);
    const nodeId = broker.settings.nodeId;
    const keys = info.apiVersion >= 4 ? request.coordinatorKeys : [request.key];
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      nodeId,
      host,
      port,
      coordinators: keys.map((key) => ({ key, nodeId, host, port, errorCode: 0, errorMessage: null })),
    };
  },
});
