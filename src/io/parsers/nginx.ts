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
import { MAX_TEXT, parseNonNegative, parseStatus, quote, textProblem } from './fields.ts';

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
  const event = scanPlainJson(line);
  return event !== null ? { ok: true, event } : parseNginxJsonFull(line);
}

// The fast path: a character scanner for the common shape of a JSON event,
// a flat object whose values are strings without escapes or plain JSON
// numbers. It only ever accepts: anything it does not recognise or that
// fails a check (escapes, nested values, literals, an ISO timestamp, a
// request time with more than 15 significant digits, a bad field...) goes
// to the full path above, which also gives every reject reason, so both
// agree on any input (test/io/parsers/nginx-fast.test.ts checks it).

/** Field ids of the scanner. */
const F_TIMESTAMP = 0;
const F_CLIENT_IP = 1;
const F_HOST = 2;
const F_COUNTRY = 3;
const F_STATUS = 4;
const F_REQUEST_TIME = 5;
const F_METHOD = 6;
const F_SERVER = 7;
const FIELD_COUNT = 8;

/** Where each field's value lies in the line (quotes excluded for strings); -1: absent. Reused: one scan at a time. */
const valueStart = new Int32Array(FIELD_COUNT);
const valueEnd = new Int32Array(FIELD_COUNT);
/** 1 when the value is a string, 0 a number. */
const valueIsString = new Uint8Array(FIELD_COUNT);
/** 1 when a string value holds DEL (0x7f), the one control character the scanner lets through. */
const valueHasDel = new Uint8Array(FIELD_COUNT);

/** The field a key names, or -1 for a key the parser ignores. The key is line[start, end), without quotes. */
function fieldOf(line: string, start: number, end: number): number {
  switch (end - start) {
    case 4:
      return line.startsWith('host', start) ? F_HOST : -1;
    case 6:
      if (line.startsWith('status', start)) return F_STATUS;
      if (line.startsWith('method', start)) return F_METHOD;
      return line.startsWith('server', start) ? F_SERVER : -1;
    case 7:
      return line.startsWith('country', start) ? F_COUNTRY : -1;
    case 9:
      return line.startsWith('client_ip', start) ? F_CLIENT_IP : -1;
    case 10:
      return line.startsWith('@timestamp', start) ? F_TIMESTAMP : -1;
    case 12:
      return line.startsWith('request_time', start) ? F_REQUEST_TIME : -1;
    default:
      return -1;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** End of the JSON number starting at i, or -1 when the text there is not one. */
function numberEnd(line: string, i: number): number {
  const n = line.length;
  if (line.charCodeAt(i) === 45 /* - */) i++;
  let c = line.charCodeAt(i);
  if (c === 48 /* 0 */) i++;
  else if (c >= 49 && c <= 57) {
    while (i < n && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
  } else return -1;
  if (line.charCodeAt(i) === 46 /* . */) {
    const from = ++i;
    while (i < n && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
    if (i === from) return -1;
  }
  c = line.charCodeAt(i);
  if (c === 101 || c === 69 /* e E */) {
    i++;
    c = line.charCodeAt(i);
    if (c === 43 || c === 45) i++;
    const from = i;
    while (i < n && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
    if (i === from) return -1;
  }
  return i;
}

/** Finds the fields of a flat JSON object of strings (no escapes) and plain numbers; false for any other shape. */
function scanFields(line: string): boolean {
  valueStart.fill(-1);
  const n = line.length;
  let i = 0;
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 123 /* { */) return false;
  i++;
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) === 125 /* } */) i++;
  else {
    for (;;) {
      if (line.charCodeAt(i) !== 34 /* " */) return false;
      const keyStart = ++i;
      let c = 0;
      while (i < n && (c = line.charCodeAt(i)) !== 34) {
        if (c === 92 /* \ */ || c < 32) return false;
        i++;
      }
      if (i >= n) return false;
      const field = fieldOf(line, keyStart, i);
      i++;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      if (line.charCodeAt(i) !== 58 /* : */) return false;
      i++;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      c = line.charCodeAt(i);
      if (c === 34) {
        const start = ++i;
        let del = 0;
        while (i < n && (c = line.charCodeAt(i)) !== 34) {
          if (c === 92 || c < 32) return false;
          if (c === 127) del = 1;
          i++;
        }
        if (i >= n) return false;
        if (field >= 0) {
          // A repeated key: JSON.parse keeps the last value, and so does this.
          valueStart[field] = start;
          valueEnd[field] = i;
          valueIsString[field] = 1;
          valueHasDel[field] = del;
        }
        i++;
      } else {
        const end = numberEnd(line, i);
        if (end < 0) return false;
        if (field >= 0) {
          valueStart[field] = i;
          valueEnd[field] = end;
          valueIsString[field] = 0;
          valueHasDel[field] = 0;
        }
        i = end;
      }
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      c = line.charCodeAt(i);
      i++;
      if (c === 125) break;
      if (c !== 44 /* , */) return false;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
    }
  }
  while (i < n && isSpace(line.charCodeAt(i))) i++;
  return i === n;
}

/** A key field's text (client_ip, host, country, method) when it passes textProblem; null otherwise. */
function plainText(line: string, field: number): string | null {
  const start = valueStart[field]!;
  const length = valueEnd[field]! - start;
  if (valueIsString[field] === 0 || valueHasDel[field] === 1 || length === 0 || length > MAX_TEXT) return null;
  return line.slice(start, start + length);
}

/** A status, request time or timestamp's text as the full path sees it (a number as its shortest round-trip form). */
function scalarAt(line: string, field: number): string {
  const text = line.slice(valueStart[field], valueEnd[field]);
  return valueIsString[field] === 1 ? text : String(Number(text));
}

/** Epoch seconds (`\d{1,12}(.\d{0,9})?`) as parseEventTime reads them, or NaN to leave the case to the full path. */
function plainEpochMs(text: string): number {
  const n = text.length;
  let whole = 0;
  let i = 0;
  let c = 0;
  while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
    whole = whole * 10 + (c - 48);
    i++;
  }
  if (i === 0 || i > 12) return Number.NaN;
  if (i === n) return whole * 1000;
  if (c !== 46) return Number.NaN;
  const from = ++i;
  let frac = 0;
  while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
    frac = frac * 10 + (c - 48);
    i++;
  }
  const digits = i - from;
  if (i !== n || digits > 9) return Number.NaN;
  // Number(`0.${frac}`) is the correctly rounded quotient of two exact integers, as this is.
  return Math.floor(whole * 1000 + (digits === 0 ? 0 : (frac / POW10[digits]!) * 1000));
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30];

/** A plain non-negative decimal (`0.28`, `3.`, `.25`) with at most 15 significant digits, as parseDecimal reads it; null otherwise. */
function plainDecimal(text: string): Decimal | null {
  const n = text.length;
  let units = 0;
  let significant = 0;
  let scale = 0;
  let digits = 0;
  let dot = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits++;
      if (units !== 0 || c !== 48) significant++;
      units = units * 10 + (c - 48);
      if (dot) scale++;
    } else if (c === 46 && !dot) dot = true;
    else return null;
  }
  if (digits === 0 || significant > 15 || scale > 30) return null;
  return { units, scale };
}

/** The event of a line of the common shape that passes every check; null sends the line to the full path. */
function scanPlainJson(line: string): NginxEvent | null {
  if (!scanFields(line)) return null;
  if (valueStart[F_TIMESTAMP]! < 0 || valueStart[F_STATUS]! < 0 || valueStart[F_REQUEST_TIME]! < 0) return null;
  if (valueStart[F_CLIENT_IP]! < 0 || valueStart[F_HOST]! < 0 || valueStart[F_COUNTRY]! < 0) return null;
  const instant = plainEpochMs(scalarAt(line, F_TIMESTAMP));
  if (instant !== instant) return null;
  const clientIp = plainText(line, F_CLIENT_IP);
  if (clientIp === null) return null;
  const host = plainText(line, F_HOST);
  if (host === null) return null;
  const country = plainText(line, F_COUNTRY);
  if (country === null) return null;
  const statusText = scalarAt(line, F_STATUS);
  let status = 0;
  for (let i = 0; i < statusText.length; i++) {
    const c = statusText.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    status = status * 10 + (c - 48);
  }
  if (statusText.length === 0 || statusText.length > 9 || status < 100 || status > 599) return null;
  const requestTime = plainDecimal(scalarAt(line, F_REQUEST_TIME));
  if (requestTime === null) return null;
  let method = '-';
  if (valueStart[F_METHOD]! >= 0) {
    const text = plainText(line, F_METHOD);
    if (text === null) return null;
    method = text;
  }
  let server: string | null = null;
  if (valueStart[F_SERVER]! >= 0) {
    if (valueIsString[F_SERVER] === 0) return null;
    server = line.slice(valueStart[F_SERVER], valueEnd[F_SERVER]);
  }
  return { instant, clientIp, host, country, method, status, requestTime, server };
}

/** The full path: JSON.parse, then each field's checks; gives the reject reasons. */
export function parseNginxJsonFull(line: string): Parsed<NginxEvent> {
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
