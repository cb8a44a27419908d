// Public contract of the consumer group coordinator (classic Kafka group
// protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
// ListGroups, and the generation checks of OffsetCommit).
//
// Entry point: `new GroupCoordinator(options)` in ./coordinator.ts.
// The coordinator keeps group membership in memory only (as Kafka does after
// a restart, members simply rejoin); committed offsets live in storage.
// Time is injected: `now()` and a timer scheduler, so tests drive the clock
// (see ManualScheduler in ./clock.ts).
//
// Calls mirror the request fields; results carry Kafka error codes
// (`GroupErrorCode`) and never throw for client mistakes. join() and sync()
// return promises that stay pending while the group waits for other members,
// exactly like the broker holds the JoinGroup/SyncGroup response.

export const GroupErrorCode = {
  NONE: 0,
  COORDINATOR_NOT_AVAILABLE: 15,
  INVALID_GROUP_ID: 24,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_ID_NOT_FOUND: 69,
  NON_EMPTY_GROUP: 68,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  GROUP_MAX_SIZE_REACHED: 81,
} as const;

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** Timer functions, injected so tests can drive time. */
export interface Scheduler {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

export interface GroupCoordinatorOptions {
  scheduler: Scheduler;
  /** Delay before the first rebalance of an empty group completes, so several members join together. Default 300 ms (Kafka: 3000). */
  initialRebalanceDelayMs?: number;
  /** Session timeout bounds (Kafka group.min/max.session.timeout.ms). Defaults 6000 / 1800000. */
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  /** Groups that only have committed offsets: listed and described as Empty. */
  groupsWithOffsets?: () => Iterable<string>;
  /** Member id generator (client id + "-" + random UUID by default). */
  newMemberId?: (clientId: string) => string;
  /** Rebalances, new generations and member removals, for the broker's log. */
  onEvent?: (event: GroupEvent) => void;
}

export type GroupEvent =
  | { type: 'rebalance'; groupId: string; reason: string }
  | { type: 'generation'; groupId: string; generationId: number; protocolName: string | null; members: number; leader: string | null }
  | { type: 'member-removed'; groupId: string; memberId: string; reason: 'left' | 'session-expired' | 'no-rejoin' | 'fenced' };

export interface ProtocolOffer {
  name: string;
  metadata: Buffer;
}

export interface JoinRequest {
  groupId: string;
  /** '' for a new member. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** JoinGroup v0 has none: pass sessionTimeoutMs. */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly ProtocolOffer[];
  /** JoinGroup v4+: an empty memberId gets MEMBER_ID_REQUIRED plus an id to retry with. */
  requireKnownMemberId: boolean;
}

export interface JoinMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  /** The caller's member id (also set with MEMBER_ID_REQUIRED). */
  memberId: string;
  /** Filled for the leader only. */
  members: JoinMember[];
}

export interface SyncRequest {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
  /** SyncGroup v5+ (null otherwise): checked against the group's. */
  protocolType: string | null;
  protocolName: string | null;
  /** Only the leader sends assignments. */
  assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface HeartbeatRequest {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId: string | null;
}

export interface LeaveRequest {
  groupId: string;
  /** LeaveGroup v0-2 send one member id; v3+ send several (with optional instance ids). */
  members: readonly { memberId: string; groupInstanceId: string | null }[];
}

/**
 * As Kafka: the top-level code is 0 (even for an unknown group) and each
 * member has its own code; LeaveGroup v0-2 (one member) should answer with
 * members[0].errorCode as its only error code.
 */
export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The metadata of the protocol chosen (empty before one is chosen). */
  metadata: Buffer;
  /** Empty until SyncGroup delivered one. */
  assignment: Buffer;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The chosen protocol when Stable/CompletingRebalance, '' otherwise. */
  protocolData: string;
  members: DescribedMember[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

/** What the broker's group APIs call. Implemented by GroupCoordinator (./coordinator.ts). */
export interface GroupCoordinatorApi {
  /** JoinGroup: pending until the rebalance completes (or fails fast with an error code). */
  join(request: JoinRequest): Promise<JoinResult>;
  /** SyncGroup: followers stay pending until the leader's SyncGroup arrives. */
  sync(request: SyncRequest): Promise<SyncResult>;
  /** Heartbeat: error code (REBALANCE_IN_PROGRESS tells the member to rejoin). */
  heartbeat(request: HeartbeatRequest): number;
  /** LeaveGroup: removes members and starts a rebalance for the others. */
  leave(request: LeaveRequest): LeaveResult;
  /**
   * OffsetCommit/TxnOffsetCommit generation check. generationId -1 with an
   * empty memberId is accepted for a group without members (simple consumers,
   * admin tools). Returns 0 or ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID /
   * REBALANCE_IN_PROGRESS.
   */
  validateCommit(groupId: string, memberId: string, generationId: number, groupInstanceId?: string | null): number;
  /**
   * DescribeGroups: an unknown group is described as Dead with no members and
   * error 0, as Kafka does up to v5; v6+ should answer GROUP_ID_NOT_FOUND (69)
   * for state Dead. A group that only has committed offsets is Empty.
   */
  describe(groupId: string): DescribedGroup;
  /** ListGroups, optionally filtered by state (ListGroups v4+). */
  list(statesFilter?: readonly string[]): ListedGroup[];
  /** DeleteGroups: NON_EMPTY_GROUP if it has members, GROUP_ID_NOT_FOUND if unknown. */
  deleteGroup(groupId: string): number;
  /** Cancels every timer; pending joins/syncs resolve with COORDINATOR_NOT_AVAILABLE. */
  close(): void;
}
