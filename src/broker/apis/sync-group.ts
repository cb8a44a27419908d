// SyncGroup (key 14), v0-5: the leader sends every member's assignment;
// followers wait (the coordinator's promise) until it arrives.
//
//   SyncGroupRequest  => group_id generation_id member_id group_instance_id(v3+) protocol_type(v5+) protocol_name(v5+)
//                        [member_id assignment]
//   SyncGroupResponse => throttle_time_ms(v1+) error_code protocol_type(v5+) protocol_name(v5+) assignment
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface SyncGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const syncGroup = defineApi<SyncGroupRequest, SyncGroupResponse>({
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('generationId', 'int32', '0+'),
    f('memberId', 'string', '0+'),
    f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    f('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    f('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    f('assignments', '[]', '0+', [
      f('memberId', 'string', '0+'),
      f('assignment', 'bytes', '0+'),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    f('protocolType', 'string', '5+', { nullable: '5+', default: null }),
    f('protocolName', 'string', '5+', { nullable: '5+', default: null }),
    f('assignment', 'bytes', '0+'),
  ],
  async handle(request, broker) {
    const result = await broker.groups.sync(request);
    return { throttleTimeMs: 0, ...result };
  },
});
