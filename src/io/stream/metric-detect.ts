// Streaming mode of the server-metrics detectors (`streamwatch detect
// cpu-mem|net-disk`): Kafka topics in, window rows and incidents out, on the
// same MetricStreamTask the tests compare with the batch jobs.
//
// Work is split like Kafka Streams splits it: partition p of both input
// topics is one task (the producer keys by server_id, so the two topics are
// co-partitioned), and the members of one consumer group share the tasks.
//
// Exactly-once outputs without Kafka transactions:
// - every second a task's whole state (open windows, watermark, incidents,
//   input offsets) is written as one record to the state topic, partition p,
//   after the outputs it has produced so far are acknowledged and the files
//   synced; the record also notes where the output partitions ended then;
// - group offsets are committed after the checkpoint (lag monitoring only);
// - a task that starts (after a crash, a restart or a rebalance) loads its
//   last checkpoint, skips input records it already reflects, and reads what
//   its output partitions received after the checkpoint: re-computed rows
//   already there are not produced again. Processing is deterministic (per
//   partition order is fixed, and the watermark is the minimum over the
//   task's partitions), so re-computed rows are the same rows.
// CSV files (`--out`, `--incidents`) are appended idempotently by row id.

import type { Incident } from '../../engine/incidents.ts';
import { formatUnits } from '../../engine/decimal.ts';
import { formatInstant, type TimeKind } from '../../engine/time.ts';
import { hostname } from 'node:os';
import { StreamwatchError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin, KafkaProducer, partitionKey, type ConsumedRecord, type TopicPartition } from '../../kafka/index.ts';
import { readRange } from '../../kafka/read-range.ts';
import type { WindowRow } from '../../jobs/metric-pair-detector.ts';
import { MetricStreamTask, type InputRecord, type TaskCheckpoint } from '../../jobs/metric-stream-task.ts';
import type { MetricPairJob, Thresholds } from '../../jobs/metric-pairs.ts';
import { csvLine } from '../csv/fields.ts';
import { INCIDENTS_HEADER } from '../metric-batch.ts';
import { IdempotentCsv } from './idempotent-csv.ts';

export interface MetricDetectOptions {
  job: MetricPairJob;
  brokers: readonly string[];
  group: string;
  thresholds: Thresholds;
  trimLeading: boolean;
  /** Allowed lateness, ms of event time. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
  /** Event-time ms without records after which a server is reported silent (Infinity: never). */
  silenceAfter?: number;
  /** Partitions of topics this command creates. */
  partitions: number;
  out?: string;
  incidents?: string;
  /** Exit after this many wall ms without input, having emitted every open window. */
  untilIdleMs?: number;
  checkpointIntervalMs?: number;
  rejectsTopic?: string;
  incidentsTopic?: string;
  /** Stops the worker cleanly (flush, checkpoint, commit). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /**
   * Identity of this worker across restarts (default: host, working directory
   * and output file): a task it held before a crash is taken back at once,
   * while a task another live worker still holds is waited for until that
   * worker releases it (or `handoffTimeoutMs` passes: it crashed).
   */
  owner?: string;
  handoffTimeoutMs?: number;
  /** Live consumers of the outputs (dashboard). */
  onRow?: (job: MetricPairJob, row: WindowRow, kind: TimeKind) => void;
  onIncident?: (incident: Incident, state: 'opened' | 'updated' | 'closed', kind: TimeKind) => void;
}

export interface MetricDetectSummary {
  read: number;
  rejected: number;
  late: number;
  rows: number;
  incidents: number;
  restores: number;
}

interface SavedState {
  task: TaskCheckpoint;
  /** Log end of the output partitions when the checkpoint was taken. */
  outputs: { rows: number; incidents: number };
  /** Which worker wrote it, and whether that worker let the task go (rebalance, clean stop). */
  owner: string;
  released: boolean;
}

interface RunningTask {
  task: MetricStreamTask;
  /** Ids of rows and incidents already in the output topics after the checkpoint. */
  producedRows: Set<string>;
  producedIncidents: Set<string>;
}

export async function runMetricDetect(options: MetricDetectOptions): Promise<MetricDetectSummary> {
  const { job, brokers, group } = options;
  const log = options.log ?? (() => {});
  const inputs = job.sides.map((s) => s.topic);
  const rowsTopic = job.outputTopic;
  const incidentsTopic = options.incidentsTopic ?? 'incidents';
  const rejectsTopic = options.rejectsTopic ?? 'streamwatch-rejects';
  const stateTopic = `streamwatch-state.${group}.${job.name}`;
  const config = { brokers };

  const admin = await KafkaAdmin.connect(config);
  let partitions: number;
  let outCounts: Map<string, number>;
  try {
    await admin.ensureTopics(inputs, options.partitions);
    const counts = await admin.partitionCounts(inputs);
    partitions = counts.get(inputs[0]!)!;
    if (counts.get(inputs[1]!) !== partitions) {
      throw new StreamwatchError('SW_ERR_KAFKA', `${inputs[0]} has ${partitions} partitions and ${inputs[1]} ${counts.get(inputs[1]!)}: the join needs the same number (co-partitioned topics)`);
    }
    await admin.ensureTopics([rowsTopic, incidentsTopic, rejectsTopic, stateTopic], partitions);
    outCounts = await admin.partitionCounts([rowsTopic, incidentsTopic, rejectsTopic, stateTopic]);
    if (outCounts.get(stateTopic)! < partitions) throw new StreamwatchError('SW_ERR_KAFKA', `${stateTopic} has fewer partitions than ${inputs[0]}`);
  } catch (error) {
    await admin.close();
    throw error;
  }
  const rowsPartition = (task: number) => task % outCounts.get(rowsTopic)!;
  const incidentsPartition = (task: number) => task % outCounts.get(incidentsTopic)!;

  const producer = await KafkaProducer.connect({ ...config, acks: 'all', lingerMs: 2 });
  const rowsFile = options.out ? await IdempotentCsv.open(options.out, ['server_id', 'window_start', 'window_end', ...job.columns, 'alert'].join(','), (f) => `${f[0]}|${f[1]}`) : null;
  const incidentsFile = options.incidents ? await IdempotentCsv.open(options.incidents, INCIDENTS_HEADER, (f) => `${f[0]}|${f[1]}|${f[2]}|${f[3]}`) : null;

  const tasks = new Map<number, RunningTask>();
  let assigned: number[] | null = null;
  let revoking = false;
  const owner = options.owner ?? `${hostname()}:${process.cwd()}:${options.out ?? ''}`;
  const handoffTimeout = options.handoffTimeoutMs ?? 10_000;
  const summary: MetricDetectSummary = { read: 0, rejected: 0, late: 0, rows: 0, incidents: 0, restores: 0 };

  const consumer = await GroupConsumer.start({
    ...config,
    groupId: group,
    topics: inputs,
    fallback: 'earliest',
    copartitioned: true,
    onAssign: (tps: TopicPartition[]) => {
      assigned = [...new Set(tps.map((tp) => tp.partition))].sort((a, b) => a - b);
    },
    onRebalance: () => {
      if (!revoking) log('rebalance: pausing to hand tasks over');
      revoking = true;
    },
  });

  const makeTask = (p: number): RunningTask => {
    const running: RunningTask = { task: null as unknown as MetricStreamTask, producedRows: new Set(), producedIncidents: new Set() };
    running.task = new MetricStreamTask(job, p, {
      thresholds: options.thresholds,
      trimLeading: options.trimLeading,
      lateness: options.lateness,
      idleTimeout: options.idleTimeout,
      silenceAfter: options.silenceAfter,
    }, {
      row: (row, kind) => {
        const start = formatInstant(row.start, kind);
        const fields = [row.key, start, formatInstant(row.end, kind), formatUnits(row.value0, job.digits), formatUnits(row.value1, job.digits), row.alert];
        const id = `${row.key}|${start}`;
        if (!running.producedRows.has(id)) {
          const value = `{"server_id":${JSON.stringify(row.key)},"window_start":"${fields[1]}","window_end":"${fields[2]}","${job.columns[0]}":${fields[3]},"${job.columns[1]}":${fields[4]},"alert":${JSON.stringify(row.alert)}}`;
          producer.send(rowsTopic, row.key, value, rowsPartition(p));
        }
        rowsFile?.append(fields, csvLine(fields));
        summary.rows++;
        options.onRow?.(job, row, kind);
      },
      incident: (incident, state, kind) => {
        options.onIncident?.(incident, state, kind);
        if (state === 'updated') return;
        const fields = [incident.detector, incident.key, incident.alert, formatInstant(incident.start, kind), formatInstant(incident.end, kind), String(incident.windows), formatUnits(incident.peakUnits, incident.peakScale)];
        const id = `${fields.slice(0, 4).join('|')}|${state}`;
        if (!running.producedIncidents.has(id)) {
          const value = JSON.stringify({ detector: fields[0], key: fields[1], alert: fields[2], start: fields[3], end: fields[4], windows: incident.windows, peak: Number(fields[6]), state });
          producer.send(incidentsTopic, incident.key, value, incidentsPartition(p));
        }
        if (state === 'closed') {
          incidentsFile?.append(fields, csvLine(fields));
          summary.incidents++;
        }
      },
      reject: (record, reason) => {
        producer.send(rejectsTopic, null, JSON.stringify({ source: `${record.topic}:${record.partition}`, topic: record.topic, partition: record.partition, offset: record.offset, reason, value: record.value }));
      },
    });
    return running;
  };

  /** The latest checkpoint of task p, or null. */
  const loadCheckpoint = async (p: number): Promise<SavedState | null> => {
    const ends = await admin.listOffsets([stateTopic], 'latest');
    const end = ends.get(partitionKey(stateTopic, p)) ?? 0;
    if (end === 0) return null;
    const [record] = await readRange(config, stateTopic, p, end - 1, end);
    if (!record?.value) return null;
    try {
      return JSON.parse(record.value.toString('utf8')) as SavedState;
    } catch (error) {
      throw new StreamwatchError('SW_ERR_STATE', `checkpoint of task ${p} in ${stateTopic} is not readable`, { cause: error });
    }
  };

  /** Loads task p's checkpoint, once its previous owner let it go, and what its outputs received since. */
  const restore = async (p: number): Promise<RunningTask> => {
    const running = makeTask(p);
    running.task.start(Date.now());
    let saved = await loadCheckpoint(p);
    const deadline = Date.now() + handoffTimeout;
    while (saved !== null && !saved.released && saved.owner !== owner && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      saved = await loadCheckpoint(p);
    }
    if (saved === null) return running;
    if (!saved.released && saved.owner !== owner) log(`task ${p}: previous owner ${saved.owner} did not release it within ${handoffTimeout} ms; taking it over`);
    running.task.restore(saved.task, Date.now());
    running.task.start(Date.now());
    summary.restores++;
    const outEnds = await admin.listOffsets([rowsTopic, incidentsTopic], 'latest');
    for (const r of await readRange(config, rowsTopic, rowsPartition(p), saved.outputs.rows, outEnds.get(partitionKey(rowsTopic, rowsPartition(p))) ?? 0)) {
      const value = JSON.parse(r.value?.toString('utf8') ?? '{}') as { server_id?: string; window_start?: string };
      running.producedRows.add(`${value.server_id}|${value.window_start}`);
    }
    for (const r of await readRange(config, incidentsTopic, incidentsPartition(p), saved.outputs.incidents, outEnds.get(partitionKey(incidentsTopic, incidentsPartition(p))) ?? 0)) {
      const v = JSON.parse(r.value?.toString('utf8') ?? '{}') as { detector?: string; key?: string; alert?: string; start?: string; state?: string };
      running.producedIncidents.add(`${v.detector}|${v.key}|${v.alert}|${v.start}|${v.state}`);
    }
    log(`task ${p}: resumed from checkpoint (offsets ${JSON.stringify(saved.task.offsets)}, ${running.producedRows.size} rows already produced since)`);
    return running;
  };

  /** Makes every output so far durable, then records each task's state, then commits offsets. */
  const checkpoint = async (released = false): Promise<void> => {
    await producer.flush();
    await rowsFile?.sync();
    await incidentsFile?.sync();
    if (tasks.size === 0) return;
    const ends = await admin.listOffsets([rowsTopic, incidentsTopic, ...inputs], 'latest');
    // Only a partition read to its end may count as idle for the watermark.
    for (const [p, running] of tasks) for (const topic of inputs) running.task.setLogEnd(topic, ends.get(partitionKey(topic, p)) ?? 0);
    for (const [p, running] of tasks) {
      const saved: SavedState = {
        task: running.task.checkpoint(),
        outputs: { rows: ends.get(partitionKey(rowsTopic, rowsPartition(p))) ?? 0, incidents: ends.get(partitionKey(incidentsTopic, incidentsPartition(p))) ?? 0 },
        owner,
        released,
      };
      producer.send(stateTopic, `${job.name}/${p}`, JSON.stringify(saved), p);
    }
    await producer.flush();
    const offsets = [...tasks.values()].flatMap((r) => [...r.task.offsets].map(([topic, offset]) => ({ topic, partition: r.task.task, offset })));
    try {
      await consumer.commit(offsets);
    } catch (error) {
      // A rebalance in progress: the checkpoint is what counts; the commit only serves `lag`.
      log(`offset commit skipped: ${(error as Error).message}`);
    }
  };

  const interval = options.checkpointIntervalMs ?? 1000;
  let lastCheckpoint = Date.now();
  let lastInput = Date.now();
  let released = false;
  let joined = false;
  let revokingSince = 0;
  // Records that came while a rebalance was under way: processed once the
  // new assignment is known, if their task stays here (the consumer's
  // position has moved past them, so dropping them would lose them).
  let held: ConsumedRecord[] = [];
  try {
    for (;;) {
      const batch: ConsumedRecord[] = await consumer.poll(200);
      if (revoking && !released) {
        // Tasks may move: write them down, released, before the new owner loads them.
        await checkpoint(true);
        released = true;
        revokingSince = Date.now();
        lastCheckpoint = revokingSince;
      }
      if (assigned !== null) {
        const wanted: number[] = assigned;
        assigned = null;
        if (!released) await checkpoint(true);
        for (const p of [...tasks.keys()]) if (!wanted.includes(p)) tasks.delete(p);
        for (const p of wanted) if (!tasks.has(p)) tasks.set(p, await restore(p));
        log(`tasks: ${wanted.join(', ') || 'none'}`);
        joined = true;
        // New tasks may come with a backlog: idleness counts from here.
        lastInput = Date.now();
        revoking = false;
        released = false;
      } else if (revoking && Date.now() - revokingSince > 60_000) {
        revoking = false;
        released = false;
      }
      if (revoking) {
        held.push(...batch);
        continue;
      }
      const records = held.length > 0 ? [...held, ...batch] : batch;
      held = [];
      const now = Date.now();
      if (records.length > 0) lastInput = now;
      for (const record of records) {
        const running = tasks.get(record.partition);
        if (running === undefined) continue;
        const resume = running.task.resumeOffset(record.topic);
        if (resume !== undefined && record.offset < resume) continue;
        const input: InputRecord = { topic: record.topic, partition: record.partition, offset: record.offset, value: record.value?.toString('utf8') ?? '' };
        running.task.process(input, now);
      }
      for (const running of tasks.values()) running.task.tick(now);
      const stopping = options.signal?.aborted === true;
      const idle = options.untilIdleMs !== undefined && joined && now - lastInput >= options.untilIdleMs;
      if (idle) {
        for (const running of tasks.values()) running.task.finish();
      }
      if (stopping || idle || now - lastCheckpoint >= interval) {
        await checkpoint(stopping || idle);
        lastCheckpoint = Date.now();
      }
      if (stopping || idle) break;
    }
  } finally {
    for (const running of tasks.values()) {
      summary.read += running.task.counters.read;
      summary.rejected += running.task.counters.rejected;
      summary.late += running.task.counters.late;
    }
    await consumer.close();
    await producer.close().catch(() => {});
    await rowsFile?.close();
    await incidentsFile?.close();
    await admin.close();
  }
  return summary;
}
