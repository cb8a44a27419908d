// The log of one topic-partition: a list of segments, the append path with
// offset assignment and idempotence checks, reads for Fetch, long-poll
// waiting, ListOffsets lookups, retention and crash recovery.
//
// Offsets are assigned synchronously inside append() (so the order of calls
// is the order in the log), while the bytes go through a per-partition write
// queue drained by one async loop that coalesces queued appends into a
// single writev. The high watermark moves only after the bytes are written,
// so readers never see offsets whose bytes are not in the file yet.

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory } from './files.ts';
import type { FlushScheduler } from './flush-scheduler.ts';
import { ProducerStateTable } from './producer-state.ts';
import { BATCH_HEADER_BYTES, batchInfoAt, findRecord, scanBatches, validateBatches, writeInt64, type BatchInfo } from './record-batch.ts';
import { INDEX_INTERVAL_BYTES, Segment, listSegmentBases, segmentFileName } from './segment.ts';
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  StorageErrorCode,
  type Acks,
  type AppendResult,
  type FsyncMode,
  type OffsetForTimestampResult,
  type PartitionLog,
  type ReadResult,
  type StorageEvent,
  type StoreCounters,
} from './types.ts';

export interface PartitionConfig {
  onEvent: (event: StorageEvent) => void;
  fsync: FsyncMode;
  segmentBytes: number;
  retentionBytes: number;
  retentionMs: number;
  maxBatchBytes: number;
  now: () => number;
}

interface PendingWrite {
  records: Buffer;
  batches: BatchInfo[];
  resolve: (segment: Segment) => void;
  reject: (error: unknown) => void;
}

/** Most bytes (and buffers) coalesced into one writev. */
const MAX_WRITE_RUN_BYTES = 32 * 1024 * 1024;
const MAX_WRITE_RUN_BUFFERS = 512;
/** Segments verified batch by batch on recovery: the active one and the one before (it may have been rolled but not yet synced). */
const VERIFIED_TAIL_SEGMENTS = 2;
const EMPTY = Buffer.alloc(0);
/** Largest amount of data one read returns (beyond a single batch that is larger). */
const MAX_READ_BYTES = 8 * 1024 * 1024;

export class Partition implements PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  private readonly config: PartitionConfig;
  private readonly flusher: FlushScheduler;
  private readonly counters: StoreCounters;
  private readonly segments: Segment[] = [];
  private readonly producers = new ProducerStateTable();
  private readonly listeners = new Set<(log: PartitionLog) => void>();
  /** Next offset to assign (log end including queued, unwritten appends). */
  private nextOffset = 0;
  /** Offset after the last written batch: what readers may see. */
  private writtenEnd = 0;
  private queue: PendingWrite[] = [];
  private draining: Promise<void> | null = null;
  private failure: unknown = null;
  private closed = false;

  private constructor(dir: string, topic: string, partition: number, config: PartitionConfig, flusher: FlushScheduler, counters: StoreCounters) {
    this.dir = dir;
    this.topic = topic;
    this.partition = partition;
    this.config = config;
    this.flusher = flusher;
    this.counters = counters;
  }

  /**
   * Opens a partition directory, creating it when missing. Recovery: the
   * last segments are verified batch by batch and a torn tail is cut off
   * (with any later segment, since offsets must stay contiguous); producer
   * state is rebuilt from the verified batches.
   */
  static async open(dir: string, topic: string, partition: number, config: PartitionConfig, flusher: FlushScheduler, counters: StoreCounters): Promise<Partition> {
    const log = new Partition(dir, topic, partition, config, flusher, counters);
    await mkdir(dir, { recursive: true });
    const bases = listSegmentBases(await readdir(dir));
    if (bases.length === 0) {
      log.segments.push(await Segment.create(dir, 0));
      await fsyncDirectory(dir);
      return log;
    }
    for (let i = 0; i < bases.length; i++) {
      const verify = i >= bases.length - VERIFIED_TAIL_SEGMENTS;
      const { segment, truncated, droppedBytes, reason, batches } = await Segment.open(dir, bases[i]!, verify);
      log.segments.push(segment);
      if (truncated) config.onEvent({ type: 'truncated', topic, partition, segmentBaseOffset: segment.baseOffset, keptBytes: segment.size, droppedBytes, reason: reason ?? 'unreadable tail' });
      for (const b of batches) log.producers.record(b, b.baseOffset);
      const nextBase = bases[i + 1];
      if (nextBase !== undefined && (truncated || segment.nextOffset > nextBase)) {
        // Later segments cannot follow a cut or overlapping one: drop them.
        const dropped = bases.slice(i + 1);
        for (const base of dropped) {
          await rm(join(dir, segmentFileName(base, '.log')), { force: true });
          await rm(join(dir, segmentFileName(base, '.index')), { force: true });
        }
        config.onEvent({ type: 'segments-dropped', topic, partition, segmentBaseOffsets: dropped });
        await fsyncDirectory(dir);
        break;
      }
    }
    log.nextOffset = log.writtenEnd = log.active.nextOffset;
    return log;
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  get highWatermark(): number {
    return this.writtenEnd;
  }

  /** Total bytes of all segments. */
  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  async append(records: Buffer, acks: Acks): Promise<AppendResult> {
    if (this.closed || this.failure) return this.error(StorageErrorCode.KAFKA_STORAGE_ERROR, this.closed ? 'partition is closed' : `log failed: ${String(this.failure)}`);
    if (records.length > this.config.maxBatchBytes) return this.error(StorageErrorCode.MESSAGE_TOO_LARGE, `record set of ${records.length} bytes exceeds ${this.config.maxBatchBytes}`);
    const validation = validateBatches(records);
    if (validation.batches === null) return this.error(validation.errorCode, validation.errorMessage);
    const batches = validation.batches;
    const sequence = this.producers.check(batches);
    if (sequence.kind === 'duplicate') return this.answerDuplicate(sequence.baseOffset, acks);
    if (sequence.kind === 'error') return this.error(sequence.errorCode, sequence.errorMessage);

    const baseOffset = this.nextOffset;
    for (const batch of batches) {
      // Only baseOffset changes: it is outside the CRC, so the batch stays valid.
      writeInt64(records, batch.position, this.nextOffset);
      batch.baseOffset = this.nextOffset;
      this.producers.record(batch, this.nextOffset);
      this.nextOffset += batch.lastOffsetDelta + 1;
    }
    try {
      const segment = await this.enqueue(records, batches);
      if (acks !== 0 && this.config.fsync === 'always') await this.flusher.sync(segment);
    } catch (error) {
      if (!this.failure) {
        this.failure = error;
        this.config.onEvent({ type: 'log-failed', topic: this.topic, partition: this.partition, error: String(error) });
      }
      return this.error(StorageErrorCode.KAFKA_STORAGE_ERROR, `write failed: ${String(error)}`);
    }
    this.counters.appends++;
    this.counters.bytesAppended += records.length;
    return { errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, errorMessage: null };
  }

  /**
   * A retried batch is answered with its original offset, but only once the
   * original is as durable as a fresh append would be: the retry may arrive
   * while the original is still queued.
   */
  private async answerDuplicate(baseOffset: number, acks: Acks): Promise<AppendResult> {
    while (this.writtenEnd <= baseOffset && this.draining) await this.draining;
    if (this.writtenEnd <= baseOffset) return this.error(StorageErrorCode.KAFKA_STORAGE_ERROR, `log failed: ${String(this.failure)}`);
    if (acks !== 0 && this.config.fsync === 'always') {
      try {
        await this.flusher.sync(this.segments[this.segmentIndexFor(baseOffset, this.segments)]!);
      } catch (error) {
        this.failure ??= error;
        return this.error(StorageErrorCode.KAFKA_STORAGE_ERROR, `fsync failed: ${String(error)}`);
      }
    }
    return { errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, errorMessage: null };
  }

  private error(errorCode: number, errorMessage: string): AppendResult {
    return { errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: this.logStartOffset, errorMessage };
  }

  private enqueue(records: Buffer, batches: BatchInfo[]): Promise<Segment> {
    const { promise, resolve, reject } = Promise.withResolvers<Segment>();
    this.queue.push({ records, batches, resolve, reject });
    this.draining ??= this.drain();
    return promise;
  }

  /** The single writer. `first` runs before any queued write (used to roll an idle log). */
  private async drain(first?: () => Promise<void>): Promise<void> {
    let run: PendingWrite[] = [];
    try {
      if (first) await first();
      while (this.queue.length > 0) {
        let segment = this.active;
        run = [];
        let runBytes = 0;
        while (this.queue.length > 0 && runBytes < MAX_WRITE_RUN_BYTES && run.length < MAX_WRITE_RUN_BUFFERS) {
          const next = this.queue[0]!;
          const filled = segment.size + runBytes;
          if (filled > 0 && filled + next.records.length > this.config.segmentBytes) {
            if (run.length > 0) break;
            segment = await this.roll(next.batches[0]!.baseOffset);
            continue;
          }
          this.queue.shift();
          run.push(next);
          runBytes += next.records.length;
        }
        const indexEntries: Buffer[] = [];
        let position = segment.size;
        for (const entry of run) {
          for (const b of entry.batches) {
            const indexEntry = segment.noteBatch(b.baseOffset, b.lastOffsetDelta, b.maxTimestamp, position + b.position, b.size);
            if (indexEntry) indexEntries.push(indexEntry);
          }
          position += entry.records.length;
        }
        await segment.write(run.map((e) => e.records), runBytes, indexEntries);
        segment.lastWriteMs = this.config.now();
        this.writtenEnd = segment.nextOffset;
        for (const entry of run) entry.resolve(segment);
        run = [];
        this.notify();
      }
    } catch (error) {
      // A failed write or roll leaves the file in an unknown state: fail this log until it is reopened (and recovered).
      this.failure = error;
      this.config.onEvent({ type: 'log-failed', topic: this.topic, partition: this.partition, error: String(error) });
      for (const entry of [...run, ...this.queue.splice(0)]) entry.reject(error);
    } finally {
      this.draining = null;
    }
  }

  private async roll(baseOffset: number): Promise<Segment> {
    const previous = this.active;
    const segment = await Segment.create(this.dir, baseOffset);
    await fsyncDirectory(this.dir);
    this.segments.push(segment);
    // Acknowledged data of the previous segment is already synced; this makes its index durable too.
    if (this.config.fsync === 'always') previous.syncAll().catch(() => {});
    return segment;
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener(this);
      } catch {
        // A failing listener must not break the write path.
      }
    }
  }

  onAppend(listener: (log: PartitionLog) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForData(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.writtenEnd > offset) return Promise.resolve(true);
    if (this.closed || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const onAbort = (): void => finish(false);
      const unsubscribe = this.onAppend(() => {
        if (this.writtenEnd > offset) finish(true);
        else if (this.closed) finish(false);
      });
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async read(fetchOffset: number, maxBytes: number): Promise<ReadResult> {
    const highWatermark = this.writtenEnd;
    const logStartOffset = this.logStartOffset;
    const result = (errorCode: number, records: Buffer): ReadResult => ({ errorCode, records, highWatermark, logStartOffset });
    if (fetchOffset < logStartOffset || fetchOffset > highWatermark) return result(StorageErrorCode.OFFSET_OUT_OF_RANGE, EMPTY);
    if (fetchOffset === highWatermark) return result(0, EMPTY);
    const segments = this.segments.slice();
    for (let i = this.segmentIndexFor(fetchOffset, segments); i < segments.length; i++) {
      const segment = segments[i]!;
      const start = segment.baseOffset <= fetchOffset ? segment.lookup(fetchOffset).position : 0;
      const records = await this.readFromSegment(segment, start, fetchOffset, maxBytes);
      if (records.length > 0) return result(0, records);
    }
    return result(0, EMPTY);
  }

  /** Index of the last segment whose base offset is <= offset (0 when before all). */
  private segmentIndexFor(offset: number, segments: readonly Segment[]): number {
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Finds the first batch ending at or after fetchOffset, scanning forward
   * from an index position, and returns it plus the following batches that
   * fit in maxBytes. Usually one file read; a second one when the first
   * batch is larger than the window.
   */
  private async readFromSegment(segment: Segment, from: number, fetchOffset: number, maxBytes: number): Promise<Buffer> {
    let position = from;
    // Capped: a client asking for 50 MiB gets at most 8 MiB per fetch (it simply fetches again).
    const window = INDEX_INTERVAL_BYTES + Math.min(Math.max(maxBytes, 0), MAX_READ_BYTES);
    for (;;) {
      const chunk = await segment.read(position, window);
      if (chunk.length === 0) return EMPTY;
      const scan = scanBatches(chunk, 0, chunk.length, false);
      const first = scan.batches.findIndex((b) => b.baseOffset + b.lastOffsetDelta >= fetchOffset);
      if (first === -1) {
        if (scan.validEnd > 0) {
          position += scan.validEnd;
          continue;
        }
        if (!scan.incomplete || chunk.length < BATCH_HEADER_BYTES) return EMPTY;
        // The next batch is larger than the window: return it whole if it holds fetchOffset, else skip it.
        const big = batchInfoAt(chunk, 0);
        if (big.baseOffset + big.lastOffsetDelta >= fetchOffset) return segment.read(position, big.size);
        position += big.size;
        continue;
      }
      const head = scan.batches[first]!;
      let end = head.position + head.size;
      for (let i = first + 1; i < scan.batches.length; i++) {
        const b = scan.batches[i]!;
        if (b.position + b.size - head.position > Math.min(maxBytes, MAX_READ_BYTES)) break;
        end = b.position + b.size;
      }
      return chunk.subarray(head.position, end);
    }
  }

  async offsetForTimestamp(timestamp: number): Promise<OffsetForTimestampResult> {
    if (timestamp === LATEST_TIMESTAMP) return { errorCode: 0, offset: this.writtenEnd, timestamp: -1 };
    if (timestamp === EARLIEST_TIMESTAMP) return { errorCode: 0, offset: this.logStartOffset, timestamp: -1 };
    const segments = this.segments.slice();
    if (timestamp === MAX_TIMESTAMP) {
      let best: Segment | null = null;
      for (const s of segments) if (s.maxTimestamp >= 0 && (!best || s.maxTimestamp >= best.maxTimestamp)) best = s;
      if (!best) return { errorCode: 0, offset: -1, timestamp: -1 };
      const target = best.maxTimestamp;
      const found = await this.findBatch(best, 0, (b) => b.maxTimestamp === target, true);
      return found ? this.firstRecordAtOrAfter(best, found, target) : { errorCode: 0, offset: -1, timestamp: -1 };
    }
    if (timestamp < 0) return { errorCode: StorageErrorCode.INVALID_RECORD, offset: -1, timestamp: -1 };
    for (const segment of segments) {
      if (segment.maxTimestamp < timestamp) continue;
      const found = await this.findBatch(segment, segment.lookupTimestamp(timestamp).from, (b) => b.maxTimestamp >= timestamp, false);
      if (found) return this.firstRecordAtOrAfter(segment, found, timestamp);
    }
    return { errorCode: 0, offset: -1, timestamp: -1 };
  }

  /**
   * ListOffsets wants the first record with timestamp >= target. Uncompressed
   * CreateTime batches are walked record by record; for compressed ones the
   * batch start is returned (storage never decompresses), which only makes a
   * consumer skip ahead from slightly earlier records.
   */
  private async firstRecordAtOrAfter(segment: Segment, batch: BatchInfo, target: number): Promise<OffsetForTimestampResult> {
    const fallback = { errorCode: 0, offset: batch.baseOffset, timestamp: batch.maxTimestamp };
    const compressed = (batch.attributes & 7) !== 0;
    const logAppendTime = (batch.attributes & 8) !== 0;
    if (compressed || logAppendTime) return fallback;
    const bytes = await segment.read(batch.position, batch.size);
    if (bytes.length !== batch.size) return fallback;
    const found = findRecord(bytes, target);
    return found ? { errorCode: 0, offset: batch.baseOffset + found.offsetDelta, timestamp: found.timestamp } : fallback;
  }

  /** Scans batch headers of a segment from `from`; returns the first (or last, with `last`) match, with its position in the segment. */
  private async findBatch(segment: Segment, from: number, match: (b: BatchInfo) => boolean, last: boolean): Promise<BatchInfo | null> {
    let position = from;
    let found: BatchInfo | null = null;
    const window = 1024 * 1024;
    for (;;) {
      const chunk = await segment.read(position, window);
      if (chunk.length === 0) return found;
      const scan = scanBatches(chunk, 0, chunk.length, false);
      for (const b of scan.batches) {
        if (match(b)) {
          found = { ...b, position: position + b.position };
          if (!last) return found;
        }
      }
      if (scan.validEnd > 0) position += scan.validEnd;
      else if (scan.incomplete && chunk.length >= BATCH_HEADER_BYTES) {
        // A batch bigger than the window: its header is all we need.
        const big = { ...batchInfoAt(chunk, 0), position };
        if (match(big)) {
          found = big;
          if (!last) return big;
        }
        position += big.size;
      } else return found;
    }
  }

  /** Deletes whole old segments beyond the size or age limit; never the active one. */
  async enforceRetention(limits?: { retentionBytes: number; retentionMs: number }): Promise<number> {
    const retentionBytes = limits?.retentionBytes ?? this.config.retentionBytes;
    const retentionMs = limits?.retentionMs ?? this.config.retentionMs;
    const now = this.config.now();
    const active = this.active;
    if (retentionMs >= 0 && active.size > 0 && now - active.newestTime > retentionMs && !this.draining && !this.closed && !this.failure) {
      // Everything in the log has expired: roll (as Kafka's segment.ms would have) so the
      // old active segment can go too. Done as the writer, so no append can slip in between.
      const rolled = this.drain(async () => {
        await this.roll(this.nextOffset);
      });
      this.draining = rolled;
      await rolled;
    }
    let total = this.sizeBytes;
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const tooOld = retentionMs >= 0 && oldest.newestTime >= 0 && now - oldest.newestTime > retentionMs;
      const tooBig = retentionBytes >= 0 && total - oldest.size >= retentionBytes;
      if (!tooOld && !tooBig) break;
      this.segments.shift();
      total -= oldest.size;
      await oldest.retire();
      deleted++;
    }
    if (deleted > 0) {
      await fsyncDirectory(this.dir);
      this.config.onEvent({ type: 'retention', topic: this.topic, partition: this.partition, deletedSegments: deleted, logStartOffset: this.logStartOffset });
    }
    return deleted;
  }

  /** Waits for queued writes, makes everything durable, closes files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    await this.flusher.idle();
    if (!this.failure) await Promise.all(this.segments.map((s) => s.syncAll()));
    await Promise.all(this.segments.map((s) => s.close()));
    this.notify();
    this.listeners.clear();
  }

  /** Closes and removes the partition's directory. */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
