// Stores metric topics as CSV files, one per topic (DIR/<topic>.csv), with
// every record exactly once across crashes. Each batch goes:
//   1. append the batch's lines to the topic files and rejects.csv, fsync;
//   2. atomically replace the checkpoint (file lengths, next offsets);
//   3. commit the same offsets to Kafka (for `lag` and other tools).
// On start the files are cut back to the checkpoint's lengths and reading
// resumes at its offsets, so a crash at any point loses nothing and repeats
// nothing. The Kafka commit may trail the checkpoint, never lead it.
//
// One consume process per output directory: the checkpoint, not the group's
// commits, decides where each partition resumes.

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamwatchError, UsageError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin, partitionKey, type PartitionOffset } from '../../kafka/index.ts';
import { csvLine } from '../csv/fields.ts';
import { MetricDecoder, metricTopic } from '../kafka-metrics.ts';
import { AppendFile } from './append-file.ts';
import { CheckpointWriter, readCheckpoint, type Checkpoint } from './checkpoint.ts';

export const REJECTS_FILE = 'rejects.csv';
export const CONSUME_REJECTS_HEADER = 'topic,partition,offset,reason,record';

export interface ConsumeOptions {
  brokers: string[];
  group: string;
  topics: string[];
  outDir: string;
  /** Exit after this many seconds without records (null: run until signalled). */
  untilIdleSeconds: number | null;
  /** A batch is written once it holds this many records ... */
  batchRecords: number;
  /** ... or its first record has waited this long. */
  batchMs: number;
  /** Partitions of topics that do not exist yet and are created here (default 3). */
  partitions?: number;
  /** Set to stop after the current batch (signals). */
  signal?: AbortSignal;
  /** Warnings (failed Kafka commits); default stderr. */
  warn?: (line: string) => void;
}

export interface ConsumeSummary {
  written: Record<string, number>;
  rejected: number;
  batches: number;
}

interface TopicOutput {
  topic: string;
  decoder: MetricDecoder;
  file: AppendFile;
}

export async function consumeToCsv(options: ConsumeOptions): Promise<ConsumeSummary> {
  const outputsByTopic = new Map(options.topics.map((t) => {
    const spec = metricTopic(t);
    if (!spec) throw new UsageError(`consume: no CSV layout for topic '${t}' (expected topic-cpu, topic-mem, topic-net or topic-disk)`);
    return [t, spec] as const;
  }));
  await mkdir(options.outDir, { recursive: true }).catch((error: unknown) => {
    throw new StreamwatchError('SW_ERR_OUTPUT', `cannot create ${options.outDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  });
  const warn = options.warn ?? ((line: string) => process.stderr.write(`streamwatch consume: ${line}\n`));
  const fileNames = [...options.topics.map((t) => `${t}.csv`), REJECTS_FILE];

  let checkpoint = await readCheckpoint(options.outDir);
  if (checkpoint && checkpoint.group !== options.group) {
    throw new StreamwatchError('SW_ERR_STATE', `${options.outDir} holds the output of group '${checkpoint.group}', not '${options.group}'; use another --out-dir`);
  }
  const writer = await CheckpointWriter.open(options.outDir);
  const outputs: TopicOutput[] = [];
  let rejects: AppendFile | null = null;
  let consumer: GroupConsumer | null = null;
  try {
    if (!checkpoint) {
      // Files without a checkpoint were not written by us (ours always get one first): never cut them.
      for (const name of fileNames) {
        const size = await stat(join(options.outDir, name)).then((s) => s.size, () => 0);
        if (size > 0) throw new StreamwatchError('SW_ERR_STATE', `${join(options.outDir, name)} exists but ${options.outDir} has no consume checkpoint; move it away or choose another --out-dir`);
      }
      checkpoint = { version: 1, group: options.group, files: {}, offsets: {} };
    }
    for (const name of fileNames) checkpoint.files[name] ??= 0;
    const loaded = checkpoint;
    // The checkpoint names every file before the files exist, so a crash right after creating them is harmless.
    await writer.write(checkpoint);
    for (const [topic, spec] of outputsByTopic) {
      outputs.push({ topic, decoder: new MetricDecoder(spec), file: await AppendFile.open(join(options.outDir, `${topic}.csv`), checkpoint.files[`${topic}.csv`] ?? 0) });
    }
    rejects = await AppendFile.open(join(options.outDir, REJECTS_FILE), checkpoint.files[REJECTS_FILE] ?? 0);
    await writer.syncDir();

    const nextOffsets = new Map<string, PartitionOffset>();
    for (const [key, offset] of Object.entries(checkpoint.offsets)) {
      const colon = key.lastIndexOf(':');
      nextOffsets.set(key, { topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)), offset });
    }
    // Consumers often start before the producer: missing topics are created
    // (with the producer's default partition count) rather than refused.
    const admin = await KafkaAdmin.connect({ brokers: options.brokers });
    try {
      await admin.ensureTopics(options.topics, options.partitions ?? 3);
    } finally {
      await admin.close();
    }
    let assignedAt = 0;
    consumer = await GroupConsumer.start({
      brokers: options.brokers,
      groupId: options.group,
      topics: options.topics,
      startOffsets: [...nextOffsets.values()],
      fallback: 'earliest',
      onAssign: () => {
        assignedAt ||= Date.now();
      },
    });

    const summary: ConsumeSummary = { written: Object.fromEntries(options.topics.map((t) => [t, 0])), rejected: 0, batches: 0 };
    const outputOf = new Map(outputs.map((o) => [o.topic, o]));
    let pendingRecords = 0;
    let batchStartedAt = 0;
    let lastRecordAt = Date.now();
    const started = Date.now();
    let committedFailures = 0;

    /** The checkpoint for what the files now hold. */
    const snapshot = (): Checkpoint => {
      // Files of topics not read this time keep their entries, with their offsets, for a later run.
      const next: Checkpoint = { version: 1, group: options.group, files: { ...loaded.files }, offsets: {} };
      for (const output of outputs) next.files[`${output.topic}.csv`] = output.file.length;
      next.files[REJECTS_FILE] = rejects!.length;
      for (const [key, position] of nextOffsets) next.offsets[key] = position.offset;
      return next;
    };

    const flush = async (): Promise<void> => {
      if (pendingRecords === 0) return;
      for (const output of outputs) await output.file.flush(output.decoder.header);
      await rejects!.flush(CONSUME_REJECTS_HEADER);
      await writer.write(snapshot());
      pendingRecords = 0;
      summary.batches++;
      try {
        await consumer!.commit([...nextOffsets.values()]);
      } catch (error) {
        // The checkpoint already holds these offsets; the next batch commits again.
        if (committedFailures++ === 0) warn(`offset commit failed (will retry with the next batch): ${(error as Error).message}`);
      }
    };

    for (;;) {
      if (options.signal?.aborted) break;
      const now = Date.now();
      const waitMs = pendingRecords > 0 ? Math.max(0, batchStartedAt + options.batchMs - now) : 500;
      const records = await consumer.poll(Math.min(waitMs, 500));
      for (const record of records) {
        const key = partitionKey(record.topic, record.partition);
        const position = nextOffsets.get(key);
        // A record before the checkpoint's position is already in the files (a refetch after a rebalance).
        if (position && record.offset < position.offset) continue;
        const output = outputOf.get(record.topic);
        if (!output) continue;
        const text = record.value === null ? null : record.value.toString('utf8');
        const decoded = text === null ? { ok: false as const, reason: 'empty value' } : output.decoder.decode(text);
        if (decoded.ok) {
          output.file.add(decoded.line);
          summary.written[record.topic]!++;
        } else {
          rejects.add(csvLine([record.topic, String(record.partition), String(record.offset), decoded.reason, text ?? '']));
          summary.rejected++;
        }
        if (position) position.offset = record.offset + 1;
        else nextOffsets.set(key, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
        if (pendingRecords++ === 0) batchStartedAt = Date.now();
      }
      if (pendingRecords >= options.batchRecords || (pendingRecords > 0 && Date.now() - batchStartedAt >= options.batchMs)) await flush();
      // Idleness is the brokers' silence: it is measured from the end of our own
      // work on the last records (a slow fsync must not count), and only ends
      // the run after a poll that brought nothing.
      if (records.length > 0) lastRecordAt = Date.now();
      else if (options.untilIdleSeconds !== null && pendingRecords === 0) {
        // Quiet time counts from the first assignment: joining the group is not idleness.
        const quietSince = Math.max(lastRecordAt, assignedAt || started);
        if ((assignedAt > 0 || Date.now() - started > 30_000) && Date.now() - quietSince >= options.untilIdleSeconds * 1000) break;
      }
    }
    await flush();
    // Topics that received nothing still get a valid CSV with its header.
    let headers = false;
    for (const output of outputs) {
      if (output.file.length === 0) {
        await output.file.ensureHeader(output.decoder.header);
        headers = true;
      }
    }
    if (rejects.length === 0) {
      await rejects.ensureHeader(CONSUME_REJECTS_HEADER);
      headers = true;
    }
    if (headers) await writer.write(snapshot());
    await consumer.commit([...nextOffsets.values()]).catch((error: unknown) => warn(`final offset commit failed: ${(error as Error).message}`));
    return summary;
  } finally {
    await consumer?.close();
    for (const output of outputs) await output.file.close();
    await rejects?.close();
    await writer.close();
  }
}
