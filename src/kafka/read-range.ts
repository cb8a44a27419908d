// Reads one partition between two offsets and stops: how a restarted worker
// loads its last checkpoint and what its output topic already holds. Plain
// Fetch requests to the partition's leader, no consumer group: joining a
// throwaway group cost the broker's initial rebalance delay on every read
// (300 ms here, 3 s by default in Kafka), and a restore reads several
// partitions one after the other.

import { Consumer, ProtocolError, kGetConnection, type Connection } from '@platformatic/kafka';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import { fetchApi, type FetchResult } from './fetch.ts';
import { splitRecordSet, type FetchedBatch } from './record-decoder.ts';
import type { ConsumedRecord } from './types.ts';

const OFFSET_OUT_OF_RANGE = 1;

/** Records of topic/partition with from <= offset < to (to: the log end when the call starts). */
export async function readRange(config: ClientConfig, topic: string, partition: number, from: number, to: number, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  if (to <= from) return [];
  // A consumer client for its metadata and connections; it never joins a group.
  const client = new Consumer({ ...baseOptions(config, 'streamwatch-reader'), groupId: 'streamwatch-reader' });
  const records: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  let next = from;
  let refresh = false;
  try {
    while (next < to) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}:${partition} from ${from} to ${to} timed out at ${next}`);
      const metadata = await client.metadata({ topics: [topic], forceUpdate: refresh });
      const leader = metadata.topics.get(topic)?.partitions[partition]?.leader ?? -1;
      const broker = metadata.brokers.get(leader);
      if (broker === undefined) throw new Error(`no leader known for ${topic}:${partition}`);
      const connection = await new Promise<Connection>((resolve, reject) => {
        client[kGetConnection](broker, (error: Error | null, c?: Connection) => (error || c === undefined ? reject(error ?? new Error('no connection')) : resolve(c)));
      });
      const result = await new Promise<FetchResult>((resolve, reject) => {
        fetchApi(connection, { maxWaitMs: 100, maxBytes: 4 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024, isolationLevel: 1 }, [{ topic, partitions: [{ partition, offset: next }] }], (error: Error | null, r?: FetchResult) =>
          error || r === undefined ? reject(error ?? new Error('no response')) : resolve(r),
        );
      });
      const fetched = result.partitions.find((p) => p.topic === topic && p.partition === partition);
      const code = result.errorCode !== 0 ? result.errorCode : (fetched?.errorCode ?? 0);
      refresh = false;
      if (code === OFFSET_OUT_OF_RANGE && fetched !== undefined && fetched.logStartOffset > next) {
        // Deleted by retention: what is left starts later.
        next = fetched.logStartOffset;
        continue;
      }
      if (code !== 0) {
        const error = new ProtocolError(code);
        if (!error.canRetry) throw error;
        refresh = true;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (fetched?.records == null) continue;
      const batches: FetchedBatch[] = [];
      next = Math.max(next, splitRecordSet(fetched.records, topic, partition, next, fetched.aborted, batches).next);
      for (const batch of batches) {
        const taken: ConsumedRecord[] = [];
        batch.take(taken, Infinity);
        for (const record of taken) if (record.offset < to) records.push(record);
      }
    }
  } catch (error) {
    throw kafkaError(error, `reading ${topic}:${partition}`, config.brokers);
  } finally {
    await client.close().catch(() => {});
  }
  return records;
}
