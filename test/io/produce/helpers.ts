// Helpers for the producer tests: an embedded broker in this process, a temp
// dir removed after the test, and every message of a topic read back with
// the adapter (partition by partition, in offset order).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startBroker } from '../../../src/broker/server.ts';
import { KafkaAdmin } from '../../../src/kafka/index.ts';
import { readRange } from '../../../src/kafka/read-range.ts';
import type { ConsumedRecord } from '../../../src/kafka/types.ts';

/** A temp dir and a broker in it, both gone when the test ends. */
export async function brokerFor(t: TestContext): Promise<{ dir: string; brokers: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'streamwatch-produce-'));
  const broker = await startBroker({ port: 0, dataDir: join(dir, 'broker'), log: () => {} });
  t.after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, brokers: broker.address };
}

/** Every message of the topic, partition 0 first, each partition in offset order. */
export async function readTopic(brokers: string, topic: string): Promise<ConsumedRecord[]> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  let latest: Map<string, number>;
  try {
    latest = await admin.listOffsets([topic], 'latest');
  } finally {
    await admin.close();
  }
  const records: ConsumedRecord[] = [];
  for (const [key, end] of [...latest].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
    const partition = Number(key.slice(key.lastIndexOf(':') + 1));
    records.push(...(await readRange({ brokers: [brokers] }, topic, partition, 0, end)));
  }
  return records;
}

/** Total messages the topic holds. */
export async function topicSize(brokers: string, topic: string): Promise<number> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  try {
    return [...(await admin.listOffsets([topic], 'latest')).values()].reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  } finally {
    await admin.close();
  }
}

export const text = (record: ConsumedRecord): string => record.value?.toString('utf8') ?? '';
export const key = (record: ConsumedRecord): string | null => record.key?.toString('utf8') ?? null;
