// The reading half of a server-metrics batch job: its input files read,
// validated and parsed into batches of rows held in typed arrays (a key
// number, the instant, the values of the job's two sides), rejects with
// their line numbers and reasons alongside. Reading is about half the work
// of a job, so for large inputs it runs in a worker thread
// (metric-rows-worker.ts) while the main thread windows the batches: a
// batch's arrays are handed over without copying and handed back once used.
// Small inputs are read in the main thread through the same code.
//
// Rows come out exactly in the order the single-threaded job read them:
// each batch is a stretch of one input, and the input read next is the one
// whose rows lag behind (so the watermark can advance).

import type { Units } from '../engine/decimal.ts';
import type { MetricField } from '../engine/metric-record.ts';
import type { TimeKind } from '../engine/time.ts';
import { StreamwatchError } from '../errors.ts';
import { ByteLineReader } from './csv/byte-lines.ts';
import { MetricRowParser, metricColumns, readHeader } from './metric-csv.ts';
import { grownArray } from './typed-arrays.ts';

/** Rows per batch. */
export const BATCH_ROWS = 8192;
/** Lines per batch at most (rejected ones included), so a file of bad rows still comes in bounded batches. */
const BATCH_LINES = 4 * BATCH_ROWS;

/** One input as the reader needs it: plain data, so it can be handed to a worker thread. */
export interface RowInput {
  path: string;
  /** Columns the header must have. */
  required: MetricField[];
  /** The column feeding side 0 and side 1 of the job; null for a side this input does not feed. */
  sides: [MetricField | null, MetricField | null];
}

/** The arrays of one batch: row i is keys[i], instants[i], and per side units and scale. */
export interface RowArrays {
  keys: Int32Array;
  instants: Float64Array;
  units0: Float64Array;
  scales0: Uint8Array;
  units1: Float64Array;
  scales1: Uint8Array;
}

export function rowArrays(): RowArrays {
  return {
    keys: new Int32Array(BATCH_ROWS),
    instants: new Float64Array(BATCH_ROWS),
    units0: new Float64Array(BATCH_ROWS),
    scales0: new Uint8Array(BATCH_ROWS),
    units1: new Float64Array(BATCH_ROWS),
    scales1: new Uint8Array(BATCH_ROWS),
  };
}

export function transferList(arrays: RowArrays): ArrayBuffer[] {
  return [arrays.keys, arrays.instants, arrays.units0, arrays.scales0, arrays.units1, arrays.scales1].map((a) => a.buffer as ArrayBuffer);
}

export interface Reject {
  line: number;
  reason: string;
  /** The record as read, latin1 (byte for byte). */
  record: string;
}

/** Values of a row that are not plain numbers (huge or very precise): its units in the arrays are NaN. */
export interface ExactValues {
  row: number;
  units0: Units;
  scale0: number;
  units1: Units;
  scale1: number;
}

export interface RowBatch {
  /** Index of the input these rows come from. */
  input: number;
  count: number;
  arrays: RowArrays;
  /** Largest instant among the rows (-Infinity when none). */
  maxInstant: number;
  /** Server ids first seen in this batch, numbered on from those of earlier batches. */
  newKeys: string[];
  exact: ExactValues[];
  rejects: Reject[];
  /** Non-blank lines read: rows plus rejects. */
  read: number;
  timeKind: TimeKind | null;
  /** The input ends with this batch. */
  ended: boolean;
}

interface OpenInput {
  reader: ByteLineReader;
  parser: MetricRowParser;
  /** Metric columns (indexes into the parser's row) feeding side 0 and side 1, -1 for none. */
  column0: number;
  column1: number;
  maxInstant: number;
  done: boolean;
  /** Key number of each id number of the parser (-1 for none yet). */
  keyOfId: Int32Array;
}


export class MetricRowReader {
  private readonly inputs: OpenInput[];
  private readonly timeKind: { kind: TimeKind | null };
  private readonly keyNumbers = new Map<string, number>();

  private constructor(inputs: OpenInput[], timeKind: { kind: TimeKind | null }) {
    this.inputs = inputs;
    this.timeKind = timeKind;
  }

  /** Opens every input and reads its header; a missing file or column is a clear error. */
  static async open(specs: readonly RowInput[]): Promise<MetricRowReader> {
    const timeKind: { kind: TimeKind | null } = { kind: null };
    const inputs: OpenInput[] = [];
    try {
      for (const spec of specs) {
        const reader = await ByteLineReader.open(spec.path);
        inputs.push({ reader, parser: null as unknown as MetricRowParser, column0: -1, column1: -1, maxInstant: Number.NEGATIVE_INFINITY, done: false, keyOfId: new Int32Array(1024).fill(-1) });
        const header = await readHeader(reader);
        if (header === null) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${spec.path}: the file is empty (no header line)`);
        const columns = metricColumns(header, spec.required, spec.path);
        const opened = inputs[inputs.length - 1]!;
        opened.parser = new MetricRowParser(columns, timeKind);
        opened.column0 = columns.metrics.findIndex((m) => m.field === spec.sides[0]);
        opened.column1 = columns.metrics.findIndex((m) => m.field === spec.sides[1]);
      }
    } catch (error) {
      await Promise.all(inputs.map((i) => i.reader.close()));
      throw error;
    }
    return new MetricRowReader(inputs, timeKind);
  }

  /** Reads the next batch into `arrays`; null once every input has ended. */
  async next(arrays: RowArrays): Promise<RowBatch | null> {
    let index = -1;
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      if (!input.done && (index < 0 || input.maxInstant < this.inputs[index]!.maxInstant)) index = i;
    }
    if (index < 0) return null;
    const input = this.inputs[index]!;
    const { reader, parser, column0, column1 } = input;
    const row = parser.row;
    const { keys, instants, units0, scales0, units1, scales1 } = arrays;
    const keyNumbers = this.keyNumbers;
    const batch: RowBatch = { input: index, count: 0, arrays, maxInstant: Number.NEGATIVE_INFINITY, newKeys: [], exact: [], rejects: [], read: 0, timeKind: null, ended: false };
    // Side 0 from column0 when this input feeds it, else side 1's column goes in the side-0 arrays (one-side input).
    const first = column0 >= 0 ? column0 : column1;
    const second = column0 >= 0 ? column1 : -1;
    let count = 0;
    let maxInstant = Number.NEGATIVE_INFINITY;
    for (let lines = 0; lines < BATCH_LINES && count < BATCH_ROWS; lines++) {
      // The common record is read in one pass over its bytes (scanRecord); any other by the general path.
      const at = reader.pos;
      const next = at < reader.complete ? parser.scanRecord(reader.view, at) : -1;
      let idNumber = -1;
      if (next >= 0) {
        reader.skipLine(next);
        idNumber = parser.idNumber;
      } else {
        const found = reader.nextRecord();
        if (found === 0) {
          await reader.fill();
          continue;
        }
        if (found === -1) {
          input.done = true;
          batch.ended = true;
          break;
        }
        const start = reader.start;
        const end = reader.end;
        if (start === end || (reader.bytes[start]! <= 32 && reader.text().trim() === '')) continue;
        if (!(reader.quoted ? parser.parse(reader.text()) : parser.parseBytes(reader.bytes, start, end))) {
          batch.rejects.push({ line: reader.lineNumber, reason: parser.reason, record: reader.text() });
          continue;
        }
      }
      // The parser numbers the ids it reads fast (per input): a lookup by that number, else by name.
      let key = idNumber >= 0 && idNumber < input.keyOfId.length ? input.keyOfId[idNumber]! : -1;
      if (key < 0) {
        key = keyNumbers.get(row.serverId) ?? -1;
        if (key < 0) {
          key = keyNumbers.size;
          keyNumbers.set(row.serverId, key);
          batch.newKeys.push(row.serverId);
        }
        if (idNumber >= 0) {
          if (idNumber >= input.keyOfId.length) input.keyOfId = grownArray(input.keyOfId, idNumber + 1, -1);
          input.keyOfId[idNumber] = key;
        }
      }
      const instant = row.instant;
      if (instant > maxInstant) maxInstant = instant;
      keys[count] = key;
      instants[count] = instant;
      const u0 = row.units[first]!;
      const u1 = second >= 0 ? row.units[second]! : 0;
      const s0 = row.scales[first]!;
      const s1 = second >= 0 ? row.scales[second]! : 0;
      if (typeof u0 === 'number' && typeof u1 === 'number' && s0 <= 255 && s1 <= 255) {
        units0[count] = u0;
        scales0[count] = s0;
        units1[count] = u1;
        scales1[count] = s1;
      } else {
        units0[count] = Number.NaN;
        batch.exact.push({ row: count, units0: u0, scale0: s0, units1: u1, scale1: s1 });
      }
      count++;
    }
    if (maxInstant > input.maxInstant) input.maxInstant = maxInstant;
    batch.count = count;
    batch.maxInstant = maxInstant;
    batch.read = count + batch.rejects.length;
    batch.timeKind = this.timeKind.kind;
    return batch;
  }

  async close(): Promise<void> {
    await Promise.all(this.inputs.map((i) => i.reader.close()));
  }
}
