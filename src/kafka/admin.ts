// Administrative requests over one connection pool: topics (list, describe,
// create when missing), offsets (earliest, latest, committed by a group) and
// groups (list, describe). Every failure is one StreamwatchError line.

import { Admin } from '@platformatic/kafka';
import { baseOptions, kafkaError, type ClientConfig } from './connection.ts';
import { partitionKey, type GroupDescription, type PartitionOffset, type TopicDescription } from './types.ts';

/** ListOffsets timestamps with a special meaning. */
const LATEST = -1n;
const EARLIEST = -2n;

export class KafkaAdmin {
  private readonly client: Admin;
  readonly brokers: readonly string[];

  private constructor(client: Admin, brokers: readonly string[]) {
    this.client = client;
    this.brokers = brokers;
  }

  /** Connects and checks that a broker answers (SW_ERR_BROKER_UNREACHABLE otherwise). */
  static async connect(config: ClientConfig): Promise<KafkaAdmin> {
    const admin = new KafkaAdmin(new Admin(baseOptions(config, 'streamwatch-admin')), config.brokers);
    try {
      await admin.ping();
      return admin;
    } catch (error) {
      await admin.close();
      throw error;
    }
  }

  /** One Metadata request without topics: the cheapest proof that the cluster answers. Returns the number of brokers. */
  async ping(): Promise<number> {
    const metadata = await this.run('contacting the brokers', () => this.client.metadata({ topics: [], forceUpdate: true }));
    return metadata.brokers.size;
  }

  async listTopics(): Promise<string[]> {
    const topics = await this.run('listing topics', () => this.client.listTopics({ includeInternals: false }));
    return topics.sort();
  }

  /** Creates the topics that do not exist yet; returns the names created. */
  async ensureTopics(topics: readonly string[], partitions: number): Promise<string[]> {
    const existing = new Set(await this.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    try {
      await this.client.createTopics({ topics: missing, partitions, replicas: 1 });
    } catch (error) {
      // Another client may have created them meanwhile: only fail if they are still missing.
      // (TOPIC_ALREADY_EXISTS says so too, even when a listing made just before missed them.)
      if (/already exists/i.test(String((error as Error).message) + String((error as { errors?: unknown[] }).errors ?? ''))) return missing;
      const now = new Set(await this.listTopics());
      if (missing.some((t) => !now.has(t))) throw kafkaError(error, `creating topics ${missing.join(', ')}`, this.brokers);
    }
    return missing;
  }

  async createTopic(name: string, partitions: number): Promise<void> {
    await this.run(`creating topic ${name}`, () => this.client.createTopics({ topics: [name], partitions, replicas: 1 }));
  }

  async describeTopics(names: readonly string[]): Promise<TopicDescription[]> {
    const metadata = await this.run('describing topics', () => this.client.metadata({ topics: [...names], forceUpdate: true }));
    return names.map((name) => {
      const topic = metadata.topics.get(name);
      if (!topic) throw kafkaError(new Error(`topic ${name} does not exist`), 'describing topics', this.brokers);
      return {
        name,
        id: topic.id,
        partitions: topic.partitions.map((p, partition) => ({ partition, leader: p.leader, replicas: p.replicas, isr: p.isr })),
      };
    });
  }

  /** Partition count of each topic. */
  async partitionCounts(topics: readonly string[]): Promise<Map<string, number>> {
    const described = await this.describeTopics(topics);
    return new Map(described.map((t) => [t.name, t.partitions.length]));
  }

  /** Earliest or latest offset of every partition of the topics, keyed `topic:partition`. */
  async listOffsets(topics: readonly string[], which: 'earliest' | 'latest'): Promise<Map<string, number>> {
    const counts = await this.partitionCounts(topics);
    const timestamp = which === 'earliest' ? EARLIEST : LATEST;
    const request = [...counts].map(([name, count]) => ({ name, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }));
    const listed = await this.run(`listing ${which} offsets`, () => this.client.listOffsets({ topics: request }));
    const offsets = new Map<string, number>();
    for (const topic of listed) for (const p of topic.partitions) offsets.set(partitionKey(topic.name, p.partitionIndex), Number(p.offset));
    return offsets;
  }

  /** Offsets a group has committed (the next offset to read); partitions without a commit are left out. */
  async committedOffsets(groupId: string, topics?: readonly string[]): Promise<PartitionOffset[]> {
    let request: Parameters<Admin['listConsumerGroupOffsets']>[0];
    if (topics) {
      const counts = await this.partitionCounts(topics);
      request = { groups: [{ groupId, topics: [...counts].map(([name, count]) => ({ name, partitionIndexes: Array.from({ length: count }, (_, i) => i) })) }] };
    } else {
      request = { groups: [groupId] };
    }
    const groups = await this.run(`fetching offsets of group ${groupId}`, () => this.client.listConsumerGroupOffsets(request));
    const result: PartitionOffset[] = [];
    for (const group of groups) {
      for (const topic of group.topics) {
        for (const p of topic.partitions) {
          if (p.committedOffset >= 0n) result.push({ topic: topic.name, partition: p.partitionIndex, offset: Number(p.committedOffset) });
        }
      }
    }
    return result.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  async listGroups(): Promise<Array<{ groupId: string; state: string; protocolType: string }>> {
    const groups = await this.run('listing groups', () => this.client.listGroups());
    return [...groups.values()].map((g) => ({ groupId: g.id, state: g.state, protocolType: g.protocolType }));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const groups = await this.run('describing groups', () => this.client.describeGroups({ groups: [...groupIds] }));
    return [...groups.values()].map((g) => ({
      groupId: g.id,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members: [...g.members.values()].map((m) => ({
        memberId: m.id,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignments: [...(m.assignments?.values() ?? [])].flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))),
      })),
    }));
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }

  private async run<T>(action: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw kafkaError(error, action, this.brokers);
    }
  }
}
