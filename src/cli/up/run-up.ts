// `streamwatch up`: every part of the system in one process, wired together.
//
//   embedded broker (unless --brokers)  ─┐
//   dataset replay / live collector ─────┼─> topics ─> detectors ─> topics + out/*.csv
//   log generators (nginx, lb) ──────────┘        └──> PostgreSQL sink (embedded PGlite)
//                                                 └──> dashboard (reads the topics)
//
// Each part is the same code its own command runs; here they share one
// AbortSignal. Ctrl+C aborts it: producers flush, detectors checkpoint and
// release their tasks, the sink writes its last batch and commits, then the
// dashboard and the broker close. Started again with the same data dir,
// every part resumes from what the broker and the database hold: detectors
// from their checkpoints, the sink and the dashboard from their offsets, and
// the replay from the number of rows the input topics already hold.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { startBroker } from '../../broker/server.ts';
import { StreamwatchError, UsageError } from '../../errors.ts';
import { openDatabase } from '../../io/sql/open.ts';
import { parseTopicSpecs } from '../../io/sql/records.ts';
import { PostgresSink } from '../../io/sql/sink.ts';
import { hostname } from 'node:os';
import { runCollector } from '../../io/collect/collector.ts';
import { serverIdFromHostname } from '../../io/collect/sample.ts';
import { produceGeneratedLogs, type LogKind } from '../../io/produce/log-lines.ts';
import { replayMetrics } from '../../io/produce/metrics-replay.ts';
import { runLbDetect, runNginxDetect } from '../../io/stream/log-detect.ts';
import { runMetricDetect } from '../../io/stream/metric-detect.ts';
import { defaultThresholds, METRIC_PAIR_JOBS, type MetricPairJob } from '../../jobs/metric-pairs.ts';
import { GroupConsumer, KafkaAdmin } from '../../kafka/index.ts';
import { startDashboardApp } from '../../web/app.ts';
import { startKafkaFeed, type KafkaFeed } from '../../web/kafka-feed.ts';
import { databaseSearch } from '../../web/log-search.ts';
import { brokerRequestHook, createPipelineMetrics } from '../../web/pipeline-metrics.ts';
import { ensureSampleDataset } from './sample.ts';
import { sortIncidents, sortWindowRows } from './sorted-csv.ts';

export interface UpOptions {
  /** Metrics CSV to replay; undefined: the bundled sample (or nothing with `live`). */
  dataset?: string;
  /** Collect this host's metrics instead of replaying a dataset. */
  live: boolean;
  /** A Kafka cluster to use; undefined starts the embedded broker. */
  brokers?: readonly string[];
  brokerHost: string;
  brokerPort: number;
  dashboardHost: string;
  dashboardPort: number;
  token?: string;
  dataDir: string;
  outDir: string;
  /** PostgreSQL server for the sink (default env DATABASE_URL, else the embedded PGlite under the data dir). */
  databaseUrl?: string;
  /** Replay pace (1 = the data's own, 0 = as fast as possible). */
  speed: number;
  partitions: number;
  trimLeading: boolean;
  /** NGINX and load-balancer events per second of the built-in log generators (0: off). */
  logRate: number;
  webhooks: readonly string[];
  /** Stop once every input has been read and nothing new came for this long (tests, scripts). */
  untilIdleMs?: number;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Told once everything is up: where to find it. */
  onReady?: (where: UpAddresses) => void;
}

export interface UpAddresses {
  brokers: string;
  dashboard: string;
  outDir: string;
  dataDir: string;
  database: string;
}

export interface UpSummary {
  /** Dataset rows published by this run (a resumed run counts only its own). */
  replayed: number;
  /** Live samples published (--live). */
  collected: number;
  /** Generated NGINX and LB events published. */
  logEvents: number;
  /** Rows emitted per detector. */
  rows: Record<string, number>;
  incidents: number;
  sinkRecords: number;
}

/** Prefix of the consumer groups of `up`'s detectors and sink; state topics and offsets are named after them. */
export const UP_GROUP = 'streamwatch-up';

const SINK_TOPICS = 'topic-cpu,topic-mem,topic-net,topic-disk,nginx-logs,alerts-cpu-mem,alerts-net-disk,goal1-topic,goal2-topic,goal3-topic,goal4-topic,incidents';

/** What the data dir was started with: a dataset replay and a live collector must not share topics (times of day and instants cannot mix). */
interface UpState {
  mode: 'dataset' | 'live';
  dataset: string | null;
}

async function checkMode(dataDir: string, wanted: UpState): Promise<void> {
  const path = join(dataDir, 'up.json');
  let saved: UpState | null = null;
  try {
    saved = JSON.parse(await readFile(path, 'utf8')) as UpState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new StreamwatchError('SW_ERR_STATE', `${path} is not readable: ${(error as Error).message}`);
  }
  if (saved === null) {
    await writeFile(path, `${JSON.stringify(wanted)}\n`);
    return;
  }
  if (saved.mode !== wanted.mode || saved.dataset !== wanted.dataset) {
    const was = saved.mode === 'live' ? '--live' : saved.dataset === null ? 'the sample dataset' : `--dataset ${saved.dataset}`;
    const now = wanted.mode === 'live' ? '--live' : wanted.dataset === null ? 'the sample dataset' : `--dataset ${wanted.dataset}`;
    throw new UsageError(`data dir ${dataDir} was started with ${was}, not ${now}: give another --data-dir (or delete ${dataDir} to start over)`);
  }
}

export async function runUp(options: UpOptions): Promise<UpSummary> {
  const { log } = options;
  // Ctrl+C, or one part failing: every part stops, and `up` reports what failed.
  const failed = new AbortController();
  const signal = AbortSignal.any([options.signal, failed.signal]);
  const dataDir = resolve(options.dataDir);
  const outDir = resolve(options.outDir);
  await mkdir(dataDir, { recursive: true });
  await mkdir(outDir, { recursive: true });
  const dataset = options.live ? null : options.dataset === undefined ? null : resolve(options.dataset);
  await checkMode(dataDir, { mode: options.live ? 'live' : 'dataset', dataset });

  const closers: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch((error: unknown) => log(`while stopping: ${(error as Error).message}`));
  };
  const summary: UpSummary = { replayed: 0, collected: 0, logEvents: 0, rows: {}, incidents: 0, sinkRecords: 0 };
  try {
    // The metrics registry exists first, so the broker can report into it.
    const metrics = createPipelineMetrics();
    let brokers: readonly string[];
    if (options.brokers === undefined) {
      const broker = await startBroker({
        host: options.brokerHost,
        port: options.brokerPort,
        dataDir: join(dataDir, 'broker'),
        defaultPartitions: options.partitions,
        log: (line) => log(`broker: ${line}`),
        onRequest: brokerRequestHook(metrics),
      });
      closers.push(() => broker.close());
      brokers = [broker.address];
    } else {
      brokers = options.brokers;
    }
    const config = { brokers };

    const admin = await KafkaAdmin.connect(config);
    try {
      // Every topic a part reads is there before any part starts (the sink reads the detectors' outputs).
      await admin.ensureTopics([...new Set([...parseTopicSpecs(SINK_TOPICS).map((t) => t.topic), 'lb-logs', 'lb-summary', 'streamwatch-rejects'])], options.partitions);
    } finally {
      await admin.close();
    }

    const db = await openDatabase({ dataDir, url: options.databaseUrl });
    closers.push(() => db.close());

    let kafka: KafkaFeed | null = null;
    const dashboard = await startDashboardApp({
      host: options.dashboardHost,
      port: options.dashboardPort,
      ...(options.token ? { token: options.token } : {}),
      webhooks: options.webhooks,
      metrics,
      search: databaseSearch(db),
      ready: () => kafka?.ready === true,
      log,
    });
    closers.push(() => dashboard.close(2000));

    const feedAbort = new AbortController();
    const notifier = dashboard.notifier;
    kafka = startKafkaFeed({
      brokers,
      feed: dashboard.display,
      metrics: dashboard.metrics,
      log: (line) => log(line),
      signal: feedAbort.signal,
      ...(notifier ? { onLiveIncident: (event) => notifier.notify(event) } : {}),
    });
    const feed = kafka;
    closers.push(async () => {
      feedAbort.abort();
      await feed.done;
    });

    const where: UpAddresses = {
      brokers: brokers.join(','),
      dashboard: dashboard.url,
      outDir,
      dataDir,
      database: db.location,
    };
    options.onReady?.(where);

    // What to replay, and from where, is settled before any part starts.
    const replay = { path: '', skipRows: 0 };
    if (!options.live) {
      replay.path = dataset ?? (await ensureSampleDataset(dataDir));
      replay.skipRows = await rowsAlreadyPublished(brokers);
      if (replay.skipRows > 0) log(`replay: resuming after the ${replay.skipRows} rows the topics already hold`);
    }

    const untilIdle = options.untilIdleMs !== undefined ? { untilIdleMs: options.untilIdleMs } : {};
    const emitLatency = (job: string) => (seconds: number): void => metrics.windowEmitLatency.observe({ job }, seconds);
    const detect = (job: MetricPairJob, out: string, incidents: string): Promise<void> => runMetricDetect({
      job,
      brokers,
      // One group per detector: members of one group should subscribe to the same topics.
      group: `${UP_GROUP}-${job.name}`,
      thresholds: defaultThresholds(job),
      trimLeading: options.trimLeading,
      lateness: 10_000,
      idleTimeout: 5_000,
      // A replayed dataset ends: its servers are not silent then. A live fleet's are.
      silenceAfter: options.live ? 60_000 : Number.POSITIVE_INFINITY,
      partitions: options.partitions,
      out: join(outDir, out),
      incidents: join(outDir, incidents),
      ...untilIdle,
      signal,
      log: (line) => log(`detect ${job.name}: ${line}`),
      onEmitLatency: emitLatency(job.name),
    }).then((result) => {
      summary.rows[job.name] = result.rows;
      summary.incidents += result.incidents;
    });

    const runs: Array<Promise<unknown>> = [];
    let firstError: unknown = null;
    /** Starts watching a part at once: the first one to fail stops all the others. */
    const track = (run: Promise<unknown>): void => {
      runs.push(run);
      run.catch((error: unknown) => {
        if (firstError !== null) return;
        firstError = error;
        log(`stopping everything: ${(error as Error)?.message ?? String(error)}`);
        failed.abort();
      });
    };
    for (const run of [
      detect(METRIC_PAIR_JOBS['cpu-mem'], 'CPU_MEM.csv', 'incidents-cpu-mem.csv'),
      detect(METRIC_PAIR_JOBS['net-disk'], 'NET_DISK.csv', 'incidents-net-disk.csv'),
      runNginxDetect({
        brokers,
        group: `${UP_GROUP}-nginx`,
        partitions: options.partitions,
        lateness: 10_000,
        idleTimeout: 5_000,
        outDir: join(outDir, 'nginx'),
        incidents: join(outDir, 'incidents-nginx.csv'),
        ...untilIdle,
        signal,
        log: (line) => log(`detect nginx: ${line}`),
        onEmitLatency: emitLatency('nginx'),
      }).then((result) => {
        for (const [goal, rows] of Object.entries(result.rows)) summary.rows[goal] = rows;
        summary.incidents += result.incidents;
      }),
      runLbDetect({
        brokers,
        group: `${UP_GROUP}-lb-summary`,
        partitions: options.partitions,
        lateness: 10 * 60_000,
        idleTimeout: 5_000,
        out: join(outDir, 'LB_SUMMARY.csv'),
        ...untilIdle,
        signal,
        log: (line) => log(`detect lb-summary: ${line}`),
        onEmitLatency: emitLatency('lb-summary'),
      }).then((result) => {
        summary.rows['lb-summary'] = result.rows;
      }),
    ]) track(run);

    const sinkRun = (async () => {
      const topics = parseTopicSpecs(SINK_TOPICS);
      const consumer = await GroupConsumer.start({ brokers, groupId: `${UP_GROUP}-sink`, topics: topics.map((t) => t.topic), maxBuffered: 2000 });
      try {
        const sink = new PostgresSink(db, consumer, topics, {
          batchSize: 1000,
          flushIntervalMs: 1000,
          ...untilIdle,
          signal,
          log: (line) => log(`sink: ${line}`),
        });
        const totals = await sink.run();
        summary.sinkRecords = totals.records;
      } finally {
        await consumer.close();
      }
    })();

    track(sinkRun);

    // The input: a dataset replayed once, or this host's metrics until stopped.
    // With --until-idle the log generators stop with the replay, so every input goes quiet.
    const inputDone = new AbortController();
    const inputSignal = AbortSignal.any([signal, inputDone.signal]);
    if (options.live) {
      track(runCollector({
        brokers,
        intervalMs: 1000,
        serverId: serverIdFromHostname(hostname()),
        partitions: options.partitions,
        signal,
        log: (line) => log(`collect: ${line}`),
      }).then((result) => {
        summary.collected = result.samples;
      }));
    } else {
      track(replayMetrics({
        brokers,
        file: replay.path,
        speed: options.speed,
        skipRows: replay.skipRows,
        partitions: options.partitions,
        signal,
        log: (line) => log(`replay: ${line}`),
      }).then((result) => {
        summary.replayed = result.rows;
        if (!result.interrupted) log(`replay: the dataset is done (${result.rows} rows published, ${result.rejected} rejected); the detectors go on${options.untilIdleMs === undefined ? ' until Ctrl+C' : ''}`);
        if (options.untilIdleMs !== undefined) inputDone.abort();
      }));
    }
    if (options.logRate > 0) {
      for (const kind of ['nginx', 'lb'] as LogKind[]) {
        track(produceGeneratedLogs({
          kind,
          brokers,
          rate: options.logRate,
          partitions: options.partitions,
          signal: options.live ? signal : inputSignal,
          log: (line) => log(`generate ${kind}: ${line}`),
        }).then((result) => {
          summary.logEvents += result.acknowledged;
        }));
      }
    }

    await Promise.allSettled(runs);
    if (firstError !== null) throw firstError;

    // Batch order, so the files diff cleanly against `streamwatch job`.
    for (const name of ['CPU_MEM.csv', 'NET_DISK.csv']) await sortWindowRows(join(outDir, name));
    for (const name of ['incidents-cpu-mem.csv', 'incidents-net-disk.csv', 'incidents-nginx.csv']) await sortIncidents(join(outDir, name));
    return summary;
  } finally {
    await closeAll();
  }
}

/**
 * Dataset rows already in the metric topics: each valid row is one message
 * on each of the four, so the least full topic says how many rows a
 * previous run got acknowledged (a row cut short by a crash is sent again:
 * a duplicate record of a server and instant replaces the first, harmlessly).
 */
async function rowsAlreadyPublished(brokers: readonly string[]): Promise<number> {
  const topics = ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk'];
  const admin = await KafkaAdmin.connect({ brokers });
  try {
    const ends = await admin.listOffsets(topics, 'latest');
    const totals = new Map<string, number>(topics.map((t) => [t, 0]));
    for (const [key, end] of ends) {
      const topic = key.slice(0, key.lastIndexOf(':'));
      totals.set(topic, (totals.get(topic) ?? 0) + end);
    }
    return Math.min(...totals.values());
  } finally {
    await admin.close();
  }
}
