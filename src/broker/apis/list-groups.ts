// ListGroups (key 16), v0-5: every group the coordinator knows (including
// groups that only have committed offsets, listed as Empty). v4+ filters by
// state, v5+ by type; every group here is a "classic" group.
//
//   ListGroupsRequest  => [states_filter](v4+) [types_filter](v5+)
//   ListGroupsResponse => throttle_time_ms(v1+) error_code [group_id protocol_type group_state(v4+) group_type(v5+)]
import { f } from '../protocol/schema.ts';
import { defineApi } from './api.ts';

export interface ListGroupsRequest {
  statesFilter: string[];
  typesFilter: string[];
}

export interface ListGroupsResponse {
  throttleTimeMs: number;
  errorCode: number;
  groups: { groupId: string; protocolType: string; groupState: string; groupType: string }[];
}

export const listGroups = defineApi<ListGroupsRequest, ListGroupsResponse>({
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: [
    f('statesFilter', '[]string', '4+'),
    f('typesFilter', '[]string', '5+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    f('errorCode', 'int16', '0+'),
    f('groups', '[]', '0+', [
      f('groupId', 'string', '0+'),
      f('protocolType', 'string', '0+'),
      f('groupState', 'string', '4+'),
      f('groupType', 'string', '5+'),
    ]),
  ],
  handle(request, broker) {
    const wantsClassic = request.typesFilter.length === 0 || request.typesFilter.some((type) => type.toLowerCase() === 'classic');
    const listed = wantsClassic ? broker.groups.list(request.statesFilter.length > 0 ? request.statesFilter : undefined) : [];
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      groups: listed.map((group) => ({ groupId: group.groupId, protocolType: group.protocolType, groupState: group.state, groupType: 'classic' })),
    };
  },
});
