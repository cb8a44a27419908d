import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator, GroupErrorCode, ManualScheduler, type GroupEvent, type JoinRequest, type JoinResult } from '../../../src/broker/groups/index.ts';

const SESSION = 10_000;
const REBALANCE = 30_000;
const DELAY = 300;

function setup(groupsWithOffsets: string[] = []): { clock: ManualScheduler; coordinator: GroupCoordinator; events: GroupEvent[] } {
  const clock = new ManualScheduler(1_000_000);
  let next = 0;
  const events: GroupEvent[] = [];
  const coordinator = new GroupCoordinator({
    scheduler: clock,
    initialRebalanceDelayMs: DELAY,
    groupsWithOffsets: () => groupsWithOffsets,
    newMemberId: (clientId) => `${clientId}-${++next}`,
    onEvent: (event) => events.push(event),
  });
  return { clock, coordinator, events };
}

function joinRequest(overrides: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: REBALANCE,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('meta') }],
    requireKnownMemberId: true,
    ...overrides,
  };
}

/** Tracks whether a promise has settled, so tests can assert that a response is still held. */
function track<T>(promise: Promise<T>): { done: () => boolean; value: () => Promise<T> } {
  let settled = false;
  void promise.then(() => (settled = true));
  return { done: () => settled, value: () => promise };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** The promise's value if it settles without the clock moving; a failure (not a hang) otherwise. */
async function settled<T>(promise: Promise<T>): Promise<T> {
  const timeout = flush().then(() => flush()).then(() => Promise.reject(new Error('response still held')));
  return Promise.race([promise, timeout]);
}

/** Member id handshake (JoinGroup v4+) then the real join; returns the held join. */
async function newMember(coordinator: GroupCoordinator, clientId: string, overrides: Partial<JoinRequest> = {}): Promise<{ memberId: string; join: Promise<JoinResult> }> {
  const first = await coordinator.join(joinRequest({ clientId, ...overrides }));
  assert.equal(first.errorCode, GroupErrorCode.MEMBER_ID_REQUIRED);
  assert.equal(first.memberId, `${clientId}-${first.memberId.split('-').pop()}`);
  return { memberId: first.memberId, join: coordinator.join(joinRequest({ clientId, memberId: first.memberId, ...overrides })) };
}

async function syncAll(coordinator: GroupCoordinator, generationId: number, leader: string, members: string[]): Promise<Map<string, string>> {
  const followers = members.filter((m) => m !== leader).map((m) => coordinator.sync({ groupId: 'g', memberId: m, generationId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }));
  const leaderSync = coordinator.sync({
    groupId: 'g',
    memberId: leader,
    generationId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: null,
    assignments: members.map((m, i) => ({ memberId: m, assignment: Buffer.from(`part-${i}-of-${members.length}`) })),
  });
  const results = await Promise.all([leaderSync, ...followers]);
  const out = new Map<string, string>();
  [leader, ...members.filter((m) => m !== leader)].forEach((m, i) => {
    assert.equal(results[i]!.errorCode, 0);
    out.set(m, results[i]!.assignment.toString());
  });
  return out;
}

test('member id handshake, initial delay, one member becomes leader and gets its assignment', async () => {
  const { clock, coordinator } = setup();
  const a = await newMember(coordinator, 'a');
  const held = track(a.join);
  await flush();
  assert.equal(held.done(), false, 'the join is held for the initial rebalance delay');
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
  clock.advance(DELAY);
  const joined = await settled(a.join);
  assert.deepEqual({ ...joined, members: joined.members.map((m) => m.memberId) }, {
    errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: a.memberId, memberId: a.memberId, members: [a.memberId],
  });
  assert.equal(joined.members[0]!.metadata.toString(), 'meta');
  assert.equal(coordinator.describe('g').state, 'CompletingRebalance');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: a.memberId, generationId: 1, groupInstanceId: null }), 0);
  const assignments = await syncAll(coordinator, 1, a.memberId, [a.memberId]);
  assert.equal(assignments.get(a.memberId), 'part-0-of-1');
  const described = coordinator.describe('g');
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocolData, 'range');
  assert.equal(described.members[0]!.assignment.toString(), 'part-0-of-1');
  assert.equal(described.members[0]!.clientId, 'a');
  // Older clients (JoinGroup v0-3) get an id straight away.
  const old = await Promise.race([coordinator.join(joinRequest({ groupId: 'old', clientId: 'k', requireKnownMemberId: false })), flush().then(() => null)]);
  assert.equal(old, null, 'held: it joins directly');
  coordinator.close();
});

test('two members join together; follower SyncGroup waits for the leader; a leave gives the survivor everything', async () => {
  const { clock, coordinator } = setup();
  const a = await newMember(coordinator, 'a');
  clock.advance(100);
  const b = await newMember(coordinator, 'b');
  clock.advance(DELAY);
  await flush();
  assert.equal(track(a.join).done(), false, 'b arrived during the initial delay: it is extended once more');
  clock.advance(DELAY);
  const [ja, jb] = await settled(Promise.all([a.join, b.join]));
  assert.equal(ja.generationId, 1);
  assert.equal(jb.generationId, 1);
  assert.equal(ja.leader, a.memberId);
  assert.equal(jb.leader, a.memberId);
  assert.deepEqual(ja.members.map((m) => m.memberId), [a.memberId, b.memberId]);
  assert.deepEqual(jb.members, [], 'only the leader gets the member list');

  const followerSync = track(coordinator.sync({ groupId: 'g', memberId: b.memberId, generationId: 1, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }));
  await flush();
  assert.equal(followerSync.done(), false, 'follower waits for the leader');
  const leaderSync = await coordinator.sync({
    groupId: 'g', memberId: a.memberId, generationId: 1, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
    assignments: [{ memberId: a.memberId, assignment: Buffer.from('a:0') }, { memberId: b.memberId, assignment: Buffer.from('b:1') }],
  });
  assert.equal(leaderSync.assignment.toString(), 'a:0');
  assert.equal((await followerSync.value()).assignment.toString(), 'b:1');
  assert.equal(coordinator.describe('g').state, 'Stable');

  // b leaves: a is told to rejoin and ends up alone, with every partition.
  const left = coordinator.leave({ groupId: 'g', members: [{ memberId: b.memberId, groupInstanceId: null }] });
  assert.deepEqual(left, { errorCode: 0, members: [{ memberId: b.memberId, groupInstanceId: null, errorCode: 0 }] });
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: a.memberId, generationId: 1, groupInstanceId: null }), GroupErrorCode.REBALANCE_IN_PROGRESS);
  const rejoin = await coordinator.join(joinRequest({ clientId: 'a', memberId: a.memberId }));
  assert.equal(rejoin.generationId, 2, 'completes at once: every known member rejoined');
  assert.deepEqual(rejoin.members.map((m) => m.memberId), [a.memberId]);
  const assignments = await syncAll(coordinator, 2, a.memberId, [a.memberId]);
  assert.equal(assignments.get(a.memberId), 'part-0-of-1');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: b.memberId, generationId: 1, groupInstanceId: null }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  coordinator.close();
});

async function stableGroupOfTwo(coordinator: GroupCoordinator, clock: ManualScheduler): Promise<{ a: string; b: string }> {
  const a = await newMember(coordinator, 'a');
  const b = await newMember(coordinator, 'b');
  clock.advance(2 * DELAY); // b arrived during the initial delay, which extends it once
  const [ja] = await settled(Promise.all([a.join, b.join]));
  await syncAll(coordinator, ja.generationId, ja.leader, [a.memberId, b.memberId]);
  return { a: a.memberId, b: b.memberId };
}

test('session expiry evicts a silent member and the rest rebalance', async () => {
  const { clock, coordinator, events } = setup();
  const { a, b } = await stableGroupOfTwo(coordinator, clock);
  for (let t = 0; t < 3; t++) {
    clock.advance(SESSION / 2);
    assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: a, generationId: 1, groupInstanceId: null }), t < 1 ? 0 : GroupErrorCode.REBALANCE_IN_PROGRESS);
  }
  // b never heartbeated: gone after its session timeout.
  assert.deepEqual(coordinator.describe('g').members.map((m) => m.memberId), [a]);
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: b, generationId: 1, groupInstanceId: null }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  const rejoin = await coordinator.join(joinRequest({ clientId: 'a', memberId: a }));
  assert.deepEqual([rejoin.errorCode, rejoin.generationId, rejoin.leader], [0, 2, a]);
  assert.deepEqual(events.filter((e) => e.type !== 'rebalance'), [
    { type: 'generation', groupId: 'g', generationId: 1, protocolName: 'range', members: 2, leader: a },
    { type: 'member-removed', groupId: 'g', memberId: b, reason: 'session-expired' },
    { type: 'generation', groupId: 'g', generationId: 2, protocolName: 'range', members: 1, leader: a },
  ]);
  coordinator.close();
});

test('a member that does not rejoin within the rebalance timeout is dropped', async () => {
  const { clock, coordinator, events } = setup();
  const { a, b } = await stableGroupOfTwo(coordinator, clock);
  const c = await newMember(coordinator, 'c');
  const aJoin = track(coordinator.join(joinRequest({ clientId: 'a', memberId: a })));
  // b keeps heartbeating (so its session stays alive) but never rejoins.
  for (let t = 0; t < 5; t++) {
    clock.advance(REBALANCE / 6);
    assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: b, generationId: 1, groupInstanceId: null }), GroupErrorCode.REBALANCE_IN_PROGRESS);
  }
  await flush();
  assert.equal(aJoin.done(), false, 'still waiting for b');
  clock.advance(REBALANCE / 6);
  const [ra, rc] = await settled(Promise.all([aJoin.value(), c.join]));
  assert.equal(ra.generationId, 2);
  assert.equal(rc.generationId, 2);
  assert.equal(ra.leader, a, 'the leader stays the leader');
  assert.deepEqual(ra.members.map((m) => m.memberId).sort(), [a, c.memberId].sort());
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: b, generationId: 1, groupInstanceId: null }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  assert.ok(events.some((e) => e.type === 'member-removed' && e.memberId === b && e.reason === 'no-rejoin'));
  coordinator.close();
});

test('stale generations and unknown members are refused', async () => {
  const { clock, coordinator } = setup();
  const { a, b } = await stableGroupOfTwo(coordinator, clock);
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: a, generationId: 0, groupInstanceId: null }), GroupErrorCode.ILLEGAL_GENERATION);
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'nobody', generationId: 1, groupInstanceId: null }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(coordinator.heartbeat({ groupId: 'nogroup', memberId: a, generationId: 1, groupInstanceId: null }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  const staleSync = await coordinator.sync({ groupId: 'g', memberId: b, generationId: 7, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(staleSync.errorCode, GroupErrorCode.ILLEGAL_GENERATION);
  const wrongProtocol = await coordinator.sync({ groupId: 'g', memberId: b, generationId: 1, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
  assert.equal(wrongProtocol.errorCode, GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await coordinator.join(joinRequest({ memberId: 'made-up' }))).errorCode, GroupErrorCode.UNKNOWN_MEMBER_ID);

  // Offset commit generation checks.
  assert.equal(coordinator.validateCommit('g', a, 1), 0);
  assert.equal(coordinator.validateCommit('g', a, 0), GroupErrorCode.ILLEGAL_GENERATION);
  assert.equal(coordinator.validateCommit('g', 'nobody', 1), GroupErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(coordinator.validateCommit('g', '', -1), GroupErrorCode.UNKNOWN_MEMBER_ID, 'a group with members refuses unmanaged commits');
  assert.equal(coordinator.validateCommit('simple', '', -1), 0, 'no group management');
  assert.equal(coordinator.validateCommit('simple', 'x', 3), GroupErrorCode.ILLEGAL_GENERATION);
  // During a rebalance: commits with the current generation are still fine before the join completes ...
  coordinator.leave({ groupId: 'g', members: [{ memberId: b, groupInstanceId: null }] });
  assert.equal(coordinator.validateCommit('g', a, 1), 0);
  // ... but not between JoinGroup and SyncGroup.
  const rejoin = await coordinator.join(joinRequest({ clientId: 'a', memberId: a }));
  assert.equal(coordinator.validateCommit('g', a, rejoin.generationId), GroupErrorCode.REBALANCE_IN_PROGRESS);
  // Once everyone left, the group is Empty and admin commits are accepted.
  coordinator.leave({ groupId: 'g', members: [{ memberId: a, groupInstanceId: null }] });
  assert.equal(coordinator.validateCommit('g', '', -1), 0);
  coordinator.close();
});

test('protocol negotiation: inconsistent types and protocols are refused, the majority choice wins', async () => {
  const { clock, coordinator } = setup();
  const proto = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
  assert.equal((await coordinator.join(joinRequest({ protocols: [] }))).errorCode, GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await coordinator.join(joinRequest({ protocolType: '' }))).errorCode, GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await coordinator.join(joinRequest({ sessionTimeoutMs: 10 }))).errorCode, GroupErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await coordinator.join(joinRequest({ groupId: '' }))).errorCode, GroupErrorCode.INVALID_GROUP_ID);

  const a = await newMember(coordinator, 'a', { protocols: proto('range', 'roundrobin') });
  const b = await newMember(coordinator, 'b', { protocols: proto('roundrobin', 'range') });
  const c = await newMember(coordinator, 'c', { protocols: proto('roundrobin') });
  // kafkajs in a librdkafka group: no common protocol.
  const d = await coordinator.join(joinRequest({ clientId: 'd', protocols: proto('RoundRobinAssigner') }));
  assert.equal(d.errorCode, GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const e = await coordinator.join(joinRequest({ clientId: 'e', protocolType: 'connect', protocols: proto('roundrobin') }));
  assert.equal(e.errorCode, GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  clock.advance(2 * DELAY);
  const [ra, rb, rc] = await settled(Promise.all([a.join, b.join, c.join]));
  for (const r of [ra, rb, rc]) assert.equal(r.protocolName, 'roundrobin');
  assert.deepEqual(ra.members.map((m) => m.metadata.toString()), ['roundrobin', 'roundrobin', 'roundrobin']);
  coordinator.close();
});

test('initial delay: members arriving during it share one generation; it is bounded by the rebalance timeout', async () => {
  const { clock, coordinator } = setup();
  const joins: Promise<JoinResult>[] = [];
  for (let i = 0; i < 3; i++) {
    joins.push((await newMember(coordinator, `m${i}`)).join);
    clock.advance(DELAY - 50);
  }
  // Timer at 300 saw m1 arrive (extended to 600), at 600 saw m2 (extended to 900).
  await assert.rejects(settled(joins[0]!), /still held/);
  clock.advance(DELAY);
  const results = await settled(Promise.all(joins));
  assert.ok(results.every((r) => r.errorCode === 0 && r.generationId === 1));
  assert.equal(results[0]!.members.length, 3);

  // Members that keep arriving cannot hold the first generation back beyond the rebalance timeout.
  const first = track((await newMember(coordinator, 'x0', { groupId: 'busy', rebalanceTimeoutMs: 1000 })).join);
  for (let i = 1; i <= 8; i++) {
    clock.advance(DELAY - 50);
    void (await newMember(coordinator, `x${i}`, { groupId: 'busy', rebalanceTimeoutMs: 1000 })).join;
    await flush();
    if (clock.now() - 1_001_050 >= 1000) break;
  }
  assert.equal(first.done(), true);
  assert.equal((await first.value()).generationId, 1);
  coordinator.close();
});

test('an unused MEMBER_ID_REQUIRED id expires and is unknown afterwards', async () => {
  const { clock, coordinator } = setup();
  const a = await newMember(coordinator, 'a');
  const ghost = await coordinator.join(joinRequest({ clientId: 'ghost' }));
  assert.equal(ghost.errorCode, GroupErrorCode.MEMBER_ID_REQUIRED);
  clock.advance(DELAY);
  assert.equal((await settled(a.join)).generationId, 1, 'the initial delay does not wait for pending ids');
  await syncAll(coordinator, 1, a.memberId, [a.memberId]);
  clock.advance(SESSION / 2);
  coordinator.heartbeat({ groupId: 'g', memberId: a.memberId, generationId: 1, groupInstanceId: null });
  clock.advance(SESSION / 2 + 1);
  assert.equal((await coordinator.join(joinRequest({ clientId: 'ghost', memberId: ghost.memberId }))).errorCode, GroupErrorCode.UNKNOWN_MEMBER_ID);
  coordinator.close();
});

test('describe, list with state filter, delete', async () => {
  const { clock, coordinator } = setup(['offsets-only']);
  assert.deepEqual(coordinator.describe('nothing'), { errorCode: 0, groupId: 'nothing', state: 'Dead', protocolType: '', protocolData: '', members: [] });
  assert.equal(coordinator.describe('offsets-only').state, 'Empty');
  const a = await newMember(coordinator, 'a');
  const during = coordinator.describe('g');
  assert.equal(during.state, 'PreparingRebalance');
  assert.equal(during.members[0]!.metadata.length, 0, 'no metadata until Stable');
  clock.advance(DELAY);
  await settled(a.join);
  await syncAll(coordinator, 1, a.memberId, [a.memberId]);
  assert.deepEqual(coordinator.list(), [
    { groupId: 'g', protocolType: 'consumer', state: 'Stable' },
    { groupId: 'offsets-only', protocolType: '', state: 'Empty' },
  ]);
  assert.deepEqual(coordinator.list(['empty']).map((g) => g.groupId), ['offsets-only']);
  assert.equal(coordinator.deleteGroup('g'), GroupErrorCode.NON_EMPTY_GROUP);
  assert.equal(coordinator.deleteGroup('missing'), GroupErrorCode.GROUP_ID_NOT_FOUND);
  assert.equal(coordinator.deleteGroup('offsets-only'), 0);
  coordinator.leave({ groupId: 'g', members: [{ memberId: a.memberId, groupInstanceId: null }] });
  assert.equal(coordinator.describe('g').state, 'Dead', 'a group with no members and no offsets is forgotten');
  const unknownLeave = coordinator.leave({ groupId: 'g', members: [{ memberId: 'x', groupInstanceId: null }] });
  assert.equal(unknownLeave.members[0]!.errorCode, GroupErrorCode.UNKNOWN_MEMBER_ID);
  assert.equal(clock.pending, 0, 'no timers left behind');
  coordinator.close();
});

test('a static member rejoining under a new member id fences its old incarnation', async () => {
  const { clock, coordinator } = setup();
  const first = coordinator.join(joinRequest({ clientId: 's', groupInstanceId: 'inst-1' }));
  clock.advance(DELAY);
  const old = await settled(first);
  assert.equal(old.errorCode, 0, 'static members skip the member id handshake');
  await syncAll(coordinator, old.generationId, old.leader, [old.memberId]);
  const second = await coordinator.join(joinRequest({ clientId: 's', groupInstanceId: 'inst-1' }));
  assert.notEqual(second.memberId, old.memberId);
  assert.equal(second.generationId, old.generationId + 1);
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: old.memberId, generationId: old.generationId, groupInstanceId: 'inst-1' }), GroupErrorCode.UNKNOWN_MEMBER_ID);
  coordinator.close();
});

test('close answers held joins and syncs', async () => {
  const { coordinator } = setup();
  const a = await newMember(coordinator, 'a');
  coordinator.close();
  assert.equal((await a.join).errorCode, GroupErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('a join between JoinGroup and SyncGroup aborts the generation: held and late syncs must rejoin', async () => {
  const { clock, coordinator } = setup();
  const a = await newMember(coordinator, 'a');
  const b = await newMember(coordinator, 'b');
  clock.advance(2 * DELAY);
  const [ja] = await settled(Promise.all([a.join, b.join]));
  assert.equal(coordinator.describe('g').state, 'CompletingRebalance');
  const heldSync = coordinator.sync({ groupId: 'g', memberId: b.memberId, generationId: ja.generationId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  const c = await newMember(coordinator, 'c');
  assert.equal((await settled(heldSync)).errorCode, GroupErrorCode.REBALANCE_IN_PROGRESS);
  const lateLeaderSync = await coordinator.sync({ groupId: 'g', memberId: a.memberId, generationId: ja.generationId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(lateLeaderSync.errorCode, GroupErrorCode.REBALANCE_IN_PROGRESS);
  // Everyone rejoins: generation 2 with three members, completed without waiting for a timer.
  const rejoins = [coordinator.join(joinRequest({ clientId: 'a', memberId: a.memberId })), coordinator.join(joinRequest({ clientId: 'b', memberId: b.memberId })), c.join];
  const results = await settled(Promise.all(rejoins));
  assert.deepEqual(results.map((r) => r.generationId), [2, 2, 2]);
  assert.equal(results[0]!.members.length, 3);
  coordinator.close();
});
