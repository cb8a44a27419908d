// One log segment: a `.log` file of record batches and its sparse `.index`.
// Both are named by the segment's base offset (20 digits, as Kafka does).
//
// Index entries (16 bytes, big-endian): offset relative to the segment base
// (i32), byte position of a batch start (i32), and the largest batch
// maxTimestamp seen in the segment up to and including that batch (i64).
// One entry is written for the first batch and then whenever at least
// INDEX_INTERVAL_BYTES were appended since the last one, so the index stays
// tiny while a lookup scans at most a few KiB plus one batch. The running
// timestamp lets ListOffsets-by-time and age-based retention work without
// a separate time index. The index is only a cache: recovery rebuilds it.

import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IndexEntries, type IndexEntry } from './index-entries.ts';
import { LOG_OVERHEAD, readInt64, scanBatches, writeInt64, type BatchInfo } from './record-batch.ts';

export type { IndexEntry } from './index-entries.ts';

export const INDEX_INTERVAL_BYTES = 4096;
const INDEX_ENTRY_BYTES = 16;
const RECOVERY_CHUNK_BYTES = 8 * 1024 * 1024;

export function segmentFileName(baseOffset: number, ext: '.log' | '.index'): string {
  return String(baseOffset).padStart(20, '0') + ext;
}

export class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  /** Bytes of whole batches written and visible to readers. */
  size = 0;
  /** Offset after the last batch in this segment. */
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment (-1 when empty). */
  maxTimestamp = -1;
  /** Wall-clock time of the last append (file mtime after a restart; -1 when never written). */
  lastWriteMs = -1;
  private readonly log: FileHandle;
  private readonly index: FileHandle;
  private readonly entries = new IndexEntries();
  private indexFileBytes = 0;
  private bytesSinceIndexEntry = 0;
  /** In-flight reads and syncs; the files close only when it drops to zero after retire(). */
  private refs = 0;
  private retired = false;
  private closed = false;
  private closedPromise: Promise<void> | null = null;

  private constructor(dir: string, baseOffset: number, log: FileHandle, index: FileHandle) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.logPath = join(dir, segmentFileName(baseOffset, '.log'));
    this.indexPath = join(dir, segmentFileName(baseOffset, '.index'));
    this.log = log;
    this.index = index;
  }

  /** Creates an empty segment (files truncated if they exist). */
  static async create(dir: string, baseOffset: number): Promise<Segment> {
    const log = await open(join(dir, segmentFileName(baseOffset, '.log')), 'w+');
    const index = await open(join(dir, segmentFileName(baseOffset, '.index')), 'w+');
    return new Segment(dir, baseOffset, log, index);
  }

  /**
   * Opens an existing segment. With verify, every batch is checked (length,
   * magic, CRC, contiguous offsets); the file is cut at the first bad byte and
   * the index rebuilt. Without it, the index file is trusted when it looks
   * sane, and only the bytes after its last entry are scanned.
   * Returns the segment and whether a torn tail was cut off.
   */
  static async open(dir: string, baseOffset: number, verify: boolean): Promise<{ segment: Segment; truncated: boolean; droppedBytes: number; reason: string | null; batches: BatchInfo[] }> {
    const log = await open(join(dir, segmentFileName(baseOffset, '.log')), 'r+');
    const index = await open(join(dir, segmentFileName(baseOffset, '.index')), 'a+').then(async (h) => {
      // 'a+' only to create it when missing; reopen for positional writes.
      await h.close();
      return open(join(dir, segmentFileName(baseOffset, '.index')), 'r+');
    });
    const segment = new Segment(dir, baseOffset, log, index);
    const { size: fileSize, mtimeMs } = await log.stat();
    segment.lastWriteMs = fileSize > 0 ? mtimeMs : -1;
    if (!verify) {
      const loaded = await segment.loadIndex(fileSize);
      if (loaded) {
        const last = segment.entries.last();
        const from = last ? last.position : 0;
        const tail = await segment.scanFrom(from, fileSize, false, -1, () => {});
        if (tail.validEnd === fileSize) {
          segment.size = fileSize;
          segment.maxTimestamp = last ? last.maxTimestamp : -1;
          for (const b of tail.batches) if (b.maxTimestamp > segment.maxTimestamp) segment.maxTimestamp = b.maxTimestamp;
          const lastBatch = tail.batches[tail.batches.length - 1];
          segment.nextOffset = lastBatch ? lastBatch.baseOffset + lastBatch.lastOffsetDelta + 1 : baseOffset;
          segment.bytesSinceIndexEntry = fileSize - from;
          return { segment, truncated: false, droppedBytes: 0, reason: null, batches: [] };
        }
      }
    }
    // Full scan: verify every batch and rebuild the index from scratch.
    segment.entries.clear();
    segment.bytesSinceIndexEntry = 0;
    const batches: BatchInfo[] = [];
    const result = await segment.scanFrom(0, fileSize, verify, baseOffset, (b) => {
      batches.push(b);
      segment.noteBatch(b.baseOffset, b.lastOffsetDelta, b.maxTimestamp, b.position, b.size);
    });
    segment.size = result.validEnd;
    const truncated = result.validEnd < fileSize;
    if (truncated) await log.truncate(result.validEnd);
    await segment.rewriteIndexFile();
    return { segment, truncated, droppedBytes: fileSize - result.validEnd, reason: result.stopReason, batches };
  }

  /** Byte count of the segment on disk. */
  get bytes(): number {
    return this.size;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /**
   * Age used by retention: the later of the newest record timestamp and the
   * last append. Kafka uses the timestamp alone, which deletes replayed
   * historical data (old CreateTime) as soon as it is rolled; here data
   * always stays at least retention.ms after it arrived.
   */
  get newestTime(): number {
    return Math.max(this.maxTimestamp, this.lastWriteMs);
  }

  /**
   * Records index bookkeeping for a batch written at `position`; returns
   * the 16 index bytes to persist, or null when no entry is due.
   */
  noteBatch(baseOffset: number, lastOffsetDelta: number, maxTimestamp: number, position: number, size: number): Buffer | null {
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    this.nextOffset = baseOffset + lastOffsetDelta + 1;
    let entryBytes: Buffer | null = null;
    if (this.entries.length === 0 || this.bytesSinceIndexEntry >= INDEX_INTERVAL_BYTES) {
      const entry = { relativeOffset: baseOffset - this.baseOffset, position, maxTimestamp: this.maxTimestamp };
      this.entries.push(entry);
      entryBytes = Buffer.allocUnsafe(INDEX_ENTRY_BYTES);
      entryBytes.writeInt32BE(entry.relativeOffset, 0);
      entryBytes.writeInt32BE(entry.position, 4);
      writeInt64(entryBytes, 8, entry.maxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
    return entryBytes;
  }

  /** Appends whole batches at the current end; the caller updates bookkeeping via noteBatch first. */
  async write(buffers: Buffer[], totalBytes: number, indexBytes: Buffer[]): Promise<void> {
    const writes: Promise<void>[] = [writeFully(this.log, buffers, this.size)];
    if (indexBytes.length > 0) {
      const indexBuffer = indexBytes.length === 1 ? indexBytes[0]! : Buffer.concat(indexBytes);
      writes.push(writeFully(this.index, [indexBuffer], this.indexFileBytes));
      this.indexFileBytes += indexBuffer.length;
    }
    await Promise.all(writes);
    this.size += totalBytes;
  }

  /** Position of the last index entry at or before `offset` (0 if none). */
  lookup(offset: number): IndexEntry {
    const i = this.entries.floorByOffset(offset - this.baseOffset);
    return i < 0 ? { relativeOffset: 0, position: 0, maxTimestamp: -1 } : this.entries.at(i);
  }

  /** Where to start scanning for the first batch whose maxTimestamp reaches `timestamp`. */
  lookupTimestamp(timestamp: number): { from: number } {
    const i = this.entries.firstReachingTimestamp(timestamp);
    // Batches between entry i-1 and i can hold the first matching timestamp.
    return { from: i > 0 ? this.entries.at(i - 1).position : 0 };
  }

  /** Reads up to `length` bytes at `position` (short at the end of data). */
  async read(position: number, length: number): Promise<Buffer> {
    const end = Math.min(this.size, position + length);
    // A segment deleted by retention after the caller picked it reads as empty; the next fetch sees the new log start.
    if (end <= position || this.closed || this.retired) return Buffer.alloc(0);
    this.refs++;
    try {
      const buf = Buffer.allocUnsafe(end - position);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await this.log.read(buf, done, buf.length - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === buf.length ? buf : buf.subarray(0, done);
    } finally {
      this.release();
    }
  }

  /** fdatasync of the log file; a retired segment is skipped (its data is gone anyway). */
  async datasync(): Promise<void> {
    if (this.closed || this.retired) return;
    this.refs++;
    try {
      await this.log.datasync();
    } finally {
      this.release();
    }
  }

  /** fsync of the log and index files (used when rolling and closing). */
  async syncAll(): Promise<void> {
    if (this.closed) return;
    this.refs++;
    try {
      await Promise.all([this.log.sync(), this.index.sync()]);
    } finally {
      this.release();
    }
  }

  /** Deletes the files; the handles close once in-flight reads finish. */
  async retire(): Promise<void> {
    this.retired = true;
    await Promise.all([rm(this.logPath, { force: true }), rm(this.indexPath, { force: true })]);
    if (this.refs === 0) await this.close();
  }

  /** Closes the files once in-flight reads and syncs are done; new ones see an empty segment. */
  close(): Promise<void> {
    if (!this.closedPromise) {
      this.closed = true;
      this.closedPromise = this.idle().then(() => Promise.all([this.log.close(), this.index.close()])).then(() => undefined);
    }
    return this.closedPromise;
  }

  private idleWaiters: (() => void)[] = [];

  private idle(): Promise<void> {
    if (this.refs === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    this.refs--;
    if (this.refs !== 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.retired) this.close().catch(() => {}); // the files are already deleted
  }

  private async loadIndex(logSize: number): Promise<boolean> {
    const indexSize = (await this.index.stat()).size;
    if (indexSize === 0 || indexSize % INDEX_ENTRY_BYTES !== 0) return logSize === 0 && indexSize === 0;
    const buf = Buffer.allocUnsafe(indexSize);
    const { bytesRead } = await this.index.read(buf, 0, indexSize, 0);
    if (bytesRead !== indexSize) return false;
    let prev: IndexEntry | null = null;
    for (let at = 0; at < indexSize; at += INDEX_ENTRY_BYTES) {
      const entry = { relativeOffset: buf.readInt32BE(at), position: buf.readInt32BE(at + 4), maxTimestamp: readInt64(buf, at + 8) };
      const sane = prev
        ? entry.relativeOffset > prev.relativeOffset && entry.position > prev.position && entry.maxTimestamp >= prev.maxTimestamp
        : entry.relativeOffset === 0 && entry.position === 0;
      if (!sane || entry.position >= logSize) return false;
      this.entries.push(entry);
      prev = entry;
    }
    this.indexFileBytes = indexSize;
    return true;
  }

  private async rewriteIndexFile(): Promise<void> {
    const buf = Buffer.allocUnsafe(this.entries.length * INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries.at(i);
      buf.writeInt32BE(e.relativeOffset, i * INDEX_ENTRY_BYTES);
      buf.writeInt32BE(e.position, i * INDEX_ENTRY_BYTES + 4);
      writeInt64(buf, i * INDEX_ENTRY_BYTES + 8, e.maxTimestamp);
    }
    await this.index.truncate(0);
    if (buf.length > 0) await writeFully(this.index, [buf], 0);
    this.indexFileBytes = buf.length;
  }

  /** Walks batches from `from` to `to` in chunks, so huge segments need bounded memory. */
  async scanFrom(from: number, to: number, verify: boolean, expectedNextOffset: number, onBatch: (b: BatchInfo) => void): Promise<{ validEnd: number; batches: BatchInfo[]; stopReason: string | null }> {
    let at = from;
    let next = expectedNextOffset;
    const all: BatchInfo[] = [];
    let chunkBytes = RECOVERY_CHUNK_BYTES;
    while (at < to) {
      const length = Math.min(chunkBytes, to - at);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await this.log.read(chunk, 0, length, at);
      const result = scanBatches(chunk, 0, bytesRead, verify, next);
      for (const b of result.batches) {
        const batch = { ...b, position: b.position + at };
        all.push(batch);
        onBatch(batch);
        next = b.baseOffset + b.lastOffsetDelta + 1;
      }
      const advanced = result.validEnd;
      if (result.stopReason !== null && !result.incomplete) return { validEnd: at + advanced, batches: all, stopReason: result.stopReason };
      if (result.incomplete && at + bytesRead >= to) return { validEnd: at + advanced, batches: all, stopReason: result.stopReason };
      if (result.incomplete && advanced === 0) {
        // One batch bigger than the chunk: read exactly that batch next time.
        if (bytesRead < LOG_OVERHEAD) return { validEnd: at, batches: all, stopReason: 'truncated header' };
        const needed = chunk.readInt32BE(8) + LOG_OVERHEAD;
        if (needed <= chunkBytes || at + needed > to) return { validEnd: at, batches: all, stopReason: 'truncated batch' };
        chunkBytes = needed;
        continue;
      }
      chunkBytes = RECOVERY_CHUNK_BYTES;
      at += advanced;
    }
    return { validEnd: at, batches: all, stopReason: null };
  }
}

/** Positional write that retries short writes (files rarely do them, but they may). */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let pos = position;
  for (;;) {
    const total = pending.reduce((n, b) => n + b.length, 0);
    if (total === 0) return;
    const { bytesWritten } = pending.length === 1 ? await handle.write(pending[0]!, 0, pending[0]!.length, pos) : await handle.writev(pending, pos);
    if (bytesWritten === total) return;
    pos += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    pending = rest;
  }
}

/** Base offsets of the segments in a partition directory, ascending. */
export function listSegmentBases(names: string[]): number[] {
  return names
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
