// Feeds a dashboard hub from Kafka, for `streamwatch dashboard` running on
// its own: reads the pipeline's topics with the project's adapter
// (src/kafka/) in a throwaway consumer group that never commits, starting a
// little before the log end so a fresh page has recent history, and every
// few seconds measures consumer lag of the pipeline's groups and the message
// rates per topic.
//
// Topics that do not exist yet (the pipeline has not started) are looked for
// again periodically; a broker that goes away is retried, never fatal.

import { randomUUID } from 'node:crypto';
import { GroupConsumer, KafkaAdmin, partitionKey, type PartitionOffset } from '../kafka/index.ts';
import type { DashboardFeed, HealthSnapshot, IncidentEvent } from './feed.ts';
import { recordLag, type PipelineMetrics } from './pipeline-metrics.ts';
import { DASHBOARD_TOPICS, TopicFeeder, topicRole } from './topic-feed.ts';

export interface KafkaFeedOptions {
  brokers: readonly string[];
  feed: DashboardFeed;
  metrics?: PipelineMetrics;
  /**
   * Incidents read from records written after the dashboard started (not the
   * history read back at start), e.g. for alert notifications.
   */
  onLiveIncident?: (event: IncidentEvent) => void;
  /** Records per partition read back from before the log end at start (default 2000). */
  history?: number;
  /** How often lag and rates are measured, ms. */
  healthIntervalMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface KafkaFeed {
  /** True once the consumer has joined and reads (for /readyz). */
  readonly ready: boolean;
  /** Resolves when the feed has stopped (after the signal aborts). */
  readonly done: Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Lag of every consumer group except our own throwaway ones: log end minus committed offset. */
async function measureLag(admin: KafkaAdmin): Promise<HealthSnapshot['lag']> {
  const groups = (await admin.listGroups()).map((g) => g.groupId).filter((g) => !g.startsWith('streamwatch-dashboard-') && !g.startsWith('streamwatch-reader-'));
  const lag: Array<{ group: string; topic: string; partition: number; lag: number }> = [];
  for (const group of groups) {
    const committed = await admin.committedOffsets(group);
    if (committed.length === 0) continue;
    const ends = await admin.listOffsets([...new Set(committed.map((c) => c.topic))], 'latest');
    for (const c of committed) lag.push({ group, topic: c.topic, partition: c.partition, lag: Math.max(0, (ends.get(partitionKey(c.topic, c.partition)) ?? c.offset) - c.offset) });
  }
  return lag;
}

export function startKafkaFeed(options: KafkaFeedOptions): KafkaFeed {
  const log = options.log ?? (() => {});
  // Incidents of the history read back at start are shown, not notified again.
  let live = false;
  const onLiveIncident = options.onLiveIncident;
  const feed: DashboardFeed = onLiveIncident === undefined
    ? options.feed
    : {
        metric: (s, i, f) => options.feed.metric(s, i, f),
        windowRow: (j, r) => options.feed.windowRow(j, r),
        goal: (d, r) => options.feed.goal(d, r),
        health: (h) => options.feed.health(h),
        incident: (e) => {
          options.feed.incident(e);
          if (live) onLiveIncident(e);
        },
      };
  const metrics = options.metrics;
  const feeder = new TopicFeeder(feed, metrics && ((job, late) => (late ? metrics.lateRecords : metrics.rejectedRecords).inc({ job })));
  /** Per partition, the log end when the dashboard first saw it: records from there on are live. */
  const liveFrom = new Map<string, number>();
  const config = { brokers: options.brokers };
  const history = options.history ?? 2000;
  const healthIntervalMs = options.healthIntervalMs ?? 5000;
  const state = { ready: false };
  const signal = options.signal;

  async function run(): Promise<void> {
    let failures = 0;
    while (!signal?.aborted) {
      let admin: KafkaAdmin | null = null;
      let consumer: GroupConsumer | null = null;
      try {
        admin = await KafkaAdmin.connect(config);
        const existing = new Set(await admin.listTopics());
        const topics = DASHBOARD_TOPICS.filter((t) => existing.has(t));
        if (topics.length === 0) {
          log('dashboard: none of the pipeline topics exist yet; looking again in 5 s');
          await admin.close();
          await sleep(5000, signal);
          continue;
        }
        const [earliest, latest] = [await admin.listOffsets(topics, 'earliest'), await admin.listOffsets(topics, 'latest')];
        for (const [key, end] of latest) if (!liveFrom.has(key)) liveFrom.set(key, end);
        const startOffsets: PartitionOffset[] = [...latest].map(([key, end]) => {
          const cut = key.lastIndexOf(':');
          return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset: Math.max(earliest.get(key) ?? 0, end - history) };
        });
        consumer = await GroupConsumer.start({ ...config, groupId: `streamwatch-dashboard-${randomUUID()}`, topics, startOffsets, fallback: 'latest', maxWaitMs: 250 });
        state.ready = true;
        failures = 0;
        log(`dashboard: reading ${topics.join(', ')}`);
        let nextHealth = Date.now() + healthIntervalMs;
        let known = topics.length;
        while (!signal?.aborted) {
          for (const record of await consumer.poll(500)) {
            live = record.offset >= (liveFrom.get(partitionKey(record.topic, record.partition)) ?? 0);
            feeder.record(record.topic, record.partition, record.value?.toString('utf8') ?? null);
            const role = topicRole(record.topic);
            if (role === 'input') metrics?.inputRecords.inc({ topic: record.topic });
            else if (role === 'output') metrics?.outputRecords.inc({ topic: record.topic });
          }
          if (Date.now() >= nextHealth) {
            nextHealth = Date.now() + healthIntervalMs;
            const lag = await measureLag(admin);
            if (options.metrics) recordLag(options.metrics, lag);
            feed.health(feeder.health(Date.now(), lag));
            // New pipeline topics appeared: rejoin with them.
            const now = new Set(await admin.listTopics());
            if (DASHBOARD_TOPICS.filter((t) => now.has(t)).length > known) {
              known = -1;
              break;
            }
          }
        }
        if (known === -1) log('dashboard: new pipeline topics appeared; reading them too');
      } catch (error) {
        state.ready = false;
        failures++;
        log(`dashboard: Kafka: ${(error as Error).message}; retrying`);
        await sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)), signal);
      } finally {
        state.ready = false;
        await consumer?.close().catch(() => {});
        await admin?.close().catch(() => {});
      }
    }
  }

  const done = run();
  return {
    get ready() {
      return state.ready;
    },
    done,
  };
}
