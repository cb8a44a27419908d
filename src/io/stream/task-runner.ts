// The streaming runner every `streamwatch detect ...` job runs on: Kafka
// topics in, records to output topics (and files) out, exactly once, on
// tasks the job defines (src/jobs/stream-task.ts).
//
// Work is split like Kafka Streams splits it: partition p of every input
// topic is one task (the producers key records, so the inputs are
// co-partitioned), and the members of one consumer group share the tasks.
// A job whose result spans every partition (a global aggregate such as
// lb-summary) runs as one task over all of them instead, held by one member.
//
// Exactly-once outputs without Kafka transactions:
// - every second a task's whole state (open windows, watermark, incidents,
//   input offsets) is written as one record to the state topic, partition p,
//   after the outputs it has produced so far are acknowledged and the files
//   synced; the record also notes where the output partitions ended then;
// - group offsets are committed after the checkpoint (lag monitoring only);
// - a task that starts (after a crash, a restart or a rebalance) loads its
//   last checkpoint, skips input records it already reflects, and reads what
//   its output partitions received after the checkpoint: re-computed records
//   already there are not produced again. Processing is deterministic (per
//   partition order is fixed, and the watermark is the minimum over the
//   task's partitions), so re-computed records are the same records.
// - on a rebalance a worker checkpoints its tasks as *released* before it
//   lets them go; the new owner waits for that (or for a timeout: the owner
//   crashed). Records that arrive while the rebalance is under way are held
//   and processed once the new assignment is known.
// Files are the job's: it appends to them idempotently by row id; the runner
// syncs them before each checkpoint and lets them refresh after each batch.

import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { StreamwatchError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin, KafkaProducer, partitionKey, type ConsumedRecord, type TopicPartition } from '../../kafka/index.ts';
import { readRange } from '../../kafka/read-range.ts';
import type { InputRecord, StreamTask } from '../../jobs/stream-task.ts';

/** Where a task's outputs go. */
export interface TaskSink {
  /**
   * Produces a record to output `topic` (on the task's partition of it)
   * unless that partition already holds a record with this `id` (a record
   * re-computed after a restore). `row` marks a window row, whose emit
   * latency is reported.
   */
  send(topic: string, key: string | null, value: string, id: string, row: boolean): void;
  /** Sends an invalid or late input record to the dead-letter topic with its reason. */
  reject(record: InputRecord, reason: string): void;
}

/** A file the job writes: refreshed after each batch of input, synced before each checkpoint. */
export interface OutputFile {
  refresh?(): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** What the runner needs to know of a job. */
export interface StreamJob<C> {
  /** Names the state topic (`streamwatch-state.<group>.<name>`) and its records. */
  name: string;
  inputs: readonly string[];
  /** One task over every partition of the inputs (a global aggregate), instead of one per partition number. */
  singleTask?: boolean;
  /** Output topics whose records are exactly once; `name` labels the topic's log end in checkpoints. */
  outputs: ReadonlyArray<{ name: string; topic: string }>;
  /** The id of a record read back from an output topic: what the task passed to `send` with it. */
  outputId(topic: string, value: string): string;
  /** Task `task`, reading input `partitions` (its own number, or all for a single task), writing to `sink`. */
  createTask(task: number, sink: TaskSink, partitions: readonly number[]): StreamTask<C>;
  files?: readonly OutputFile[];
  /** Part of this worker's default identity (the output path, say). */
  ownerHint?: string;
}

export interface TaskRunnerOptions {
  brokers: readonly string[];
  group: string;
  /** Partitions of topics this command creates. */
  partitions: number;
  /** Exit after this many wall ms without input, having emitted every open window. */
  untilIdleMs?: number;
  checkpointIntervalMs?: number;
  rejectsTopic?: string;
  /** Stops the worker cleanly (flush, checkpoint, commit). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /**
   * Identity of this worker across restarts (default: host, working directory
   * and the job's hint): a task it held before a crash is taken back at once,
   * while a task another live worker still holds is waited for until that
   * worker releases it (or `handoffTimeoutMs` passes: it crashed).
   */
  owner?: string;
  handoffTimeoutMs?: number;
  /**
   * Called per window row produced, with the seconds from when its task
   * emitted it (the watermark passed the window's end) to when the broker
   * acknowledged it. Acknowledgement is read from the producer's count of
   * acknowledged records (responses come in order on a broker's connection),
   * checked every millisecond while rows wait and the event loop is free,
   * so a figure is late by at most that check and whatever work held the
   * event loop.
   */
  onEmitLatency?: (seconds: number) => void;
}

export interface TaskRunnerSummary {
  read: number;
  rejected: number;
  late: number;
  restores: number;
  /** Wall ms (epoch) when the first batch of input records came and when the last one was processed; null when none came. */
  firstInputAt: number | null;
  lastInputAt: number | null;
}

interface SavedState<C> {
  task: C;
  /** Log end of the output partitions when the checkpoint was taken, by output name. */
  outputs: Record<string, number>;
  /** Which worker wrote it, and whether that worker let the task go (rebalance, clean stop). */
  owner: string;
  released: boolean;
}

interface RunningTask<C> {
  task: StreamTask<C>;
  /** Ids of the records already in each output topic after the checkpoint. */
  produced: Map<string, Set<string>>;
}

export async function runStreamTasks<C>(job: StreamJob<C>, options: TaskRunnerOptions): Promise<TaskRunnerSummary> {
  const { brokers, group } = options;
  const log = options.log ?? (() => {});
  const inputs = job.inputs;
  const outputTopics = job.outputs.map((o) => o.topic);
  const rejectsTopic = options.rejectsTopic ?? 'streamwatch-rejects';
  const stateTopic = `streamwatch-state.${group}.${job.name}`;
  const config = { brokers };

  const files = job.files ?? [];
  let admin: KafkaAdmin;
  try {
    admin = await KafkaAdmin.connect(config);
  } catch (error) {
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }
  let partitions: number;
  let outCounts: Map<string, number>;
  try {
    await admin.ensureTopics(inputs, options.partitions);
    const counts = await admin.partitionCounts(inputs);
    partitions = counts.get(inputs[0]!)!;
    for (const topic of inputs.slice(1)) {
      if (counts.get(topic) !== partitions) {
        throw new StreamwatchError('SW_ERR_KAFKA', `${inputs[0]} has ${partitions} partitions and ${topic} ${counts.get(topic)}: the join needs the same number (co-partitioned topics)`);
      }
    }
    const created = [...new Set([...outputTopics, rejectsTopic, stateTopic])];
    await admin.ensureTopics(created, partitions);
    outCounts = await admin.partitionCounts(created);
    if (!job.singleTask && outCounts.get(stateTopic)! < partitions) throw new StreamwatchError('SW_ERR_KAFKA', `${stateTopic} has fewer partitions than ${inputs[0]}`);
  } catch (error) {
    await admin.close();
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }
  const outputPartition = (topic: string, task: number) => task % outCounts.get(topic)!;
  /** Input partitions a task reads. */
  const taskPartitions = (task: number): number[] => (job.singleTask ? Array.from({ length: partitions }, (_, p) => p) : [task]);

  let producer: KafkaProducer;
  try {
    producer = await KafkaProducer.connect({ ...config, acks: 'all', lingerMs: 2 });
  } catch (error) {
    await admin.close();
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }
  try {
    // The direct path: records encoded into batches as they come (the generic send cost a quarter
    // of the detector's CPU). It does not retry: a failed request fails the worker, and a restart
    // resumes from the checkpoint without duplicating outputs.
    await producer.useTopics([...outCounts.keys()]);
  } catch (error) {
    await producer.close().catch(() => {});
    await admin.close();
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }

  const tasks = new Map<number, RunningTask<C>>();
  /** A single-task job whose task another member runs. */
  let standingBy = false;
  let assigned: number[] | null = null;
  let splitGroup: StreamwatchError | null = null;
  let revoking = false;
  const owner = options.owner ?? `${hostname()}:${process.cwd()}:${job.ownerHint ?? ''}`;
  const handoffTimeout = options.handoffTimeoutMs ?? 10_000;
  const summary: TaskRunnerSummary = { read: 0, rejected: 0, late: 0, restores: 0, firstInputAt: null, lastInputAt: null };
  const onEmitLatency = options.onEmitLatency;
  // Emit latency: the producer's sequence number and emission time of each
  // row not yet acknowledged, in send order, from index `waitingFrom` on.
  let sent = 0;
  let waitingSeq: number[] = [];
  let waitingAt: number[] = [];
  let waitingFrom = 0;
  let ackTimer: NodeJS.Timeout | null = null;
  const checkAcknowledged = (): void => {
    ackTimer = null;
    const acknowledged = producer.acknowledged;
    const now = performance.now();
    let i = waitingFrom;
    while (i < waitingSeq.length && waitingSeq[i]! <= acknowledged) onEmitLatency!((now - waitingAt[i++]!) / 1000);
    if (i === waitingSeq.length) {
      waitingSeq = [];
      waitingAt = [];
      waitingFrom = 0;
    } else {
      waitingFrom = i;
      ackTimer = setTimeout(checkAcknowledged, 1);
    }
  };
  /** Every record this worker produces goes through here, so `sent` numbers them as the producer counts acknowledgements. */
  const send = (topic: string, key: string | null, value: string, partition?: number): void => {
    sent++;
    producer.send(topic, key, value, partition);
  };

  let consumer: GroupConsumer;
  try {
    consumer = await GroupConsumer.start({
      ...config,
      groupId: group,
      topics: inputs,
      fallback: 'earliest',
      ...(job.singleTask ? { singleMember: true } : { copartitioned: true }),
      onAssign: (tps: TopicPartition[]) => {
        const held = [...new Set(tps.map((tp) => tp.partition))].sort((a, b) => a - b);
        if (!job.singleTask) {
          assigned = held;
        } else if (tps.length === partitions * inputs.length) {
          standingBy = false;
          assigned = [0];
        } else if (tps.length === 0) {
          // Another member runs the task (the group gives every partition to one member): stand by.
          if (!standingBy) log(`standing by: another worker of group ${group} runs the task; this one takes over if it leaves`);
          standingBy = true;
          assigned = [];
        } else {
          // Another live member holds the rest. Waiting would be wrong: the
          // consumer's position moves past records no task takes, and they
          // would be missing when the task comes back. Stop instead (each
          // member does); the task's last checkpoint is where a worker resumes.
          splitGroup = new StreamwatchError('SW_ERR_KAFKA', `${job.name} reads every partition of ${inputs.join(', ')} as one task, and another member of group ${group} holds ${partitions * inputs.length - tps.length} of them: run one worker per group`);
          assigned = [];
        }
      },
      onRebalance: () => {
        if (!revoking) log('rebalance: pausing to hand tasks over');
        revoking = true;
      },
    });
  } catch (error) {
    await producer.close().catch(() => {});
    await admin.close();
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }

  const makeTask = (p: number): RunningTask<C> => {
    const produced = new Map<string, Set<string>>(outputTopics.map((topic) => [topic, new Set<string>()]));
    const sink: TaskSink = {
      send: (topic, key, value, id, row) => {
        if (produced.get(topic)!.has(id)) return;
        send(topic, key, value, outputPartition(topic, p));
        if (row && onEmitLatency !== undefined) {
          waitingSeq.push(sent);
          waitingAt.push(performance.now());
          ackTimer ??= setTimeout(checkAcknowledged, 1);
        }
      },
      reject: (record, reason) => {
        send(rejectsTopic, null, JSON.stringify({ source: `${record.topic}:${record.partition}`, topic: record.topic, partition: record.partition, offset: record.offset, reason, value: record.value }));
      },
    };
    return { task: job.createTask(p, sink, taskPartitions(p)), produced };
  };

  /** The latest checkpoint of task p, or null. */
  const loadCheckpoint = async (p: number): Promise<SavedState<C> | null> => {
    const ends = await admin.listOffsets([stateTopic], 'latest');
    const end = ends.get(partitionKey(stateTopic, p)) ?? 0;
    if (end === 0) return null;
    const [record] = await readRange(config, stateTopic, p, end - 1, end);
    if (!record?.value) return null;
    try {
      return JSON.parse(record.value.toString('utf8')) as SavedState<C>;
    } catch (error) {
      throw new StreamwatchError('SW_ERR_STATE', `checkpoint of task ${p} in ${stateTopic} is not readable`, { cause: error });
    }
  };

  /** Loads task p's checkpoint, once its previous owner let it go, and what its outputs received since. */
  const restore = async (p: number): Promise<RunningTask<C>> => {
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
    const outEnds = await admin.listOffsets(outputTopics, 'latest');
    let already = 0;
    for (const { name, topic } of job.outputs) {
      const partition = outputPartition(topic, p);
      const ids = running.produced.get(topic)!;
      for (const r of await readRange(config, topic, partition, saved.outputs[name] ?? 0, outEnds.get(partitionKey(topic, partition)) ?? 0)) {
        ids.add(job.outputId(topic, r.value?.toString('utf8') ?? ''));
        already++;
      }
    }
    const offsets = Object.fromEntries(running.task.positions().map((o) => [partitionKey(o.topic, o.partition), o.offset]));
    log(`task ${p}: resumed from checkpoint (offsets ${JSON.stringify(offsets)}, ${already} output records already produced since)`);
    return running;
  };

  /** Makes every output so far durable, then records each task's state, then commits offsets. */
  const checkpoint = async (released = false): Promise<void> => {
    await producer.flush();
    for (const file of files) await file.sync();
    if (tasks.size === 0) return;
    const ends = await admin.listOffsets([...new Set([...outputTopics, ...inputs])], 'latest');
    // Only a partition read to its end may count as idle for the watermark.
    for (const [p, running] of tasks) {
      for (const topic of inputs) for (const q of taskPartitions(p)) running.task.setLogEnd(topic, ends.get(partitionKey(topic, q)) ?? 0, q);
    }
    const serializing = performance.now();
    for (const [p, running] of tasks) {
      const saved: SavedState<C> = {
        task: running.task.checkpoint(),
        outputs: Object.fromEntries(job.outputs.map(({ name, topic }) => [name, ends.get(partitionKey(topic, outputPartition(topic, p))) ?? 0])),
        owner,
        released,
      };
      send(stateTopic, `${job.name}/${p}`, JSON.stringify(saved), p);
    }
    serializeMs = performance.now() - serializing;
    await producer.flush();
    const offsets = [...tasks.values()].flatMap((r) => r.task.positions());
    try {
      await consumer.commit(offsets);
    } catch (error) {
      // A rebalance in progress: the checkpoint is what counts; the commit only serves `lag`.
      log(`offset commit skipped: ${(error as Error).message}`);
    }
  };

  const interval = options.checkpointIntervalMs ?? 1000;
  // A checkpoint serializes each task's whole state: with a large state
  // (100,000 open keys) that takes tens of milliseconds of CPU, so
  // checkpoints are spaced at least twenty times that apart (at most a
  // twentieth of the CPU goes to them; a restart re-reads a little more).
  let serializeMs = 0;
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
      if (splitGroup !== null) {
        if (!released) await checkpoint(true);
        throw splitGroup;
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
      if (records.length > 0) {
        lastInput = now;
        summary.firstInputAt ??= now;
      }
      for (const record of records) {
        const running = tasks.get(job.singleTask ? 0 : record.partition);
        if (running === undefined) continue;
        const resume = running.task.resumeOffset(record.topic, record.partition);
        if (resume !== undefined && record.offset < resume) continue;
        const input: InputRecord = { topic: record.topic, partition: record.partition, offset: record.offset, value: record.value?.toString('utf8') ?? '' };
        running.task.process(input, now);
      }
      if (records.length > 0) summary.lastInputAt = Date.now();
      for (const running of tasks.values()) running.task.tick(now);
      const stopping = options.signal?.aborted === true;
      // A worker standing by is not idle: it waits to take the task over (it has no input of its own).
      const idle = options.untilIdleMs !== undefined && joined && !standingBy && now - lastInput >= options.untilIdleMs;
      if (idle) {
        for (const running of tasks.values()) running.task.finish();
      }
      for (const file of files) if (file.refresh) await file.refresh();
      if (stopping || idle || now - lastCheckpoint >= Math.max(interval, 20 * serializeMs)) {
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
    if (ackTimer !== null) {
      clearTimeout(ackTimer);
      checkAcknowledged();
      if (ackTimer !== null) clearTimeout(ackTimer);
    }
    for (const file of files) await file.close();
    await admin.close();
  }
  return summary;
}
