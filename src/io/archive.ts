// The rolling archive: detector output rows (JSON messages) filed into
// time-partitioned CSV files, DIR/<topic>/<yyyy-mm-dd>/<HHMM>.csv, one file
// per `bucketMs` of the row's own time: `window_start` for window rows,
// `start` for incidents, else `ts`/`timestamp`/`@timestamp`. A row without
// a time that parses is filed by its Kafka timestamp (arrival) instead.
//
// Times of day (`20:53:00`) are placed as the SQL sink places them: on the
// reference date 1970-01-01 UTC, continuing on 1970-01-02 after midnight,
// on one timeline shared by all topics (see src/io/sql/records.ts for why),
// saved in DIR/.archive-state.json so a restart continues on the same day.
//
// Files are only ever replaced whole: at each flush every file that got rows
// is read back, merged with them on the rows' natural key (a row sent again
// replaces its earlier copy), written to a temporary file, fsynced and
// renamed over the old one. A reader never sees half a file, and a restart
// (which gets the uncommitted records again) rewrites the same content.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DayRollover, parseTime } from '../engine/time.ts';
import { formatCsv, parseCsvText } from './archive-csv.ts';

/** Fields that identify a row; `alert` too when the row is an incident (has `start`). */
const KEY_FIELDS = ['detector', 'server_id', 'client_ip', 'host', 'country', 'key', 'window_start', 'start', 'ts', 'timestamp', '@timestamp', 'partition', 'offset'];
const SHARED_TIMELINE = '*';
const TIME_FIELDS = ['window_start', 'start', 'ts', 'timestamp', '@timestamp'];

export interface ArchiveRecord {
  topic: string;
  partition: number;
  offset: number;
  value: Buffer | null;
  /** Kafka timestamp (ms): the fallback for rows without their own time. */
  timestamp: number;
}

export interface ArchiveCounts {
  rows: number;
  byArrival: number;
  invalid: number;
  filesWritten: number;
}

interface PendingFile {
  topic: string;
  header: string[];
  rows: Map<string, Record<string, string>>;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Topic names become directory names: anything but [A-Za-z0-9._-] is replaced. */
function safeName(topic: string): string {
  const name = topic.replace(/[^A-Za-z0-9._-]/g, '_');
  // `_rejects` is ours; `.` and `..` are not directories to write into.
  return name === '.' || name === '..' || name === '_rejects' ? `_${name}` : name;
}

export class ArchiveWriter {
  readonly dir: string;
  private readonly bucketMs: number;
  private readonly statePath: string;
  private readonly timelines = new Map<string, DayRollover>();
  private pending = new Map<string, PendingFile>();
  readonly counts: ArchiveCounts = { rows: 0, byArrival: 0, invalid: 0, filesWritten: 0 };

  constructor(dir: string, bucketMs: number) {
    this.dir = dir;
    this.bucketMs = bucketMs;
    this.statePath = join(dir, '.archive-state.json');
    if (existsSync(this.statePath)) {
      const saved = JSON.parse(readFileSync(this.statePath, 'utf8')) as { timelines?: Record<string, number | null> };
      const latest = Math.max(...Object.values(saved.timelines ?? {}).map((v) => v ?? Number.NEGATIVE_INFINITY));
      if (Number.isFinite(latest)) this.timeline(SHARED_TIMELINE).restore(latest);
    }
  }

  private timeline(key: string): DayRollover {
    let timeline = this.timelines.get(key);
    if (!timeline) {
      timeline = new DayRollover();
      this.timelines.set(key, timeline);
    }
    return timeline;
  }

  /** The row's instant, or null when it has no time that parses. */
  private instantOf(row: Record<string, unknown>): number | null {
    for (const name of TIME_FIELDS) {
      const value = row[name];
      if (typeof value !== 'string' && typeof value !== 'number') continue;
      const time = parseTime(String(value));
      if (time === null) return null;
      return time.kind === 'absolute' ? time.ms : this.timeline(SHARED_TIMELINE).place(time.ms);
    }
    return null;
  }

  /** Path of the file for an instant, relative to the archive directory. */
  filePath(topic: string, instant: number): string {
    const start = new Date(Math.floor(instant / this.bucketMs) * this.bucketMs);
    const day = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
    return join(safeName(topic), day, `${pad(start.getUTCHours())}${pad(start.getUTCMinutes())}.csv`);
  }

  private put(relative: string, topic: string, cells: Record<string, string>): void {
    let file = this.pending.get(relative);
    if (!file) {
      file = { topic, header: [], rows: new Map() };
      this.pending.set(relative, file);
    }
    for (const name of Object.keys(cells)) if (!file.header.includes(name)) file.header.push(name);
    file.rows.set(rowKey(cells), cells);
  }

  /**
   * Takes one record; false when it is not a JSON object: then it goes to
   * DIR/_rejects/<topic>.csv (partition, offset, reason, raw) instead.
   */
  add(record: ArchiveRecord): boolean {
    let row: unknown;
    try {
      row = record.value === null ? null : JSON.parse(record.value.toString('utf8'));
    } catch {
      row = null;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      this.counts.invalid++;
      const raw = record.value === null ? '' : record.value.toString('utf8');
      this.put(join('_rejects', `${safeName(record.topic)}.csv`), record.topic, {
        partition: String(record.partition), offset: String(record.offset), reason: 'value is not a JSON object', raw,
      });
      return false;
    }
    const object = row as Record<string, unknown>;
    let instant = this.instantOf(object);
    if (instant === null) {
      this.counts.byArrival++;
      instant = record.timestamp;
    }
    const cells: Record<string, string> = {};
    for (const [name, value] of Object.entries(object)) cells[name] = cell(value);
    this.put(this.filePath(record.topic, instant), record.topic, cells);
    this.counts.rows++;
    return true;
  }

  /** Rows waiting for the next flush. */
  get pendingFiles(): number {
    return this.pending.size;
  }

  /** Rewrites every file that got rows, then saves the timelines; returns the files written. */
  flush(): string[] {
    const written: string[] = [];
    for (const [relative, file] of this.pending) {
      const path = join(this.dir, relative);
      let header = file.header;
      const merged = new Map<string, Record<string, string>>();
      if (existsSync(path)) {
        const [oldHeader, ...oldRows] = parseCsvText(readFileSync(path, 'utf8'));
        if (oldHeader) {
          header = [...oldHeader, ...file.header.filter((h) => !oldHeader.includes(h))];
          for (const values of oldRows) {
            const cells: Record<string, string> = {};
            oldHeader.forEach((name, i) => (cells[name] = values[i] ?? ''));
            merged.set(rowKey(cells), cells);
          }
        }
      }
      for (const [key, cells] of file.rows) merged.set(key, cells);
      const rows = [...merged.values()].map((cells) => header.map((h) => cells[h] ?? ''));
      atomicWrite(path, formatCsv(header, rows));
      written.push(relative);
    }
    this.pending = new Map();
    const timelines: Record<string, number> = {};
    for (const [key, timeline] of this.timelines) if (Number.isFinite(timeline.snapshot())) timelines[key] = timeline.snapshot();
    atomicWrite(this.statePath, `${JSON.stringify({ version: 1, timelines })}\n`);
    this.counts.filesWritten += written.length;
    return written;
  }
}

function rowKey(cells: Record<string, string>): string {
  const parts: string[] = [];
  for (const name of KEY_FIELDS) if (cells[name] !== undefined) parts.push(`${name}=${cells[name]}`);
  if (cells.start !== undefined && cells.alert !== undefined) parts.push(`alert=${cells.alert}`);
  // A row without any key field is kept as a whole.
  return parts.length > 0 ? parts.join('\u0000') : JSON.stringify(cells);
}

/** Writes a temporary file next to `path`, fsyncs it, renames it over `path`, fsyncs the directory. */
export function atomicWrite(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
