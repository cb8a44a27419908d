// The PostgreSQL sink's loop: records are taken from a consumer, decoded,
// merged into a batch, and the batch is written in one transaction when it
// holds `batchSize` records or its first record waited `flushIntervalMs`.
// Kafka offsets are committed only after that transaction committed: a crash
// in between redelivers the batch, and the upserts make the second write a
// no-op (at-least-once delivery, exactly-once effect).
import type { Database } from './database.ts';
import { SinkBatch, type WriteCounts } from './batch.ts';
import { RecordDecoder, type SourceRecord, type TimelineState, type TopicSpec } from './records.ts';

export interface SinkSourceRecord extends SourceRecord {
  offset: number;
}

/** What the sink needs of a consumer (GroupConsumer has it; tests pass fakes). */
export interface SinkSource {
  poll(maxWaitMs: number): Promise<SinkSourceRecord[]>;
  commit(offsets: ReadonlyArray<{ topic: string; partition: number; offset: number }>): Promise<void>;
}

export interface SinkOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Stop after this long without a record (flushed and committed); undefined runs until `signal`. */
  untilIdleMs?: number | undefined;
  signal?: AbortSignal;
  log?: (line: string) => void;
  now?: () => number;
  /** Waits before each new attempt after a lost connection (default 0.5, 1, 2, 4, 8 s). */
  retryDelaysMs?: readonly number[];
  /** Test hook: wait this long between the database commit and the Kafka commit. */
  holdBeforeCommitMs?: number;
}

export interface SinkTotals extends WriteCounts {
  records: number;
  batches: number;
  /** Records that failed validation (each stored once in sink_rejects). */
  invalid: number;
  /** Offset commits that failed (e.g. during a rebalance); those records will be redelivered, harmlessly. */
  commitFailures: number;
}

const MAX_REJECT_RAW = 64 * 1024;

/** Socket errors, and SQLSTATE class 08 (connection exception) and 57P01-57P03 (server shutting down or starting). */
export function isConnectionLoss(error: unknown): boolean {
  for (let current = error as { code?: unknown; cause?: unknown; message?: unknown } | null, depth = 0; current && depth < 5; depth++) {
    const code = typeof current.code === 'string' ? current.code : '';
    if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)$/.test(code) || /^08/.test(code) || /^57P0[123]$/.test(code)) return true;
    if (typeof current.message === 'string' && /Connection terminated|connection timeout/i.test(current.message)) return true;
    current = current.cause as typeof current;
  }
  return false;
}

export class PostgresSink {
  private readonly db: Database;
  private readonly source: SinkSource;
  private readonly decoder: RecordDecoder;
  private readonly options: SinkOptions;
  private readonly now: () => number;
  private pending: SinkSourceRecord[] = [];
  private pendingSince = 0;
  readonly totals: SinkTotals = { records: 0, batches: 0, invalid: 0, metrics: 0, events: 0, windows: 0, incidents: 0, rejects: 0, commitFailures: 0 };

  constructor(db: Database, source: SinkSource, topics: readonly TopicSpec[], options: SinkOptions) {
    this.db = db;
    this.source = source;
    this.decoder = new RecordDecoder(topics);
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Loads the saved timelines of times of day (call once before run). */
  async restore(): Promise<void> {
    const saved = await this.db.query<{ source_topic: string; source_partition: number; latest_ms: number }>(
      'SELECT source_topic, source_partition, latest_ms FROM sink_timelines',
    );
    const states: TimelineState[] = saved.rows.map((r) => ({ topic: r.source_topic, partition: Number(r.source_partition), latestMs: Number(r.latest_ms) }));
    this.decoder.restore(states);
  }

  async run(): Promise<SinkTotals> {
    await this.restore();
    const { batchSize, flushIntervalMs, untilIdleMs, signal } = this.options;
    let lastRecordAt = this.now();
    while (!signal?.aborted) {
      const waitFor = this.pending.length > 0 ? Math.max(1, Math.min(1000, this.pendingSince + flushIntervalMs - this.now())) : 1000;
      const records = await this.source.poll(untilIdleMs === undefined ? waitFor : Math.min(waitFor, Math.max(1, untilIdleMs)));
      const now = this.now();
      if (records.length > 0) {
        if (this.pending.length === 0) this.pendingSince = now;
        for (const r of records) this.pending.push(r);
        lastRecordAt = now;
      }
      while (this.pending.length >= batchSize) await this.flush(batchSize);
      if (this.pending.length > 0 && now - this.pendingSince >= flushIntervalMs) await this.flush(this.pending.length);
      if (untilIdleMs !== undefined && records.length === 0 && now - lastRecordAt >= untilIdleMs) break;
    }
    while (this.pending.length > 0) await this.flush(Math.min(batchSize, this.pending.length));
    return this.totals;
  }

  /**
   * Writes a batch, trying again when the server connection was lost (a
   * restart, a network cut): nothing was committed to Kafka, and the
   * upserts make a second attempt safe whether or not the first committed.
   * Other failures (a statement refused) end the run at once.
   */
  private async writeWithRetries(batch: SinkBatch): Promise<WriteCounts> {
    const delays = this.options.retryDelaysMs ?? [500, 1000, 2000, 4000, 8000];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction((tx) => batch.write(tx));
      } catch (error) {
        const delay = delays[attempt];
        if (delay === undefined || !isConnectionLoss(error)) throw error;
        this.options.log?.(`writing batch ${this.totals.batches + 1} failed (${(error as Error).message}); trying again in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Writes the first `count` pending records in one transaction, then commits their offsets. */
  private async flush(count: number): Promise<void> {
    const records = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    this.pendingSince = this.now();
    const batch = new SinkBatch();
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    for (const record of records) {
      const decoded = this.decoder.decode(record);
      switch (decoded.table) {
        case 'metrics': batch.addMetric(decoded.row); break;
        case 'events': batch.addEvent(decoded.row); break;
        case 'windows': batch.addWindow(decoded.row); break;
        case 'incidents': batch.addIncident(decoded.row); break;
        case 'rejects': {
          const raw = record.value === null ? null : record.value.toString('utf8');
          batch.addReject({ topic: record.topic, partition: record.partition, offset: record.offset, reason: decoded.reason, raw: raw !== null && raw.length > MAX_REJECT_RAW ? raw.slice(0, MAX_REJECT_RAW) : raw });
          break;
        }
      }
      const key = `${record.topic}:${record.partition}`;
      const seen = next.get(key);
      if (!seen || seen.offset <= record.offset) next.set(key, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
    }
    batch.timelines = this.decoder.takeChangedTimelines();
    const started = this.now();
    const counts = await this.writeWithRetries(batch);
    this.totals.batches++;
    this.totals.records += records.length;
    this.totals.invalid += batch.rejects.size;
    for (const name of ['metrics', 'events', 'windows', 'incidents', 'rejects'] as const) this.totals[name] += counts[name];
    this.options.log?.(
      `batch ${this.totals.batches}: ${records.length} records in ${this.now() - started} ms (metric rows ${counts.metrics}, events ${counts.events}, windows ${counts.windows}, incidents ${counts.incidents}, rejects ${batch.rejects.size})`,
    );
    if (this.options.holdBeforeCommitMs) {
      this.options.log?.(`batch ${this.totals.batches} stored; holding ${this.options.holdBeforeCommitMs} ms before committing offsets`);
      await new Promise((resolve) => setTimeout(resolve, this.options.holdBeforeCommitMs));
    }
    try {
      await this.source.commit([...next.values()]);
    } catch (error) {
      this.totals.commitFailures++;
      this.options.log?.(`committing offsets failed (the batch is stored; its records may be delivered again, harmlessly): ${(error as Error).message}`);
    }
  }
}
