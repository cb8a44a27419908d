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

import { formatUnits } from '../engine/decimal.ts';
import { compareNatural } from '../engine/natural-order.ts';
import { StreamwatchError } from '../errors.ts';
import type { Incident } from '../engine/incidents.ts';
import type { TimeKind } from '../engine/time.ts';
import { formatInstant } from '../engine/time.ts';
import { MetricPairDetector } from '../jobs/metric-pair-detector.ts';
import type { MetricPairJob, MetricSide, Thresholds } from '../jobs/metric-pairs.ts';
import { csvLine } from './csv/fields.ts';
import { FileWriter, writeCsvFile } from './csv/file-writer.ts';
import { ByteLineReader } from './csv/byte-lines.ts';
import { WindowRows } from './csv/window-rows.ts';
import { MetricRowParser, metricColumns, readHeader } from './metric-csv.ts';

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
}

export interface MetricBatchSummary {
  read: number;
  rejected: number;
  late: number;
  written: number;
  incidents: number;
  passes: number;
}

const DEFAULT_BATCH_LATENESS = 60_000;
const LINES_PER_TURN = 512;

export const REJECTS_HEADER = 'source,line,reason,record';
export const INCIDENTS_HEADER = 'detector,key,alert,start,end,windows,peak';

export async function runMetricBatch(options: MetricBatchOptions): Promise<MetricBatchSummary> {
  const first = await runPass(options, options.batchLateness ?? (process.env.SW_BATCH_LATENESS ? Number(process.env.SW_BATCH_LATENESS) : DEFAULT_BATCH_LATENESS));
  if (first !== 'retry') return first;
  const exact = await runPass(options, Number.POSITIVE_INFINITY);
  if (exact === 'retry') throw new Error('unbounded pass cannot be late');
  return { ...exact, passes: 2 };
}

interface OpenInput {
  input: MetricBatchInput;
  reader: ByteLineReader;
  parser: MetricRowParser;
  partition: string;
  /** For each metric column the parser reads: which side it feeds (-1 for none). */
  sideOfColumn: Array<0 | 1 | -1>;
  /** The columns of side 0 and side 1 when this input feeds both (a combined file), else null. */
  pairColumns: [number, number] | null;
  /** Largest instant read so far: the input that lags behind is read next. */
  maxInstant: number;
  done: boolean;
}

async function runPass(options: MetricBatchOptions, lateness: number): Promise<MetricBatchSummary | 'retry'> {
  const { job } = options;
  const bounded = Number.isFinite(lateness);
  const timeKind: { kind: TimeKind | null } = { kind: null };
  const sorted = new WindowRows({
    digits: job.digits,
    bounds: (start) => {
      const kind = timeKind.kind ?? 'time-of-day';
      return `${formatInstant(start, kind)},${formatInstant(start + job.window.size, kind)}`;
    },
  });
  const incidents: Incident[] = [];
  /** Spills of output rows being written: reading goes on while one is written, and waits when a second comes. */
  const rowSpills: Array<Promise<void>> = [];
  const detector = new MetricPairDetector(job, { thresholds: options.thresholds, trimLeading: options.trimLeading, lateness, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (row) => {
      const pending = sorted.add(row.key, row.start, row.value0, row.value1, row.alert);
      if (pending) rowSpills.push(pending);
    },
    incident: (incident, state) => {
      if (state === 'closed') incidents.push(incident);
    },
  });

  const inputs: OpenInput[] = [];
  const rejects = options.rejects ? await FileWriter.create(options.rejects, 'latin1') : null;
  rejects?.writeLine(REJECTS_HEADER);
  let read = 0;
  let rejected = 0;
  try {
    for (const [i, input] of options.inputs.entries()) {
      const reader = await ByteLineReader.open(input.path);
      const opened: OpenInput = { input, reader, parser: null as unknown as MetricRowParser, partition: String(i), sideOfColumn: [], pairColumns: null, maxInstant: Number.NEGATIVE_INFINITY, done: false };
      inputs.push(opened);
      detector.registerPartition(opened.partition, 0);
      const header = await readHeader(reader);
      if (header === null) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${input.path}: the file is empty (no header line)`);
      const columns = metricColumns(header, input.sides.flatMap((s) => s.fields), input.path);
      opened.parser = new MetricRowParser(columns, timeKind);
      opened.sideOfColumn = columns.metrics.map(({ field }) => {
        const side = input.sides.find((s) => s.field === field);
        return side === undefined ? -1 : side === job.sides[0] ? 0 : side === job.sides[1] ? 1 : -1;
      });
      const m0 = opened.sideOfColumn.indexOf(0);
      const m1 = opened.sideOfColumn.indexOf(1);
      if (m0 >= 0 && m1 >= 0) opened.pairColumns = [m0, m1];
    }
    const sourceName = (input: OpenInput): string => Buffer.from(input.input.path, 'utf8').toString('latin1');

    for (;;) {
      // Read from the input that lags behind, so the watermark can advance.
      let current: OpenInput | null = null;
      for (const input of inputs) if (!input.done && (current === null || input.maxInstant < current.maxInstant)) current = input;
      if (current === null) break;
      const { reader, parser, sideOfColumn, partition, pairColumns } = current;
      const row = parser?.row;
      for (let n = 0; n < LINES_PER_TURN; n++) {
        const found = reader.nextRecord();
        if (found === 0) {
          await reader.fill();
          continue;
        }
        if (found === -1) {
          current.done = true;
          detector.endPartition(current.partition);
          break;
        }
        const start = reader.start;
        const end = reader.end;
        if (start === end || (reader.bytes[start]! <= 32 && reader.text().trim() === '')) continue;
        read++;
        if (!(reader.quoted ? parser.parse(reader.text()) : parser.parseBytes(reader.bytes, start, end))) {
          rejected++;
          if (rejects) {
            const pending = rejects.writeLine(csvLine([sourceName(current), String(reader.lineNumber), parser.reason, reader.text()]));
            if (pending) await pending;
          }
          continue;
        }
        if (row.instant > current.maxInstant) current.maxInstant = row.instant;
        if (pairColumns !== null) {
          const [m0, m1] = pairColumns;
          detector.addPair(partition, row.serverId, row.instant, row.units[m0]!, row.scales[m0]!, row.units[m1]!, row.scales[m1]!, 0);
          continue;
        }
        for (let m = 0; m < sideOfColumn.length; m++) {
          const side = sideOfColumn[m]!;
          if (side === -1) continue;
          detector.add(partition, side, row.serverId, row.instant, row.units[m]!, row.scales[m]!, 0);
        }
      }
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
    if (options.incidents) await writeIncidents(options.incidents, incidents, timeKind.kind ?? 'time-of-day');
    await rejects?.close();
    return { read, rejected, late: 0, written: sorted.count, incidents: incidents.length, passes: 1 };
  } catch (error) {
    await rejects?.abort();
    await sorted.discard();
    throw error;
  } finally {
    await Promise.all(inputs.map((i) => i.reader.close()));
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
