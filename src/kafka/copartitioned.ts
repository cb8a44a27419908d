// Partition assignment for joins: partition p of every subscribed topic goes
// to the same member, so one worker sees both halves of every key (the
// topics are co-partitioned: same key, same partition number). Partition
// numbers are dealt round robin over the members in id order.

import type { GroupPartitionsAssigner } from '@platformatic/kafka';

export const copartitionedAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const memberIds = [...members.keys()].sort();
  const assignments = memberIds.map((memberId) => ({ memberId, assignments: new Map<string, { topic: string; partitions: number[] }>() }));
  if (assignments.length === 0) return assignments;
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    for (let p = 0; p < count; p++) {
      const member = assignments[p % assignments.length]!;
      let entry = member.assignments.get(topic);
      if (entry === undefined) {
        entry = { topic, partitions: [] };
        member.assignments.set(topic, entry);
      }
      entry.partitions.push(p);
    }
  }
  return assignments;
};

/**
 * Every partition of every topic to one member (the first in id order), none
 * to the others: for a job that must see all of its input in one task (the
 * NGINX goals, the LB summary). Further members stand by and take over when
 * the one at work leaves.
 */
export const singleMemberAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const memberIds = [...members.keys()].sort();
  const assignments = memberIds.map((memberId) => ({ memberId, assignments: new Map<string, { topic: string; partitions: number[] }>() }));
  const chosen = assignments[0];
  if (chosen === undefined) return assignments;
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    chosen.assignments.set(topic, { topic, partitions: Array.from({ length: count }, (_, p) => p) });
  }
  return assignments;
};
