// Batch mode of the log jobs: an NGINX events file (JSON lines or combined
// log lines, told apart per line) or a load-balancer log in, a CSV of the
// reported windows out, through the same PaneDetector the streaming
// commands run.
//
// Order independence as in metric-batch.ts: a first pass runs with a
// watermark trailing the input by `batchLateness`, so state stays bounded
// for large time-ordered files; if any line turns out later than that, the
// pass is abandoned and the file read again with the watermark held back
// until the end, which is exact for any order.
//
// Rows are sorted by window start, then key in plain code-point order (not
// the natural order of server ids: keys here are IPs, hosts and countries).
// Keys are compared as their UTF-8 bytes, which orders like code points.

import { formatUnits } from '../engine/decimal.ts';
import type { Incident } from '../engine/incidents.ts';
import type { PaneWindowResult } from '../engine/pane-windows.ts';
import { formatIso } from '../engine/time.ts';
import { StreamwatchError } from '../errors.ts';
import { LB_SUMMARY, lbInput } from '../jobs/lb-summary.ts';
import { nginxInput, type NginxGoal } from '../jobs/nginx-goals.ts';
import { PaneDetector, type PaneInput, type PaneJob } from '../jobs/pane-detector.ts';
import { csvLine } from './csv/fields.ts';
import { FileWriter, writeCsvFile } from './csv/file-writer.ts';
import { SortedRows } from './csv/sorted-rows.ts';
import { INCIDENTS_HEADER, REJECTS_HEADER } from './metric-batch.ts';
import { parseLbLine } from './parsers/lb.ts';
import { parseNginxLine } from './parsers/nginx.ts';
import { RawLineReader } from './raw-lines.ts';

/** How one log job reads lines and prints windows. */
export interface LogBatchJob {
  pane: PaneJob;
  /** Output columns. */
  header: readonly string[];
  /** Fills `input` from a non-blank line: true when it counts, false when filtered out, or a reject reason. */
  read(line: string, input: PaneInput): boolean | string;
  /** A reported window as output fields. */
  fields(result: PaneWindowResult): string[];
}

export function nginxBatchJob(goal: NginxGoal, serverName: string | null): LogBatchJob {
  return {
    pane: goal,
    header: ['window_start', 'window_end', goal.keyName, goal.valueName],
    read(line, input) {
      const parsed = parseNginxLine(line, serverName);
      if (!parsed.ok) return parsed.reason;
      return nginxInput(goal, parsed.event, input);
    },
    fields: (r) => [formatIso(r.start), formatIso(r.end), r.key, goal.aggregate === 'mean' ? formatUnits(r.value, goal.digits) : String(r.count)],
  };
}

export const LB_BATCH_JOB: LogBatchJob = {
  pane: LB_SUMMARY,
  header: LB_SUMMARY.columns,
  read(line, input) {
    const parsed = parseLbLine(line);
    if (!parsed.ok) return parsed.reason;
    lbInput(parsed.event, input);
    return true;
  },
  fields: (r) => [formatIso(r.start), formatIso(r.end), ...r.categories.map(String), formatUnits(r.value, LB_SUMMARY.digits)],
};

export interface LogBatchOptions {
  job: LogBatchJob;
  input: string;
  out: string;
  rejects?: string;
  incidents?: string;
  /** How far (ms of event time) lines may run behind before the exact second pass is needed. */
  batchLateness?: number;
}

export interface LogBatchSummary {
  read: number;
  rejected: number;
  /** Lines valid but left out by the job's filter (other statuses). */
  skipped: number;
  late: number;
  written: number;
  incidents: number;
  passes: number;
}

const DEFAULT_BATCH_LATENESS = 10 * 60_000;
const LINES_PER_TURN = 512;

export async function runLogBatch(options: LogBatchOptions): Promise<LogBatchSummary> {
  const envLateness = process.env.SW_BATCH_LATENESS ? Number(process.env.SW_BATCH_LATENESS) : DEFAULT_BATCH_LATENESS;
  const first = await runPass(options, options.batchLateness ?? envLateness);
  if (first !== 'retry') return first;
  const exact = await runPass(options, Number.POSITIVE_INFINITY);
  if (exact === 'retry') throw new Error('unbounded pass cannot be late');
  return { ...exact, passes: 2 };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A latin1-decoded line as text: bytes above 0x7f are UTF-8; null when they are not valid UTF-8. */
function decodeLine(line: string): string | null {
  if (!/[^\u0000-\u007f]/.test(line)) return line;
  try {
    return utf8.decode(Buffer.from(line, 'latin1'));
  } catch {
    return null;
  }
}

/** Text as latin1 characters of its UTF-8 bytes: compares like code points, and writes back byte for byte. */
function utf8Bytes(text: string): string {
  return /[^\u0000-\u007f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

async function runPass(options: LogBatchOptions, lateness: number): Promise<LogBatchSummary | 'retry'> {
  const { job } = options;
  const bounded = Number.isFinite(lateness);
  const sorted = new SortedRows('start-then-key');
  const incidents: Incident[] = [];
  let rowSpill: Promise<void> | undefined;
  const detector = new PaneDetector(job.pane, { lateness, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (result) => {
      const pending = sorted.add(utf8Bytes(result.key), result.start, csvLine(job.fields(result)));
      if (pending) rowSpill = pending;
    },
    incident: (incident, state) => {
      if (state === 'closed') incidents.push(incident);
    },
  });

  let reader: RawLineReader;
  try {
    reader = await RawLineReader.open(options.input);
  } catch (error) {
    throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `cannot read ${options.input}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const rejects = options.rejects ? await FileWriter.create(options.rejects, 'latin1') : null;
  rejects?.writeLine(REJECTS_HEADER);
  const source = utf8Bytes(options.input);
  const input: PaneInput = { key: '', instant: 0, units: 0, scale: 0, category: -1 };
  let read = 0;
  let rejected = 0;
  let skipped = 0;
  try {
    let done = false;
    while (!done) {
      for (let n = 0; n < LINES_PER_TURN; n++) {
        const raw = reader.next();
        if (raw === undefined) {
          await reader.fill();
          continue;
        }
        if (raw === null) {
          done = true;
          break;
        }
        if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim() === '')) continue;
        read++;
        const line = decodeLine(raw);
        const outcome = line === null ? 'not valid UTF-8' : job.read(line, input);
        if (outcome === true) {
          detector.add('0', input, 0);
          continue;
        }
        if (outcome === false) {
          skipped++;
          continue;
        }
        rejected++;
        if (rejects) {
          const pending = rejects.writeLine(csvLine([source, String(reader.lineNumber), utf8Bytes(outcome), raw]));
          if (pending) await pending;
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

    await writeCsvFile(options.out, job.header.join(','), (out) => sorted.writeTo(out));
    if (options.incidents) await writeLogIncidents(options.incidents, incidents);
    await rejects?.close();
    return { read, rejected, skipped, late: 0, written: sorted.count, incidents: incidents.length, passes: 1 };
  } catch (error) {
    await rejects?.abort();
    await sorted.discard();
    throw error;
  } finally {
    await reader.close();
  }
}

/**
 * Incidents of the log detectors, sorted like the rows (start, then key in
 * code-point order). The peak is a count, printed as an integer.
 */
export async function writeLogIncidents(path: string, incidents: Incident[]): Promise<void> {
  const keyed = incidents.map((incident) => ({ incident, key: utf8Bytes(incident.key) }));
  keyed.sort((a, b) => a.incident.start - b.incident.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || (a.incident.detector < b.incident.detector ? -1 : 1));
  await writeCsvFile(path, INCIDENTS_HEADER, async (out) => {
    for (const { incident: i } of keyed) {
      const pending = out.writeLine(csvLine([i.detector, i.key, i.alert, formatIso(i.start), formatIso(i.end), String(i.windows), String(i.peakUnits)]));
      if (pending) await pending;
    }
  });
}
