// One batch of the sink: rows gathered per table and merged on their natural
// keys before they are written, then written in one transaction with one
// multi-row statement per table (arrays unnested server-side, so a batch of
// any size is 1 statement with a fixed number of parameters, under
// PostgreSQL's 65,535-parameter limit).
//
// Merging first is required, not an optimisation: an upsert statement may
// not touch the same row twice. For metrics it also gives the merge rule of
// SEMANTICS.md section 1: per field, a later message replaces an earlier
// one; a field a message does not carry is left as it is (null until seen).
import type { MetricField } from '../../engine/metric-record.ts';
import type { SqlSession } from './database.ts';
import type { EventRow, IncidentRow, MetricRow, TimelineState, WindowResultRow } from './records.ts';

export interface RejectRow {
  topic: string;
  partition: number;
  offset: number;
  reason: string;
  raw: string | null;
}

export interface WriteCounts {
  metrics: number;
  events: number;
  windows: number;
  incidents: number;
  rejects: number;
}

const iso = (ms: number): string => new Date(Math.floor(ms)).toISOString();

/** PostgreSQL text cannot hold NUL: raw input keeps every other character as it came. */
export const sqlText = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);

export class SinkBatch {
  readonly metrics = new Map<string, MetricRow>();
  readonly events = new Map<string, EventRow>();
  readonly windows = new Map<string, WindowResultRow>();
  readonly incidents = new Map<string, IncidentRow>();
  readonly rejects = new Map<string, RejectRow>();
  timelines: TimelineState[] = [];
  /** Records taken into the batch, valid or not. */
  records = 0;

  addMetric(row: MetricRow): void {
    const key = `${row.serverId}\u0000${row.ts}`;
    const seen = this.metrics.get(key);
    if (seen) Object.assign(seen.values, row.values);
    else this.metrics.set(key, { serverId: row.serverId, ts: row.ts, values: { ...row.values } });
  }

  addEvent(row: EventRow): void {
    if (!this.events.has(row.eventId)) this.events.set(row.eventId, row);
  }

  addWindow(row: WindowResultRow): void {
    this.windows.set(`${row.detector}\u0000${row.key}\u0000${row.windowStart}`, row);
  }

  addIncident(row: IncidentRow): void {
    this.incidents.set(`${row.detector}\u0000${row.key}\u0000${row.alert}\u0000${row.start}`, row);
  }

  addReject(row: RejectRow): void {
    this.rejects.set(`${row.topic}\u0000${row.partition}\u0000${row.offset}`, row);
  }

  /** Writes every table's rows; the caller runs this inside a transaction. Returns rows written per table. */
  async write(tx: SqlSession): Promise<WriteCounts> {
    const metrics = await this.writeMetrics(tx);
    const events = await this.writeEvents(tx);
    const windows = await this.writeWindows(tx);
    const incidents = await this.writeIncidents(tx);
    const rejects = await this.writeRejects(tx);
    await this.writeTimelines(tx);
    return { metrics, events, windows, incidents, rejects };
  }

  private async writeMetrics(tx: SqlSession): Promise<number> {
    if (this.metrics.size === 0) return 0;
    const rows = [...this.metrics.values()];
    const column = (field: MetricField): (string | null)[] => rows.map((r) => r.values[field] ?? null);
    const result = await tx.query(
      `INSERT INTO server_metrics AS m (server_id, ts, cpu_pct, mem_pct, net_in, net_out, disk_io)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[])
       ON CONFLICT (server_id, ts) DO UPDATE SET
         cpu_pct = COALESCE(EXCLUDED.cpu_pct, m.cpu_pct),
         mem_pct = COALESCE(EXCLUDED.mem_pct, m.mem_pct),
         net_in = COALESCE(EXCLUDED.net_in, m.net_in),
         net_out = COALESCE(EXCLUDED.net_out, m.net_out),
         disk_io = COALESCE(EXCLUDED.disk_io, m.disk_io)`,
      [rows.map((r) => r.serverId), rows.map((r) => iso(r.ts)), column('cpu_pct'), column('mem_pct'), column('net_in'), column('net_out'), column('disk_io')],
    );
    return result.rowCount;
  }

  private async writeEvents(tx: SqlSession): Promise<number> {
    if (this.events.size === 0) return 0;
    const rows = [...this.events.values()];
    const result = await tx.query(
      `INSERT INTO nginx_events (event_id, ts, client_ip, host, country, method, status, request_time, server, request, raw, source_topic, source_partition, source_offset)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::numeric[],
                            $9::text[], $10::text[], $11::text[], $12::text[], $13::integer[], $14::bigint[])
       ON CONFLICT (event_id) DO NOTHING`,
      [
        rows.map((r) => r.eventId), rows.map((r) => iso(r.ts)), rows.map((r) => r.clientIp), rows.map((r) => r.host), rows.map((r) => r.country),
        rows.map((r) => r.method), rows.map((r) => r.status), rows.map((r) => r.requestTime), rows.map((r) => r.server), rows.map((r) => (r.request === null ? null : sqlText(r.request))),
        rows.map((r) => sqlText(r.raw)), rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.offset),
      ],
    );
    return result.rowCount;
  }

  private async writeWindows(tx: SqlSession): Promise<number> {
    if (this.windows.size === 0) return 0;
    const rows = [...this.windows.values()];
    const result = await tx.query(
      `INSERT INTO window_results (detector, key, window_start, window_end, alert, avg_cpu, avg_mem, max_net_in, max_disk_io, count, avg_request_time, source_topic)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[],
                            $9::numeric[], $10::bigint[], $11::numeric[], $12::text[])
       ON CONFLICT (detector, key, window_start) DO UPDATE SET
         window_end = EXCLUDED.window_end, alert = EXCLUDED.alert, avg_cpu = EXCLUDED.avg_cpu, avg_mem = EXCLUDED.avg_mem,
         max_net_in = EXCLUDED.max_net_in, max_disk_io = EXCLUDED.max_disk_io, count = EXCLUDED.count,
         avg_request_time = EXCLUDED.avg_request_time, source_topic = EXCLUDED.source_topic`,
      [
        rows.map((r) => r.detector), rows.map((r) => r.key), rows.map((r) => iso(r.windowStart)), rows.map((r) => iso(r.windowEnd)), rows.map((r) => r.alert),
        rows.map((r) => r.values.avg_cpu ?? null), rows.map((r) => r.values.avg_mem ?? null), rows.map((r) => r.values.max_net_in ?? null),
        rows.map((r) => r.values.max_disk_io ?? null), rows.map((r) => r.values.count ?? null), rows.map((r) => r.values.avg_request_time ?? null),
        rows.map((r) => r.topic),
      ],
    );
    return result.rowCount;
  }

  private async writeIncidents(tx: SqlSession): Promise<number> {
    if (this.incidents.size === 0) return 0;
    const rows = [...this.incidents.values()];
    const result = await tx.query(
      `INSERT INTO incidents (detector, key, alert, start_ts, end_ts, windows, peak, state, source_topic)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::integer[], $7::numeric[], $8::text[], $9::text[])
       ON CONFLICT (detector, key, alert, start_ts) DO UPDATE SET
         end_ts = EXCLUDED.end_ts, windows = EXCLUDED.windows, peak = EXCLUDED.peak, state = EXCLUDED.state, source_topic = EXCLUDED.source_topic`,
      [
        rows.map((r) => r.detector), rows.map((r) => r.key), rows.map((r) => r.alert), rows.map((r) => iso(r.start)), rows.map((r) => iso(r.end)),
        rows.map((r) => r.windows), rows.map((r) => r.peak), rows.map((r) => r.state), rows.map((r) => r.topic),
      ],
    );
    return result.rowCount;
  }

  private async writeRejects(tx: SqlSession): Promise<number> {
    if (this.rejects.size === 0) return 0;
    const rows = [...this.rejects.values()];
    const result = await tx.query(
      `INSERT INTO sink_rejects (source_topic, source_partition, source_offset, reason, raw)
       SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[], $5::text[])
       ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING`,
      [rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.offset), rows.map((r) => sqlText(r.reason)), rows.map((r) => (r.raw === null ? null : sqlText(r.raw)))],
    );
    return result.rowCount;
  }

  private async writeTimelines(tx: SqlSession): Promise<void> {
    if (this.timelines.length === 0) return;
    await tx.query(
      `INSERT INTO sink_timelines AS t (source_topic, source_partition, latest_ms)
       SELECT * FROM unnest($1::text[], $2::integer[], $3::float8[])
       ON CONFLICT (source_topic, source_partition) DO UPDATE SET latest_ms = GREATEST(t.latest_ms, EXCLUDED.latest_ms)`,
      [this.timelines.map((t) => t.topic), this.timelines.map((t) => t.partition), this.timelines.map((t) => t.latestMs)],
    );
  }
}
