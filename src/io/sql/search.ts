// Search over stored NGINX events: a filter becomes one parameterised SELECT
// (user text only ever travels as a parameter, never inside the SQL). Shared
// by `streamwatch search` and the dashboard's log explorer.
import { UsageError } from '../../errors.ts';
import type { SqlParam, SqlSession } from './database.ts';

export interface SearchFilter {
  host?: string | undefined;
  /** `404`, `4xx`, or a comma list of those (`4xx,500`). */
  status?: string | undefined;
  /** Only events newer than now minus this many milliseconds. */
  sinceMs?: number | undefined;
  /** Epoch ms bounds (from inclusive, to exclusive). */
  fromMs?: number | undefined;
  toMs?: number | undefined;
  ip?: string | undefined;
  country?: string | undefined;
  /** Case-insensitive substring of the raw event (which holds the request line, path, user agent...). */
  text?: string | undefined;
  limit?: number | undefined;
}

export interface EventHit {
  ts: Date;
  host: string | null;
  client_ip: string;
  country: string;
  method: string;
  status: number;
  request_time: string | null;
  server: string | null;
  request: string | null;
  event_id: string;
}

export const MAX_LIMIT = 10_000;

/** Status ranges of `404`, `4xx`, `4xx,500` as [low, high] pairs. */
export function parseStatusFilter(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const item of text.split(',').map((s) => s.trim().toLowerCase())) {
    if (/^[1-5]xx$/.test(item)) {
      const base = Number(item[0]) * 100;
      ranges.push([base, base + 99]);
    } else if (/^[1-5]\d\d$/.test(item)) {
      ranges.push([Number(item), Number(item)]);
    } else {
      throw new UsageError(`--status: '${item}' is not a status (404) or a class (4xx)`);
    }
  }
  return ranges;
}

/** Escapes LIKE's wildcards so the text matches literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface BuiltQuery {
  text: string;
  params: SqlParam[];
}

export function buildSearch(filter: SearchFilter, now: number = Date.now()): BuiltQuery {
  const where: string[] = [];
  const params: SqlParam[] = [];
  const param = (value: SqlParam): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.host !== undefined) where.push(`host = ${param(filter.host)}`);
  if (filter.ip !== undefined) where.push(`client_ip = ${param(filter.ip)}`);
  if (filter.country !== undefined) where.push(`country = ${param(filter.country)}`);
  if (filter.status !== undefined) {
    const ranges = parseStatusFilter(filter.status);
    where.push(`(${ranges.map(([lo, hi]) => (lo === hi ? `status = ${param(lo)}` : `status BETWEEN ${param(lo)} AND ${param(hi)}`)).join(' OR ')})`);
  }
  if (filter.sinceMs !== undefined) where.push(`ts >= ${param(new Date(now - filter.sinceMs).toISOString())}::timestamptz`);
  if (filter.fromMs !== undefined) where.push(`ts >= ${param(new Date(filter.fromMs).toISOString())}::timestamptz`);
  if (filter.toMs !== undefined) where.push(`ts < ${param(new Date(filter.toMs).toISOString())}::timestamptz`);
  if (filter.text !== undefined && filter.text !== '') where.push(`raw ILIKE ${param(likePattern(filter.text))} ESCAPE '\\'`);
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`--limit: must be an integer in 1-${MAX_LIMIT}`);
  return {
    text: `SELECT ts, host, client_ip, country, method, status::integer AS status, request_time::text AS request_time, server, request, event_id
           FROM nginx_events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
           ORDER BY ts DESC, event_id LIMIT ${param(limit)}`,
    params,
  };
}

/** Matching events, newest first. */
export async function searchEvents(db: SqlSession, filter: SearchFilter, now?: number): Promise<EventHit[]> {
  const query = buildSearch(filter, now);
  const result = await db.query<EventHit>(query.text, query.params);
  return result.rows.map((r) => ({ ...r, ts: r.ts instanceof Date ? r.ts : new Date(r.ts), status: Number(r.status) }));
}
