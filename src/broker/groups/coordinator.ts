// The classic Kafka consumer group coordinator, single node, in memory.
//
// States (as Kafka's GroupMetadata): Empty → PreparingRebalance (a join,
// leave or expiry starts a rebalance) → CompletingRebalance (every known
// member rejoined, or the rebalance timeout dropped the others; the leader
// got the member list) → Stable (the leader's SyncGroup delivered the
// assignments). A first rebalance of an empty group waits an initial delay
// so that members started together land in one generation.
//
// JoinGroup and SyncGroup responses are promises that stay pending while
// the group waits, as the broker holds those responses. All time comes from
// the injected scheduler, so tests drive rebalances with a manual clock.
// Behaviour follows Kafka's GroupCoordinator (facts, not code): see the
// comments at each rule.

import { randomUUID } from 'node:crypto';
import {
  GroupErrorCode,
  type DescribedGroup,
  type GroupCoordinatorApi,
  type GroupCoordinatorOptions,
  type GroupEvent,
  type GroupState,
  type HeartbeatRequest,
  type JoinRequest,
  type JoinResult,
  type LeaveRequest,
  type LeaveResult,
  type ListedGroup,
  type ProtocolOffer,
  type Scheduler,
  type SyncRequest,
  type SyncResult,
  type TimerHandle,
} from './types.ts';

const EMPTY = Buffer.alloc(0);

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly ProtocolOffer[];
  assignment: Buffer;
  /** Set while the member's JoinGroup response is held. */
  awaitingJoin: ((result: JoinResult) => void) | null;
  /** Set while the member's SyncGroup response is held. */
  awaitingSync: ((result: SyncResult) => void) | null;
  sessionTimer: TimerHandle | null;
}

interface Group {
  groupId: string;
  state: Exclude<GroupState, 'Dead'>;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string | null;
  /** Insertion order = join order; the first member becomes leader. */
  members: Map<string, Member>;
  /** Ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry timers. */
  pendingMembers: Map<string, TimerHandle>;
  joinTimer: TimerHandle | null;
  /** During the initial delay: rebalance time still available for extending it. */
  initialDelayRemainingMs: number | null;
  newMemberJoinedDuringDelay: boolean;
}

export class GroupCoordinator implements GroupCoordinatorApi {
  private readonly scheduler: Scheduler;
  private readonly initialRebalanceDelayMs: number;
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private readonly groupsWithOffsets: () => Iterable<string>;
  private readonly newMemberId: (clientId: string) => string;
  private readonly onEvent: (event: GroupEvent) => void;
  private readonly groups = new Map<string, Group>();

  constructor(options: GroupCoordinatorOptions) {
    this.scheduler = options.scheduler;
    this.initialRebalanceDelayMs = options.initialRebalanceDelayMs ?? 300;
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? 6000;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 1_800_000;
    this.groupsWithOffsets = options.groupsWithOffsets ?? (() => []);
    this.newMemberId = options.newMemberId ?? ((clientId) => `${clientId}-${randomUUID()}`);
    const observer = options.onEvent;
    this.onEvent = (event) => {
      try {
        observer?.(event);
      } catch {
        // A failing observer must not break the group protocol.
      }
    };
  }

  // ---------------------------------------------------------------- JoinGroup

  join(request: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number): Promise<JoinResult> => Promise.resolve(joinError(errorCode, request.memberId));
    if (request.groupId === '') return fail(GroupErrorCode.INVALID_GROUP_ID);
    if (request.sessionTimeoutMs < this.minSessionTimeoutMs || request.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return fail(GroupErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.groups.get(request.groupId);
    if (!group) {
      // Kafka only creates a group for a join without a member id.
      if (request.memberId !== '') return fail(GroupErrorCode.UNKNOWN_MEMBER_ID);
      group = this.createGroup(request.groupId);
    }
    if (!this.protocolsFit(group, request)) return fail(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);

    if (request.memberId === '') return this.joinUnknownMember(group, request);
    if (group.pendingMembers.has(request.memberId)) {
      this.scheduler.clearTimeout(group.pendingMembers.get(request.memberId)!);
      group.pendingMembers.delete(request.memberId);
      return this.addMemberAndRebalance(group, request.memberId, request);
    }
    const member = group.members.get(request.memberId);
    if (!member) return fail(GroupErrorCode.UNKNOWN_MEMBER_ID);
    if (request.groupInstanceId !== null && member.groupInstanceId !== request.groupInstanceId) return fail(GroupErrorCode.FENCED_INSTANCE_ID);
    return this.joinKnownMember(group, member, request);
  }

  private joinUnknownMember(group: Group, request: JoinRequest): Promise<JoinResult> {
    const memberId = this.newMemberId(request.clientId);
    if (request.groupInstanceId !== null) {
      // A static member coming back under a new member id replaces (fences) its old incarnation.
      const previous = [...group.members.values()].find((m) => m.groupInstanceId === request.groupInstanceId);
      if (previous) this.removeMember(group, previous, GroupErrorCode.FENCED_INSTANCE_ID, false, 'fenced');
      return this.addMemberAndRebalance(group, memberId, request);
    }
    if (request.requireKnownMemberId) {
      // JoinGroup v4+: hand out the id first; the member must come back with it within its session timeout.
      const expiry = this.scheduler.setTimeout(() => this.expirePendingMember(group, memberId), request.sessionTimeoutMs);
      group.pendingMembers.set(memberId, expiry);
      return Promise.resolve(joinError(GroupErrorCode.MEMBER_ID_REQUIRED, memberId));
    }
    return this.addMemberAndRebalance(group, memberId, request);
  }

  private joinKnownMember(group: Group, member: Member, request: JoinRequest): Promise<JoinResult> {
    const changed = !sameProtocols(member.protocols, request.protocols);
    updateMember(member, request);
    this.touchSession(group, member);
    switch (group.state) {
      case 'PreparingRebalance':
        return this.awaitJoin(group, member);
      case 'CompletingRebalance':
        if (!changed) return Promise.resolve(this.joinResultFor(group, member)); // a retried join: same answer
        this.prepareRebalance(group, `member ${member.memberId} changed its metadata`);
        return this.awaitJoin(group, member);
      case 'Stable':
        // A follower rejoining with unchanged metadata just gets the current generation again;
        // the leader (or changed metadata) triggers a rebalance.
        if (!changed && group.leaderId !== member.memberId) return Promise.resolve(this.joinResultFor(group, member));
        this.prepareRebalance(group, changed ? `member ${member.memberId} changed its metadata` : `leader ${member.memberId} rejoined`);
        return this.awaitJoin(group, member);
      case 'Empty':
        return Promise.resolve(joinError(GroupErrorCode.UNKNOWN_MEMBER_ID, member.memberId));
    }
  }

  private addMemberAndRebalance(group: Group, memberId: string, request: JoinRequest): Promise<JoinResult> {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      assignment: EMPTY,
      awaitingJoin: null,
      awaitingSync: null,
      sessionTimer: null,
    };
    group.members.set(memberId, member);
    group.leaderId ??= memberId;
    // The first member of an empty group defines its protocol type.
    if (group.members.size === 1) group.protocolType = request.protocolType;
    group.newMemberJoinedDuringDelay = true;
    this.touchSession(group, member);
    const result = this.awaitJoin(group, member);
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    else this.prepareRebalance(group, `member ${memberId} joined`);
    return result;
  }

  private awaitJoin(group: Group, member: Member): Promise<JoinResult> {
    const { promise, resolve } = Promise.withResolvers<JoinResult>();
    // A second join while one is held (a client retry): the older response tells it to retry.
    member.awaitingJoin?.(joinError(GroupErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    member.awaitingJoin = resolve;
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    return promise;
  }

  private prepareRebalance(group: Group, reason: string): void {
    this.onEvent({ type: 'rebalance', groupId: group.groupId, reason });
    if (group.state === 'CompletingRebalance') {
      // Assignments of the aborted generation are void; held SyncGroups must rejoin.
      for (const m of group.members.values()) {
        m.assignment = EMPTY;
        this.answerSync(m, { errorCode: GroupErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY });
      }
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.clearJoinTimer(group);
    const rebalanceTimeoutMs = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    if (wasEmpty && this.initialRebalanceDelayMs > 0) {
      // Kafka's InitialDelayedJoin: wait, and wait again (within the rebalance timeout) while new members keep arriving.
      group.initialDelayRemainingMs = Math.max(0, rebalanceTimeoutMs - this.initialRebalanceDelayMs);
      group.newMemberJoinedDuringDelay = false;
      group.joinTimer = this.scheduler.setTimeout(() => this.onInitialDelayElapsed(group), this.initialRebalanceDelayMs);
    } else {
      group.initialDelayRemainingMs = null;
      group.joinTimer = this.scheduler.setTimeout(() => this.completeJoin(group), rebalanceTimeoutMs);
      this.tryCompleteJoin(group);
    }
  }

  private onInitialDelayElapsed(group: Group): void {
    group.joinTimer = null;
    const remaining = group.initialDelayRemainingMs ?? 0;
    if (group.newMemberJoinedDuringDelay && remaining > 0) {
      const delay = Math.min(this.initialRebalanceDelayMs, remaining);
      group.initialDelayRemainingMs = remaining - delay;
      group.newMemberJoinedDuringDelay = false;
      group.joinTimer = this.scheduler.setTimeout(() => this.onInitialDelayElapsed(group), delay);
      return;
    }
    this.completeJoin(group);
  }

  /** Completes the join phase early once every known member is waiting on JoinGroup (and no id handed out is still pending). */
  private tryCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelayRemainingMs !== null) return;
    for (const m of group.members.values()) if (!m.awaitingJoin) return;
    if (group.pendingMembers.size > 0) return;
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    this.clearJoinTimer(group);
    group.initialDelayRemainingMs = null;
    // Members that did not rejoin in time are out.
    for (const m of [...group.members.values()]) {
      if (m.awaitingJoin) continue;
      this.onEvent({ type: 'member-removed', groupId: group.groupId, memberId: m.memberId, reason: 'no-rejoin' });
      this.dropMember(group, m);
    }
    group.generationId++;
    if (group.members.size === 0) {
      this.onEvent({ type: 'generation', groupId: group.groupId, generationId: group.generationId, protocolName: null, members: 0, leader: null });
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      this.forgetIfUnused(group);
      return;
    }
    const protocolName = this.selectProtocol(group);
    group.protocolName = protocolName;
    if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    this.onEvent({ type: 'generation', groupId: group.groupId, generationId: group.generationId, protocolName, members: group.members.size, leader: group.leaderId });
    for (const m of group.members.values()) {
      const answer = m.awaitingJoin!;
      m.awaitingJoin = null;
      this.touchSession(group, m);
      answer(this.joinResultFor(group, m));
    }
  }

  private joinResultFor(group: Group, member: Member): JoinResult {
    const isLeader = group.leaderId === member.memberId;
    return {
      errorCode: 0,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: metadataFor(m, group.protocolName) }))
        : [],
    };
  }

  /** Kafka's rule: among protocols every member supports, each member votes for its first preference; most votes wins. */
  private selectProtocol(group: Group): string {
    const members = [...group.members.values()];
    const candidates = members[0]!.protocols.map((p) => p.name).filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = candidates[0]!;
    for (const name of candidates) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name;
    return best;
  }

  /** The member's protocol type must match the group's, and it must share a protocol with every other member. */
  private protocolsFit(group: Group, request: JoinRequest): boolean {
    if (request.protocolType === '' || request.protocols.length === 0) return false;
    const others = [...group.members.values()].filter((m) => m.memberId !== request.memberId);
    if (others.length === 0) return true;
    if (group.protocolType !== null && group.protocolType !== request.protocolType) return false;
    return request.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
  }

  private expirePendingMember(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
    this.forgetIfUnused(group);
  }

  // ---------------------------------------------------------------- SyncGroup

  sync(request: SyncRequest): Promise<SyncResult> {
    const fail = (errorCode: number): Promise<SyncResult> => Promise.resolve({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    const group = this.groups.get(request.groupId);
    if (!group) return fail(GroupErrorCode.UNKNOWN_MEMBER_ID);
    const member = group.members.get(request.memberId);
    if (!member) return fail(GroupErrorCode.UNKNOWN_MEMBER_ID);
    if (request.groupInstanceId !== null && member.groupInstanceId !== request.groupInstanceId) return fail(GroupErrorCode.FENCED_INSTANCE_ID);
    if (request.generationId !== group.generationId) return fail(GroupErrorCode.ILLEGAL_GENERATION);
    if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
      return fail(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case 'Empty':
        return fail(GroupErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return fail(GroupErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.touchSession(group, member);
        return Promise.resolve(this.syncResultFor(group, member));
      case 'CompletingRebalance': {
        this.touchSession(group, member);
        const { promise, resolve } = Promise.withResolvers<SyncResult>();
        member.awaitingSync?.({ errorCode: GroupErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY });
        member.awaitingSync = resolve;
        if (group.leaderId === member.memberId) {
          const given = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
          for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY;
          group.state = 'Stable';
          for (const m of group.members.values()) this.answerSync(m, this.syncResultFor(group, m));
        }
        return promise;
      }
    }
  }

  private syncResultFor(group: Group, member: Member): SyncResult {
    return { errorCode: 0, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  private answerSync(member: Member, result: SyncResult): void {
    const answer = member.awaitingSync;
    member.awaitingSync = null;
    answer?.(result);
  }

  // ---------------------------------------------------------------- Heartbeat, LeaveGroup, commits

  heartbeat(request: HeartbeatRequest): number {
    const group = this.groups.get(request.groupId);
    if (!group) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    const member = group.members.get(request.memberId);
    if (!member) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    if (request.groupInstanceId !== null && member.groupInstanceId !== request.groupInstanceId) return GroupErrorCode.FENCED_INSTANCE_ID;
    if (request.generationId !== group.generationId) return GroupErrorCode.ILLEGAL_GENERATION;
    this.touchSession(group, member);
    // CompletingRebalance: the member has its JoinGroup answer and is about to sync; treat it as a normal heartbeat.
    return group.state === 'PreparingRebalance' ? GroupErrorCode.REBALANCE_IN_PROGRESS : 0;
  }

  leave(request: LeaveRequest): LeaveResult {
    const group = this.groups.get(request.groupId);
    const results = request.members.map((requested) => {
      const out = { memberId: requested.memberId, groupInstanceId: requested.groupInstanceId, errorCode: 0 };
      if (!group) {
        out.errorCode = GroupErrorCode.UNKNOWN_MEMBER_ID;
        return out;
      }
      if (requested.memberId !== '' && group.pendingMembers.has(requested.memberId)) {
        this.scheduler.clearTimeout(group.pendingMembers.get(requested.memberId)!);
        group.pendingMembers.delete(requested.memberId);
        if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group);
        return out;
      }
      const member =
        requested.memberId !== ''
          ? group.members.get(requested.memberId)
          : [...group.members.values()].find((m) => requested.groupInstanceId !== null && m.groupInstanceId === requested.groupInstanceId);
      if (!member) out.errorCode = GroupErrorCode.UNKNOWN_MEMBER_ID;
      else if (requested.groupInstanceId !== null && member.groupInstanceId !== requested.groupInstanceId) out.errorCode = GroupErrorCode.FENCED_INSTANCE_ID;
      else this.removeMember(group, member, GroupErrorCode.UNKNOWN_MEMBER_ID, true, 'left');
      return out;
    });
    if (group) this.forgetIfUnused(group);
    return { errorCode: 0, members: results };
  }

  validateCommit(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null = null): number {
    const group = this.groups.get(groupId);
    if (!group) {
      // No group management (simple consumer, admin tool) is fine; a generation for an unknown group is stale.
      return generationId < 0 ? 0 : GroupErrorCode.ILLEGAL_GENERATION;
    }
    if (generationId < 0 && group.state === 'Empty') return 0;
    // An anonymous commit (admin tool, simple consumer) into a group that has members is refused.
    if (generationId < 0 && memberId === '' && groupInstanceId === null) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    const current = group.members.get(memberId);
    if (!current) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    if (groupInstanceId !== null && current.groupInstanceId !== groupInstanceId) return GroupErrorCode.FENCED_INSTANCE_ID;
    if (generationId !== group.generationId) return GroupErrorCode.ILLEGAL_GENERATION;
    // The member has its JoinGroup answer but no assignment yet: let it sync first.
    if (group.state === 'CompletingRebalance') return GroupErrorCode.REBALANCE_IN_PROGRESS;
    // Stable, or PreparingRebalance (the member learns about the rebalance from its next heartbeat).
    this.touchSession(group, current);
    return 0;
  }

  // ---------------------------------------------------------------- DescribeGroups, ListGroups, DeleteGroups

  describe(groupId: string): DescribedGroup {
    const group = this.groups.get(groupId);
    if (!group) {
      const hasOffsets = [...this.groupsWithOffsets()].includes(groupId);
      return { errorCode: 0, groupId, state: hasOffsets ? 'Empty' : 'Dead', protocolType: '', protocolData: '', members: [] };
    }
    const stable = group.state === 'Stable';
    // As Kafka: member metadata and assignments are only shown once the group is Stable.
    return {
      errorCode: 0,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? metadataFor(m, group.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  list(statesFilter?: readonly string[]): ListedGroup[] {
    const listed = new Map<string, ListedGroup>();
    for (const id of this.groupsWithOffsets()) listed.set(id, { groupId: id, protocolType: '', state: 'Empty' });
    for (const g of this.groups.values()) listed.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state });
    const wanted = statesFilter && statesFilter.length > 0 ? new Set(statesFilter.map((s) => s.toLowerCase())) : null;
    return [...listed.values()].filter((g) => !wanted || wanted.has(g.state.toLowerCase())).sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group) {
      if (group.members.size > 0 || group.state !== 'Empty') return GroupErrorCode.NON_EMPTY_GROUP;
      this.destroyGroup(group);
      return 0;
    }
    return [...this.groupsWithOffsets()].includes(groupId) ? 0 : GroupErrorCode.GROUP_ID_NOT_FOUND;
  }

  close(): void {
    for (const group of [...this.groups.values()]) {
      for (const m of group.members.values()) {
        m.awaitingJoin?.(joinError(GroupErrorCode.COORDINATOR_NOT_AVAILABLE, m.memberId));
        m.awaitingJoin = null;
        this.answerSync(m, { errorCode: GroupErrorCode.COORDINATOR_NOT_AVAILABLE, protocolType: null, protocolName: null, assignment: EMPTY });
      }
      this.destroyGroup(group);
    }
  }

  // ---------------------------------------------------------------- membership plumbing

  private createGroup(groupId: string): Group {
    const group: Group = {
      groupId,
      state: 'Empty',
      generationId: 0,
      protocolType: null,
      protocolName: null,
      leaderId: null,
      members: new Map(),
      pendingMembers: new Map(),
      joinTimer: null,
      initialDelayRemainingMs: null,
      newMemberJoinedDuringDelay: false,
    };
    this.groups.set(groupId, group);
    return group;
  }

  private touchSession(group: Group, member: Member): void {
    if (member.sessionTimer) this.scheduler.clearTimeout(member.sessionTimer);
    member.sessionTimer = this.scheduler.setTimeout(() => this.onSessionExpired(group, member), member.sessionTimeoutMs);
  }

  private onSessionExpired(group: Group, member: Member): void {
    member.sessionTimer = null;
    if (group.members.get(member.memberId) !== member) return;
    // A member whose JoinGroup/SyncGroup is held is alive by definition; the rebalance timeout governs it.
    if (member.awaitingJoin || member.awaitingSync) {
      this.touchSession(group, member);
      return;
    }
    this.removeMember(group, member, GroupErrorCode.UNKNOWN_MEMBER_ID, true, 'session-expired');
    this.forgetIfUnused(group);
  }

  /** Removes a member and moves the group on: a stable group rebalances, a rebalancing one may now complete. */
  private removeMember(group: Group, member: Member, answerCode: number, rebalance: boolean, reason: 'left' | 'session-expired' | 'fenced'): void {
    this.onEvent({ type: 'member-removed', groupId: group.groupId, memberId: member.memberId, reason });
    member.awaitingJoin?.(joinError(answerCode, member.memberId));
    member.awaitingJoin = null;
    this.answerSync(member, { errorCode: answerCode, protocolType: null, protocolName: null, assignment: EMPTY });
    this.dropMember(group, member);
    if (!rebalance) return;
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, `member ${member.memberId} left or expired`);
    else if (group.state === 'PreparingRebalance') {
      if (group.members.size === 0) this.completeJoin(group);
      else this.tryCompleteJoin(group);
    }
  }

  private dropMember(group: Group, member: Member): void {
    if (member.sessionTimer) this.scheduler.clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    group.members.delete(member.memberId);
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
  }

  /** An Empty group with no members, no pending ids and no timers is just memory: drop it (committed offsets live in storage). */
  private forgetIfUnused(group: Group): void {
    if (group.state === 'Empty' && group.members.size === 0 && group.pendingMembers.size === 0 && group.joinTimer === null) this.destroyGroup(group);
  }

  private destroyGroup(group: Group): void {
    this.clearJoinTimer(group);
    for (const timer of group.pendingMembers.values()) this.scheduler.clearTimeout(timer);
    group.pendingMembers.clear();
    for (const m of group.members.values()) if (m.sessionTimer) this.scheduler.clearTimeout(m.sessionTimer);
    group.members.clear();
    this.groups.delete(group.groupId);
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer) this.scheduler.clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }
}

function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
}

function updateMember(member: Member, request: JoinRequest): void {
  member.clientId = request.clientId;
  member.clientHost = request.clientHost;
  member.sessionTimeoutMs = request.sessionTimeoutMs;
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  member.protocols = request.protocols;
}

function sameProtocols(a: readonly ProtocolOffer[], b: readonly ProtocolOffer[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

function metadataFor(member: Member, protocolName: string | null): Buffer {
  return member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY;
}
