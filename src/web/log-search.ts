// The log explorer's backend: the text a person types
// (`status:4xx host:api_38.digikala.com ip:1.2.3.4 country:IR since:15m slow`)
// becomes the storage's SearchFilter (src/io/sql/search.ts, shared with
// `streamwatch search`), and the hits become table rows for the page.

import { UsageError } from '../errors.ts';
import { parseDuration } from '../io/sql/cli-options.ts';
import type { SqlSession } from '../io/sql/database.ts';
import { searchEvents, type SearchFilter } from '../io/sql/search.ts';
import type { SearchFunction, SearchQuery } from './server.ts';

const FIELDS = new Set(['status', 'host', 'ip', 'country', 'since', 'text']);

/** Parses `field:value` terms; any other word is free text (matched anywhere in the event). */
export function parseLogQuery(query: SearchQuery): SearchFilter {
  const filter: SearchFilter = { limit: query.limit };
  const words: string[] = [];
  for (const term of query.q.trim().split(/\s+/).filter(Boolean)) {
    const colon = term.indexOf(':');
    const field = colon > 0 ? term.slice(0, colon).toLowerCase() : '';
    // `ip:` also catches IPv6 text (its value keeps the later colons).
    if (!FIELDS.has(field)) {
      words.push(term);
      continue;
    }
    const value = term.slice(colon + 1);
    if (value === '') throw new UsageError(`'${field}:' needs a value`);
    if (field === 'since') filter.sinceMs = parseDuration('since', value);
    else if (field === 'status') filter.status = value;
    else if (field === 'host') filter.host = value;
    else if (field === 'ip') filter.ip = value;
    else if (field === 'country') filter.country = value.toUpperCase();
    else words.push(value);
  }
  if (words.length > 0) filter.text = words.join(' ');
  if (query.from !== undefined) filter.fromMs = query.from;
  if (query.to !== undefined) filter.toMs = query.to;
  return filter;
}

export const LOG_COLUMNS = ['time', 'status', 'method', 'host', 'client_ip', 'country', 'request_time', 'request'];

/** A SearchFunction over a storage session, for startDashboard's `search` option. */
export function databaseSearch(db: SqlSession): SearchFunction {
  return async (query) => {
    const hits = await searchEvents(db, parseLogQuery(query));
    return {
      columns: LOG_COLUMNS,
      rows: hits.map((h) => [h.ts.toISOString(), h.status, h.method, h.host, h.client_ip, h.country, h.request_time, h.request]),
    };
  };
}
