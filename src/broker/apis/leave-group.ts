// LeaveGroup (key 13), v0-5: v0-2 name one member, v3+ a list (with
// instance ids and, from v5, a reason); the others rebalance.
//
//   LeaveGroupRequest  => group_id member_id(v0-2) [member_id group_instance_id reason(v5+)](v3+)
//   LeaveGroupResponse => throttle_time_ms(v1+) error_code [member_id group_instance_id error_code](v3+)
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';

export interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; reason: string | null }[];
}

export interface LeaveGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export const leaveGroup = defineApi<LeaveGroupRequest, LeaveGroupResponse>({
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: [
    f('groupId', 'string', '0+'),
    f('memberId', 'string', '0-2'),
    f('members', '[]', '3+', [
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
      f('reason', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    f('members', '[]', '3+', [
      f('memberId', 'string', '3+'),
      f('groupInstanceId', 'string', '3+', { nullable: '3+' }),
      f('errorCode', 'int16', '3+'),
    ]),
  ],
  handle(request, broker, info) {
    const members = info.apiVersion >= 3
      ? request.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId }))
      : [{ memberId: request.memberId, groupInstanceId: null }];
    const result = broker.groups.leave({ groupId: request.groupId, members });
    // v0-2 have only the top-level code: carry the member's own error there.
    const errorCode = info.apiVersion < 3 && result.errorCode === 0 ? (result.members[0]?.errorCode ?? 0) : result.errorCode;
    return { throttleTimeMs: 0, errorCode, members: result.members };
  },
});
