// streamwatch search: prints stored NGINX events matching host, status,
// time, client IP, country and free text (newest first), as a table or as
// JSON lines.
import { flag, num, parse, str } from '../args.ts';
import { UsageError } from '../../errors.ts';
import { parseIsoInstant } from '../../engine/time.ts';
import { databaseFlagsHelp, databaseOptions, parseDuration } from '../../io/sql/cli-options.ts';
import { openDatabase } from '../../io/sql/open.ts';
import { buildSearch, MAX_LIMIT, searchEvents, type EventHit } from '../../io/sql/search.ts';

const help = `usage: streamwatch search [filters] [options]

Prints NGINX events stored by 'streamwatch sink postgres', newest first.

filters (all optional, combined with AND):
  --host X                  virtual host
  --status S                404, 4xx, or a list: 4xx,500
  --since D                 newer than now minus D (15m, 2h, 7d)
  --from ISO, --to ISO      time range (ISO 8601 with Z or an offset)
  --ip Y                    client IP
  --country C               country code
  --text T                  case-insensitive text anywhere in the event (path, request line, agent)
options:
  --limit N                 most events printed (default 100, at most ${MAX_LIMIT})
  --json                    one JSON object per line instead of a table
${databaseFlagsHelp}
  -h, --help                this help
`;

function instantFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoInstant(text);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: '${text}' is not an ISO 8601 instant with Z or an offset`);
  return ms;
}

function row(hit: EventHit): string[] {
  return [hit.ts.toISOString(), String(hit.status), hit.method, hit.host ?? '-', hit.client_ip, hit.country, hit.request_time ?? '-', hit.request ?? '-'];
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    host: { type: 'string' },
    status: { type: 'string' },
    since: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    ip: { type: 'string' },
    country: { type: 'string' },
    text: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(help);
    return 0;
  }
  const since = str(parsed, 'since');
  const filter = {
    host: str(parsed, 'host'),
    status: str(parsed, 'status'),
    sinceMs: since === undefined ? undefined : parseDuration('since', since),
    fromMs: instantFlag('from', str(parsed, 'from')),
    toMs: instantFlag('to', str(parsed, 'to')),
    ip: str(parsed, 'ip'),
    country: str(parsed, 'country'),
    text: str(parsed, 'text'),
    limit: num(parsed, 'limit', 100, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT),
  };
  // Bad filters are reported before any database is opened (or created).
  buildSearch(filter);
  const db = await openDatabase(databaseOptions({ url: str(parsed, 'database-url'), dataDir: str(parsed, 'data-dir') }));
  try {
    const hits = await searchEvents(db, filter);
    if (flag(parsed, 'json')) {
      for (const hit of hits) process.stdout.write(`${JSON.stringify({ ...hit, ts: hit.ts.toISOString() })}\n`);
    } else {
      const rows = [['TIME', 'STATUS', 'METHOD', 'HOST', 'CLIENT-IP', 'COUNTRY', 'REQUEST-TIME', 'REQUEST'], ...hits.map(row)];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      // Control characters of stored text would move the terminal's cursor: shown escaped.
      const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      for (const r of rows) process.stdout.write(`${r.map((cell, i) => (i === r.length - 1 ? clean(cell) : clean(cell).padEnd(widths[i]!))).join('  ')}\n`);
    }
    process.stderr.write(`streamwatch search: ${hits.length} event${hits.length === 1 ? '' : 's'}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
