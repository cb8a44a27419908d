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

import { formatUnits, type Units } from '../engine/decimal.ts';
import { compareNatural } from '../engine/natural-order.ts';
import { StreamwatchError } from '../errors.ts';
import type { Incident } from '../engine/incidents.ts';
import type { TimeKind } from '../engine/time.ts';
import { formatInstant } from '../engine/time.ts';
import { MetricPairDetector, type WindowRow } from '../jobs/metric-pair-detector.ts';
import type { MetricPairJob, MetricSide, Thresholds } from '../jobs/metric-pairs.ts';
import { csvLine } from './csv/fields.ts';
import { FileWriter, writeCsvFile } from './csv/file-writer.ts';
import { ByteLineReader } from './csv/byte-lines.ts';
import { KeyedRows, type KeyRows } from './csv/keyed-rows.ts';
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
  const sorted = new KeyedRows();
  const format = new RowWriter(job, sorted);
  const incidents: Incident[] = [];
  let rowSpill: Promise<void> | undefined;
  const detector = new MetricPairDetector(job, { thresholds: options.thresholds, trimLeading: options.trimLeading, lateness, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (row) => {
      const pending = format.write(row, timeKind.kind ?? 'time-of-day');
      if (pending) rowSpill = pending;
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
      if (rowSpill) {
        await rowSpill;
        rowSpill = undefined;
      }
    }
    detector.finish();
    if (rowSpill) await rowSpill;

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

/**
 * Writes window rows as bytes straight into each key's output buffer:
 * `key,start,end,value0,value1,alert`. Consecutive rows share window
 * bounds, so their bytes are cached, as are each key's and alert's.
 */
class RowWriter {
  private readonly job: MetricPairJob;
  private readonly rows: KeyedRows;
  private readonly keys = new Map<string, { rows: KeyRows; prefix: Buffer }>();
  private readonly alerts = new Map<string, Buffer>();
  private lastStart = Number.NaN;
  private bounds = Buffer.alloc(0);

  constructor(job: MetricPairJob, rows: KeyedRows) {
    this.job = job;
    this.rows = rows;
  }

  /** Adds one row; a promise when the output buffers spilled. */
  write(row: WindowRow, kind: TimeKind): Promise<void> | undefined {
    if (row.start !== this.lastStart) {
      this.lastStart = row.start;
      this.bounds = Buffer.from(`${formatInstant(row.start, kind)},${formatInstant(row.end, kind)},`, 'latin1');
    }
    let key = this.keys.get(row.key);
    if (key === undefined) {
      key = { rows: this.rows.rowsOf(row.key), prefix: Buffer.from(`${row.key},`, 'latin1') };
      this.keys.set(row.key, key);
    }
    let alert = this.alerts.get(row.alert);
    if (alert === undefined) {
      alert = Buffer.from(`${row.alert}\n`, 'latin1');
      this.alerts.set(row.alert, alert);
    }
    const rows = key.rows;
    this.rows.ensure(rows, key.prefix.length + this.bounds.length + 2 * MAX_NUMBER_BYTES + alert.length);
    const bytes = rows.bytes;
    let at = rows.length;
    at = put(bytes, at, key.prefix);
    at = put(bytes, at, this.bounds);
    at = writeUnits(bytes, at, row.value0, this.job.digits);
    bytes[at++] = 44;
    at = writeUnits(bytes, at, row.value1, this.job.digits);
    bytes[at++] = 44;
    at = put(bytes, at, alert);
    return this.rows.commit(rows, at - rows.length);
  }
}

/** Copies `source` to bytes[at] and returns the position after it. */
function put(bytes: Buffer, at: number, source: Buffer): number {
  bytes.set(source, at);
  return at + source.length;
}

/** Room for one number as formatUnits prints it (a bigint with up to 60 digits included). */
const MAX_NUMBER_BYTES = 72;

/** Writes formatUnits(units, scale) at bytes[at] and returns the position after it. */
function writeUnits(bytes: Buffer, at: number, units: Units, scale: number): number {
  if (typeof units !== 'number' || units < 0 || units >= 2 ** 40 || scale > 6) {
    const text = formatUnits(units, scale);
    if (text.length > MAX_NUMBER_BYTES) throw new RangeError(`number too long for an output row: ${text}`);
    return at + bytes.write(text, at, 'latin1');
  }
  const pow = POW10[scale]!;
  let frac = units % pow;
  let int = (units - frac) / pow;
  // Integer part, digits written backwards then reversed in place.
  const first = at;
  do {
    const digit = int % 10;
    bytes[at++] = 48 + digit;
    int = (int - digit) / 10;
  } while (int > 0);
  for (let a = first, b = at - 1; a < b; a++, b--) {
    const c = bytes[a]!;
    bytes[a] = bytes[b]!;
    bytes[b] = c;
  }
  bytes[at++] = 46;
  if (frac === 0) {
    bytes[at++] = 48;
    return at;
  }
  // The fraction without trailing zeros, left-padded with zeros to its width.
  let width = scale;
  while (frac % 10 === 0) {
    frac /= 10;
    width--;
  }
  for (let i = width - 1; i >= 0; i--) {
    bytes[at + i] = 48 + (frac % 10);
    frac = Math.floor(frac / 10);
  }
  return at + width;
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

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
