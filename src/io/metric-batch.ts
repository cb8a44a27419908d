// Batch mode of the server-metrics jobs (the old Spark jobs): CSV files in,
// sorted CSV files out, through the same MetricPairDetector the streaming
// `detect` command runs.
//
// Order independence: batch results must not depend on row order, yet state
// must stay bounded for large, time-ordered files. So a first pass runs with
// a watermark that trails the inputs by `batchLateness`; if any row turns out
// to be later than that (it would miss a window already closed), the pass is
// abandoned and the files are read again with the watermark held back until
// the end of input, which is exact for any order.
//
// Two threads for large inputs: a worker reads and parses the files into
// batches of rows (metric-rows.ts) while this thread windows them and
// writes the output. The rows and their order are the same either way.

import { stat } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { availableParallelism } from 'node:os';
import { formatUnits } from '../engine/decimal.ts';
import { compareNatural } from '../engine/natural-order.ts';
import { StreamwatchError, type ErrorCode } from '../errors.ts';
import type { Incident } from '../engine/incidents.ts';
import type { KeyHandle } from '../engine/paired-windows.ts';
import type { TimeKind } from '../engine/time.ts';
import { formatInstant } from '../engine/time.ts';
import { MetricPairDetector } from '../jobs/metric-pair-detector.ts';
import type { MetricPairJob, MetricSide, Thresholds } from '../jobs/metric-pairs.ts';
import { csvLine } from './csv/fields.ts';
import { FileWriter, writeCsvFile } from './csv/file-writer.ts';
import { Mailbox } from './mailbox.ts';
import { WindowRows } from './csv/window-rows.ts';
import { startWorker } from './worker-boot.ts';
import { MetricRowReader, rowArrays, transferList, type RowArrays, type RowBatch, type RowInput } from './metric-rows.ts';

export interface MetricBatchInput {
  path: string;
  /** The job's sides this file feeds: both for a combined file, one for a per-topic file. */
  sides: readonly MetricSide[];
}

export interface MetricBatchOptions {
  job: MetricPairJob;
  inputs: readonly MetricBatchInput[];
  out: string;
  rejects?: string;
  incidents?: string;
  thresholds: Thresholds;
  trimLeading: boolean;
  /** How far (ms of event time) rows may run behind before the exact second pass is needed. */
  batchLateness?: number;
  /** Threads: 2 reads in a worker thread while the main thread windows; default 2 for inputs of THREADS_FROM_BYTES or more on 2 cores or more. */
  threads?: 1 | 2;
  /** Stop V8's young generation from growing once the job is under way (see stopYoungGenerationGrowth); for a process that runs just this job. */
  steadyYoungGeneration?: boolean;
}

export interface MetricBatchSummary {
  read: number;
  rejected: number;
  late: number;
  written: number;
  incidents: number;
  passes: number;
  threads: 1 | 2;
}

const DEFAULT_BATCH_LATENESS = 60_000;
/** Below this much input, starting a thread costs more than it saves. */
const THREADS_FROM_BYTES = 16 << 20;

export const REJECTS_HEADER = 'source,line,reason,record';
export const INCIDENTS_HEADER = 'detector,key,alert,start,end,windows,peak';

export async function runMetricBatch(options: MetricBatchOptions): Promise<MetricBatchSummary> {
  const threads = options.threads ?? (await defaultThreads(options.inputs));
  const lateness = options.batchLateness ?? (process.env.SW_BATCH_LATENESS ? Number(process.env.SW_BATCH_LATENESS) : DEFAULT_BATCH_LATENESS);
  const first = await runPass(options, lateness, threads);
  if (first !== 'retry') return first;
  const exact = await runPass(options, Number.POSITIVE_INFINITY, threads);
  if (exact === 'retry') throw new Error('unbounded pass cannot be late');
  return { ...exact, passes: 2 };
}

async function defaultThreads(inputs: readonly MetricBatchInput[]): Promise<1 | 2> {
  let bytes = 0;
  for (const input of inputs) bytes += (await stat(input.path).catch(() => null))?.size ?? 0;
  // A second thread only helps with a second core to run on.
  return bytes >= THREADS_FROM_BYTES && availableParallelism() >= 2 ? 2 : 1;
}

/** What the reading worker posts. */
export type ReaderMessage = { batch: RowBatch } | { end: true } | { error: { code: ErrorCode | null; message: string } };

/** Batches of rows, from a worker thread or read here; `recycle` hands a batch's arrays back once used. */
interface BatchSource {
  next(): Promise<RowBatch | null>;
  recycle(arrays: RowArrays): void;
  close(): Promise<void>;
}

async function localSource(inputs: RowInput[]): Promise<BatchSource> {
  const reader = await MetricRowReader.open(inputs);
  let spare = rowArrays();
  return {
    next: () => reader.next(spare),
    recycle: (arrays) => {
      spare = arrays;
    },
    close: () => reader.close(),
  };
}

/** `ended` is called as soon as the worker has read everything (batches may still be queued here). */
function workerSource(inputs: RowInput[], ended: () => void): BatchSource {
  const worker = startWorker(new URL('./metric-rows-worker.ts', import.meta.url), inputs);
  const messages = new Mailbox<ReaderMessage>();
  const deliver = (message: ReaderMessage): void => {
    if ('end' in message) ended();
    messages.put(message);
  };
  worker.on('message', deliver);
  worker.on('error', (error) => deliver({ error: { code: null, message: error.stack ?? error.message } }));
  worker.on('exit', (code) => deliver({ error: { code: null, message: `the reading thread stopped (exit code ${code})` } }));
  return {
    async next() {
      const message = await messages.take();
      if ('batch' in message) return message.batch;
      if ('end' in message) return null;
      const { code, message: text } = message.error;
      throw code === null ? new Error(text) : new StreamwatchError(code, text);
    },
    recycle(arrays) {
      worker.postMessage(arrays, transferList(arrays));
    },
    async close() {
      worker.removeAllListeners();
      await worker.terminate();
    },
  };
}

async function runPass(options: MetricBatchOptions, lateness: number, threads: 1 | 2): Promise<MetricBatchSummary | 'retry'> {
  const { job } = options;
  const bounded = Number.isFinite(lateness);
  let timeKind: TimeKind | null = null;
  const sorted = new WindowRows({ digits: job.digits, size: job.window.size, slide: job.window.slide, timeKind: () => timeKind ?? 'time-of-day' }, { threads });
  /** Closed incidents, kept (to be sorted) only when they are to be written; counted either way. */
  const incidents: Incident[] = [];
  let incidentCount = 0;
  let spilled = false;
  /** Spills of output rows being written: reading goes on while one is written, and waits when a second comes. */
  const rowSpills: Array<Promise<void>> = [];
  const detector = new MetricPairDetector(job, { thresholds: options.thresholds, trimLeading: options.trimLeading, lateness, idleTimeout: Number.POSITIVE_INFINITY }, {
    reuseRows: true,
    row: (row) => {
      const pending = sorted.add(row.key, row.start, row.value0, row.value1, row.alert, row.keyNumber);
      if (pending) {
        if (!spilled && options.steadyYoungGeneration) stopYoungGenerationGrowth();
        spilled = true;
        rowSpills.push(pending);
      }
    },
    incident: (incident, state) => {
      if (state !== 'closed') return;
      incidentCount++;
      if (options.incidents) incidents.push(incident);
    },
  });

  const rowInputs: RowInput[] = options.inputs.map((input) => ({
    path: input.path,
    required: input.sides.flatMap((s) => s.fields),
    sides: [input.sides.includes(job.sides[0]) ? job.sides[0].field : null, input.sides.includes(job.sides[1]) ? job.sides[1].field : null],
  }));
  /** Per input: -1 when its rows carry both sides, else the one side they carry. */
  const sideOf = rowInputs.map((input): -1 | 0 | 1 => (input.sides[0] !== null && input.sides[1] !== null ? -1 : input.sides[0] !== null ? 0 : 1));
  const sourceNames = options.inputs.map((input) => Buffer.from(input.path, 'utf8').toString('latin1'));
  const partitions = options.inputs.map((_, i) => String(i));
  for (const partition of partitions) detector.registerPartition(partition, 0);
  const handles: KeyHandle[] = [];

  const rejects = options.rejects ? await FileWriter.create(options.rejects, 'latin1') : null;
  rejects?.writeLine(REJECTS_HEADER);
  let source: BatchSource | null = null;
  let read = 0;
  let rejected = 0;
  try {
    // Once the reading thread is done, its core is free: the output's helper thread can start there.
    source = threads === 2 ? workerSource(rowInputs, () => sorted.warmUp()) : await localSource(rowInputs);
    for (;;) {
      const batch = await source.next();
      if (batch === null) break;
      timeKind = batch.timeKind ?? timeKind;
      read += batch.read;
      rejected += batch.rejects.length;
      if (rejects) {
        for (const reject of batch.rejects) {
          const pending = rejects.writeLine(csvLine([sourceNames[batch.input]!, String(reject.line), reject.reason, reject.record]));
          if (pending) await pending;
        }
      }
      for (const key of batch.newKeys) handles.push(detector.keyHandle(key, handles.length));
      const partition = partitions[batch.input]!;
      if (batch.count > 0) detector.observe(partition, batch.maxInstant, 0);
      addRows(detector, batch, handles, sideOf[batch.input]!);
      source.recycle(batch.arrays);
      if (batch.ended) detector.endPartition(partition);
      if (bounded) {
        detector.tick(0);
        if (detector.lateCount + detector.partlyLateCount > 0) {
          await rejects?.abort();
          await sorted.discard();
          return 'retry';
        }
      }
      while (rowSpills.length > 1) await rowSpills.shift();
    }
    detector.finish();
    await Promise.all(rowSpills);

    await writeCsvFile(options.out, ['server_id', 'window_start', 'window_end', ...job.columns, 'alert'].join(','), (out) => sorted.writeTo(out));
    if (options.incidents) await writeIncidents(options.incidents, incidents, timeKind ?? 'time-of-day');
    await rejects?.close();
    return { read, rejected, late: 0, written: sorted.count, incidents: incidentCount, passes: 1, threads };
  } catch (error) {
    await rejects?.abort();
    await sorted.discard();
    throw error;
  } finally {
    await source?.close();
  }
}

/**
 * A job allocates little per row (rows live in typed arrays), but under a
 * steady allocation rate V8 keeps growing the young generation, to ~34 MB,
 * and keeps it: that was most of what grew with the input (100 M rows:
 * peak 224-242 MB; 175 MB with no growth at all, which made a 1 M-row job
 * ~10 % slower while its code was still being compiled). So growth is
 * stopped at the first spill of output rows, once the job is under way
 * (new space then ~8 MB; 10 M rows no slower in alternating runs). V8
 * reads the factor at each resize, so it takes effect now; it holds for
 * the whole process, hence the option.
 */
function stopYoungGenerationGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** Adds a batch's rows to the detector: both sides per row (`side` -1), or the one side of a per-topic input. */
function addRows(detector: MetricPairDetector, batch: RowBatch, handles: KeyHandle[], side: -1 | 0 | 1): void {
  const { count, exact } = batch;
  const { keys, instants, units0, scales0, units1, scales1 } = batch.arrays;
  let nextExact = 0;
  for (let i = 0; i < count; i++) {
    const handle = handles[keys[i]!]!;
    const u0 = units0[i]!;
    if (u0 !== u0) {
      // Values kept exact (NaN in the arrays): in batch.exact, in row order.
      const values = exact[nextExact++]!;
      if (side === -1) detector.addPairTo(handle, instants[i]!, values.units0, values.scale0, values.units1, values.scale1);
      else detector.addTo(handle, side, instants[i]!, values.units0, values.scale0);
    } else if (side === -1) {
      detector.addPairTo(handle, instants[i]!, u0, scales0[i]!, units1[i]!, scales1[i]!);
    } else {
      detector.addTo(handle, side, instants[i]!, u0, scales0[i]!);
    }
  }
}

/** Writes incidents sorted by detector, key (natural order), start, alert. */
export async function writeIncidents(path: string, incidents: Incident[], kind: TimeKind): Promise<void> {
  incidents.sort((a, b) => (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0)
    || compareNatural(a.key, b.key) || a.start - b.start || (a.alert < b.alert ? -1 : a.alert > b.alert ? 1 : 0));
  await writeCsvFile(path, INCIDENTS_HEADER, async (out) => {
    for (const i of incidents) {
      const pending = out.writeLine(csvLine([i.detector, i.key, i.alert, formatInstant(i.start, kind), formatInstant(i.end, kind), String(i.windows), formatUnits(i.peakUnits, i.peakScale)]));
      if (pending) await pending;
    }
  });
}
