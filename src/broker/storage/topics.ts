// Topic metadata: names, random UUID topic ids, partition counts and
// configs, persisted in dataDir/topics.json with an atomic rewrite on every
// change (topics change rarely; a whole rewrite keeps the format trivial).

import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './files.ts';
import type { TopicInfo } from './types.ts';

const FILE = 'topics.json';
const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
const MAX_NAME_LENGTH = 249;
export const MAX_PARTITIONS = 10000;

interface StoredTopic {
  name: string;
  topicId: string;
  partitions: number;
  configs: Record<string, string>;
}

/** Kafka's topic name rule; returns the reason when illegal. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > MAX_NAME_LENGTH) return `topic name longer than ${MAX_NAME_LENGTH} characters`;
  if (!LEGAL_NAME.test(name)) return `topic name "${name}" may only contain ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/** A random v4 UUID as 16 bytes; never all zero (Kafka reserves that). */
export function newTopicId(): Buffer {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    if (id.some((b) => b !== 0)) return id;
  }
}

export function uuidString(id: Buffer): string {
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function makeTopicInfo(name: string, topicId: Buffer, partitions: number, configs: Record<string, string>): TopicInfo {
  return Object.freeze({ name, topicId, topicIdString: uuidString(topicId), partitions, configs: Object.freeze({ ...configs }) });
}

export async function loadTopics(dataDir: string): Promise<TopicInfo[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parsed = JSON.parse(text) as { topics: StoredTopic[] };
  return parsed.topics.map((t) => makeTopicInfo(t.name, Buffer.from(t.topicId, 'hex'), t.partitions, t.configs));
}

export async function saveTopics(dataDir: string, topics: Iterable<TopicInfo>): Promise<void> {
  const stored: StoredTopic[] = [...topics].map((t) => ({ name: t.name, topicId: t.topicId.toString('hex'), partitions: t.partitions, configs: { ...t.configs } }));
  await writeFileAtomic(join(dataDir, FILE), JSON.stringify({ version: 1, topics: stored }, null, 1) + '\n');
}
