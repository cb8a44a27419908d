// DescribeGroups (key 15), v0-5: state, chosen protocol and members with
// their metadata and assignment. An unknown group is described as Dead.
//
//   DescribeGroupsRequest  => [groups] include_authorized_operations(v3+)
//   DescribeGroupsResponse => throttle_time_ms(v1+) [error_code group_id group_state protocol_type protocol_data
//                             [member_id group_instance_id(v4+) client_id client_host member_metadata member_assignment]
//                             authorized_operations(v3+)]
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';

export interface DescribeGroupsRequest {
  groups: string[];
  includeAuthorizedOperations: boolean;
}

export interface DescribeGroupsResponse {
  throttleTimeMs: number;
  groups: {
    errorCode: number;
    groupId: string;
    groupState: string;
    protocolType: string;
    protocolData: string;
    members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Buffer; memberAssignment: Buffer }[];
    authorizedOperations: number;
  }[];
}

export const describeGroups = defineApi<DescribeGroupsRequest, DescribeGroupsResponse>({
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 5,
  request: [
    f('groups', '[]string', '0+'),
    f('includeAuthorizedOperations', 'bool', '3+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('groups', '[]', '0+', [
      f('errorCode', 'int16', '0+'),
      f('groupId', 'string', '0+'),
      f('groupState', 'string', '0+'),
      f('protocolType', 'string', '0+'),
      f('protocolData', 'string', '0+'),
      f('members', '[]', '0+', [
        f('memberId', 'string', '0+'),
        f('groupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
        f('clientId', 'string', '0+'),
        f('clientHost', 'string', '0+'),
        f('memberMetadata', 'bytes', '0+'),
        f('memberAssignment', 'bytes', '0+'),
      ]),
      f('authorizedOperations', 'int32', '3+', { default: -2147483648 }),
    ]),
  ],
  handle(request, broker) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        const group = broker.groups.describe(groupId);
        return {
          errorCode: group.errorCode,
          groupId: group.groupId,
          groupState: group.state,
          protocolType: group.protocolType,
          protocolData: group.protocolData,
          members: group.members.map((member) => ({
            memberId: member.memberId,
            groupInstanceId: member.groupInstanceId,
            clientId: member.clientId,
            clientHost: member.clientHost,
            memberMetadata: member.metadata,
            memberAssignment: member.assignment,
          })),
          authorizedOperations: -2147483648,
        };
      }),
    };
  },
});
