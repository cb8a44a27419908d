// Reads one partition between two offsets and stops: how a restarted worker
// loads its last checkpoint and what its output topic already holds. Uses a
// throwaway consumer group that never commits.

import { randomUUID } from 'node:crypto';
import { GroupConsumer } from './consumer.ts';
import type { ClientConfig } from './connection.ts';
import type { ConsumedRecord } from './types.ts';

/** Records of topic/partition with from <= offset < to (to: the log end when the call starts). */
export async function readRange(config: ClientConfig, topic: string, partition: number, from: number, to: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  if (to <= from) return [];
  const consumer = await GroupConsumer.start({
    ...config,
    groupId: `streamwatch-reader-${randomUUID()}`,
    topics: [topic],
    startOffsets: [{ topic, partition, offset: from }],
    fallback: 'latest',
    sessionTimeoutMs: 6000,
    maxWaitMs: 100,
  });
  const records: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    let next = from;
    while (next < to) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}:${partition} from ${from} to ${to} timed out at ${next}`);
      for (const record of await consumer.poll(200)) {
        if (record.partition !== partition || record.offset < next || record.offset >= to) continue;
        records.push(record);
        next = record.offset + 1;
      }
    }
  } finally {
    await consumer.close();
  }
  return records;
}
