// Heartbeat (key 12), v0-4: keeps a member's session alive; the answer
// REBALANCE_IN_PROGRESS tells it to rejoin.
//
//   HeartbeatRequest  => group_id generation_id member_id group_instance_id(v3+)
//   HeartbeatResponse => throttle_time_ms(v1+) error_code
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface HeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export const heartbeat = defineApi<HeartbeatRequest, HeartbeatResponse>({
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('generationId', 'int32', '0+'),
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
  ],
  handle(request, broker) {
    return { throttleTimeMs: 0, errorCode: broker.groups.heartbeat(request) };
  },
});
