// NGINX access events (SEMANTICS.md section 4), from either of two line
// forms, told apart per line (a line starting with `{` is JSON):
//
// 1. A JSON object, as the Kafka producers send it:
//      {"server":"s_v3","client_ip":"154.85.126.16","method":"PUT","status":"201",
//       "request_time":"0.28","host":"api_38.digikala.com","country":"US",
//       "@timestamp":"1659509511.865323"}
//    Required: client_ip, host, country (non-empty text), status (integer
//    100-599), request_time (finite decimal >= 0), @timestamp (epoch
//    seconds; an ISO 8601 instant with `Z` or an offset is also accepted,
//    as Logstash writes it). status, request_time and @timestamp may be
//    strings or numbers; a JSON number is read as its shortest round-trip
//    decimal (what JSON.parse keeps), exact for up to 15 significant digits.
//    server and method are optional text. Other fields are ignored: real
//    log pipelines add their own.
//
// 2. The NGINX `combined` access-log format,
//      $remote_addr - $remote_user [$time_local] "$request" $status
//      $body_bytes_sent "$http_referer" "$http_user_agent"
//    and these common extensions of it:
//    - a virtual host before everything (`$host $remote_addr - $remote_user [...`),
//      recognised by four fields before `[` instead of three;
//    - fields after the user agent, each a quoted string or a bare token:
//      `rt=` / `request_time=` gives the request time, `host=` / `vhost=`
//      the virtual host; other `name=value` tokens, quoted strings (such as
//      $http_x_forwarded_for) and `-` are ignored; the first bare decimal
//      number is the request time ($request_time), the first other bare
//      token the virtual host ($host or $server_name).
//    host is the virtual host when the line has one, else the server name
//    given on the command line, else unknown (null): detectors keyed by host
//    then reject the line. The request time may be absent (null): only the
//    latency detector needs it. country is `--` (a log line has none).

import type { Decimal } from '../../engine/decimal.ts';
import type { NginxEvent } from '../../jobs/nginx-goals.ts';
import { parseEpochSeconds, parseIsoInstant } from '../../engine/time.ts';
import { parseNonNegative, parseStatus, quote, textProblem } from './fields.ts';

export type { NginxEvent };

export type Parsed<T> = { ok: true; event: T } | { ok: false; reason: string };

function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason };
}

/** One line of either form. `serverName` stands in for the host of combined lines without one. */
export function parseNginxLine(line: string, serverName: string | null = null): Parsed<NginxEvent> {
  let i = 0;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  return line.charCodeAt(i) === 123 /* { */ ? parseNginxJson(line) : parseCombinedLine(line, serverName);
}

/** A status, request time or timestamp given as a JSON string or number, as text; null when it is neither. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

/** Epoch seconds (or an ISO instant) as whole epoch milliseconds, or a reason. */
function parseEventTime(text: string): number | string {
  let ms = parseEpochSeconds(text);
  if (Number.isNaN(ms)) ms = parseIsoInstant(text);
  if (Number.isNaN(ms)) return `@timestamp ${quote(text)} is not epoch seconds`;
  return Math.floor(ms);
}

export function parseNginxJson(line: string): Parsed<NginxEvent> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail('not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not a JSON object');
  const record = value as Record<string, unknown>;

  const timeValue = record['@timestamp'];
  if (timeValue === undefined) return fail('@timestamp is missing');
  const timeText = scalarText(timeValue);
  if (timeText === null) return fail('@timestamp is not a string or number');
  const instant = parseEventTime(timeText);
  if (typeof instant === 'string') return fail(instant);

  for (const name of ['client_ip', 'host', 'country'] as const) {
    const problem = textProblem(name, record[name]);
    if (problem !== null) return fail(problem);
  }

  const statusValue = record.status;
  if (statusValue === undefined) return fail('status is missing');
  const statusText = scalarText(statusValue);
  if (statusText === null) return fail('status is not a string or number');
  const status = parseStatus(statusText);
  if (typeof status === 'string') return fail(status);

  const timeTakenValue = record.request_time;
  if (timeTakenValue === undefined) return fail('request_time is missing');
  const timeTakenText = scalarText(timeTakenValue);
  if (timeTakenText === null) return fail('request_time is not a string or number');
  const requestTime = parseNonNegative('request_time', timeTakenText);
  if (typeof requestTime === 'string') return fail(requestTime);

  let method = '-';
  if (record.method !== undefined) {
    const problem = textProblem('method', record.method);
    if (problem !== null) return fail(problem);
    method = record.method as string;
  }
  let server: string | null = null;
  if (record.server !== undefined) {
    if (typeof record.server !== 'string') return fail('server is not a string');
    server = record.server;
  }
  return {
    ok: true,
    event: {
      instant,
      clientIp: record.client_ip as string,
      host: record.host as string,
      country: record.country as string,
      method,
      status,
      requestTime,
      server,
    },
  };
}

// [vhost] addr ident user [time] "request" status bytes "referer" "agent" rest
const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const COMBINED = new RegExp(`^(?:(\\S+) )?(\\S+) (\\S+) (\\S+) \\[([^\\]]*)\\] ${QUOTED} (\\S+) (\\S+) ${QUOTED} ${QUOTED}(.*)$`);

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2})(\d{2})$/;

/** `$time_local` (`10/Oct/2000:13:55:36 -0700`) as epoch ms, or NaN. */
export function parseTimeLocal(text: string): number {
  const m = TIME_LOCAL.exec(text);
  if (!m) return Number.NaN;
  const [, d, mon, y, h, mi, s, frac = '', sign, oh, om] = m;
  const month = MONTHS[mon!];
  const day = Number(d);
  if (month === undefined || day < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(oh) > 23 || Number(om) > 59) return Number.NaN;
  const base = Date.UTC(Number(y), month, day, Number(h), Number(mi), Number(s));
  // Date.UTC rolls 31 Apr into 1 May: only real calendar dates round-trip.
  if (new Date(base).getUTCDate() !== day) return Number.NaN;
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const fracMs = frac === '' ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  return base - offset + fracMs;
}

const DECIMAL = /^\d+(?:\.\d*)?$|^\.\d+$/;

/** The fields after the user agent: quoted strings or bare tokens, separated by spaces. */
function trailingFields(rest: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  const n = rest.length;
  while (i < n) {
    if (rest.charCodeAt(i) === 32 || rest.charCodeAt(i) === 9) {
      i++;
      continue;
    }
    if (rest.charCodeAt(i) === 34) {
      let j = i + 1;
      while (j < n && rest.charCodeAt(j) !== 34) j += rest.charCodeAt(j) === 92 ? 2 : 1;
      if (j >= n) return null;
      // A quoted field is ignored whatever it holds; mark it so.
      fields.push('"');
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && rest.charCodeAt(j) !== 32 && rest.charCodeAt(j) !== 9) j++;
    fields.push(rest.slice(i, j));
    i = j;
  }
  return fields;
}

export function parseCombinedLine(line: string, serverName: string | null = null): Parsed<NginxEvent> {
  const m = COMBINED.exec(line);
  if (!m) return fail('not a JSON object nor an NGINX combined log line');
  const [, leadingHost, addr = '', , , timeLocal = '', request = '', statusText = '', bytes = '', , , rest = ''] = m;
  if (rest.length > 0 && rest.charCodeAt(0) !== 32 && rest.charCodeAt(0) !== 9) return fail('unexpected text after the user agent');
  const addrProblem = textProblem('remote_addr', addr);
  if (addrProblem !== null) return fail(addrProblem);
  const instant = parseTimeLocal(timeLocal);
  if (Number.isNaN(instant)) return fail(`time ${quote(timeLocal)} is not dd/Mon/yyyy:HH:MM:SS +hhmm`);
  const status = parseStatus(statusText);
  if (typeof status === 'string') return fail(status);
  if (bytes !== '-' && !/^\d+$/.test(bytes)) return fail(`body_bytes_sent ${quote(bytes)} is not a number`);

  let host: string | null = leadingHost ?? null;
  let timeTaken: string | null = null;
  const extra = trailingFields(rest);
  if (extra === null) return fail('unterminated quoted field after the user agent');
  for (const field of extra) {
    if (field === '"' || field === '-') continue;
    const eq = field.indexOf('=');
    if (eq > 0) {
      const name = field.slice(0, eq);
      const value = field.slice(eq + 1);
      if ((name === 'rt' || name === 'request_time') && timeTaken === null) timeTaken = value;
      else if ((name === 'host' || name === 'vhost') && host === null) host = value;
      continue;
    }
    if (DECIMAL.test(field)) {
      if (timeTaken === null) timeTaken = field;
    } else if (host === null) {
      host = field;
    }
  }
  let requestTime: Decimal | null = null;
  if (timeTaken !== null) {
    const parsed = parseNonNegative('request time', timeTaken);
    if (typeof parsed === 'string') return fail(parsed);
    requestTime = parsed;
  }
  host ??= serverName;
  if (host !== null) {
    const problem = textProblem('host', host);
    if (problem !== null) return fail(problem);
  }
  const method = /^[A-Z]{1,20} /.exec(request)?.[0].trimEnd() ?? '-';
  return {
    ok: true,
    event: { instant: Math.floor(instant), clientIp: addr, host, country: '--', method, status, requestTime, server: null },
  };
}
