// The NGINX access-event dataset (SEMANTICS.md section 4) as JSON lines, in
// time order, deterministic by seed. Background traffic comes from a few
// thousand clients over 60 hosts and stays well below both burst rules;
// on top of it, bursts (one client sending 11-40 requests within 2-15 s)
// and 4xx storms (one host answering 16-60 client errors within 5-25 s)
// start every 1,000-3,000 events; the first of each starts within the first
// 300 events and lasts at most 8 s, so from 2,000 events (10 s of traffic)
// on every detector reports something.
// Fields vary between strings and numbers as real producers' do.
//
// The same generator feeds `produce nginx --generate`: endless (events =
// Infinity), started at the wall clock, at the rate asked for, with
// fractional gaps (see `exactGaps`).

import { writeLines, type ByteSink } from './chunk-writer.ts';
import { intBetween, mulberry32, type Random } from './prng.ts';

export interface NginxOptions {
  events: number;
  seed: number;
  /** Epoch seconds of the first event (fractions allowed: milliseconds are kept). */
  startSeconds: number;
  /** Background events per second of event time (default 200). */
  rate?: number;
  /** Distinct client addresses of the background traffic and storms (default 3,000); all different when given. */
  clients?: number;
  /**
   * Keep fractions of a millisecond between events. The batch dataset rounds
   * each gap down to whole milliseconds (kept so its bytes never change),
   * which makes the real rate drift above `rate` and collapse to one instant
   * from about 1,000 a second; live streams keep the fractions.
   */
  exactGaps?: boolean;
}

export const defaultNginxOptions: NginxOptions = { events: 100_000, seed: 1, startSeconds: 1_659_509_400 };

/** Background events per second of event time, by default. */
const RATE = 200;
const CLIENTS = 3000;
const HOSTS = 60;
const COUNTRIES = ['IR', 'IR', 'IR', 'IR', 'US', 'US', 'DE', 'NL', 'FR', 'GB', 'TR', 'AE', 'CA', 'SE', 'IN'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'];
/** Background statuses by weight: mostly 2xx, a few redirects, 2% client errors, 1% server errors. */
const STATUSES: Array<[number, number]> = [[200, 80], [201, 6], [204, 3], [301, 2], [304, 6], [400, 0.4], [403, 0.3], [404, 1.3], [500, 0.6], [502, 0.2], [503, 0.2]];
const CLIENT_ERRORS = [400, 401, 403, 404, 404, 404, 429];

interface Pending {
  /** Milliseconds after the start. */
  at: number;
  client: string;
  host: number;
  status: number;
}

export interface NginxEventLine {
  line: string;
  /** Epoch milliseconds of the event (its @timestamp, whole milliseconds). */
  at: number;
  /** Kind of event, for tests: background, burst or storm. */
  kind: 'background' | 'burst' | 'storm';
}

function pickWeighted(random: Random, table: Array<[number, number]>, total: number): number {
  let r = random() * total;
  for (const [value, weight] of table) {
    r -= weight;
    if (r < 0) return value;
  }
  return table[table.length - 1]![0];
}

/** `count` different addresses (for benchmarks with many clients). */
function distinctIps(random: Random, count: number): string[] {
  const seen = new Set<string>();
  while (seen.size < count) seen.add(ip(random));
  return [...seen];
}

function ip(random: Random): string {
  return `${intBetween(random, 11, 223)}.${intBetween(random, 0, 255)}.${intBetween(random, 0, 255)}.${intBetween(random, 1, 254)}`;
}

/** The events one by one, as lines without line breaks. */
export function* nginxEvents(options: NginxOptions): Generator<NginxEventLine> {
  const random = mulberry32(options.seed);
  const clientCount = options.clients ?? CLIENTS;
  const clients = options.clients === undefined ? Array.from({ length: CLIENTS }, () => ip(random)) : distinctIps(random, options.clients);
  const clientCountry = clients.map(() => COUNTRIES[intBetween(random, 0, COUNTRIES.length - 1)]!);
  const countryOf = new Map(clients.map((c, i) => [c, clientCountry[i]!]));
  const hostLatency = Array.from({ length: HOSTS }, () => intBetween(random, 20, 400));
  const statusTotal = STATUSES.reduce((sum, [, w]) => sum + w, 0);
  const pending: Array<Pending & { kind: 'burst' | 'storm' }> = [];
  const rate = options.rate ?? RATE;
  const exactGaps = options.exactGaps === true;
  const startMs = Math.round(options.startSeconds * 1000);
  let backgroundAt = 0;
  let nextBurst = intBetween(random, 20, 80);
  let nextStorm = intBetween(random, 100, 300);
  for (let n = 0; n < options.events; n++) {
    if (n === nextBurst) {
      nextBurst += intBetween(random, 1000, 3000);
      const client = random() < 0.5 ? clients[intBetween(random, 0, clientCount - 1)]! : ip(random);
      if (!countryOf.has(client)) countryOf.set(client, COUNTRIES[intBetween(random, 0, COUNTRIES.length - 1)]!);
      const count = intBetween(random, 11, 40);
      // The first burst is short, so a small file holds all of it.
      const span = n < 1000 ? intBetween(random, 2000, 5000) : intBetween(random, 2000, 15_000);
      const host = intBetween(random, 0, HOSTS - 1);
      for (let i = 0; i < count; i++) pending.push({ at: backgroundAt + Math.floor(random() * span), client, host, status: random() < 0.3 ? 404 : 200, kind: 'burst' });
      pending.sort((a, b) => a.at - b.at);
    }
    if (n === nextStorm) {
      nextStorm += intBetween(random, 1000, 3000);
      const host = intBetween(random, 0, HOSTS - 1);
      const count = intBetween(random, 16, 60);
      const span = n < 1000 ? intBetween(random, 5000, 8000) : intBetween(random, 5000, 25_000);
      for (let i = 0; i < count; i++) {
        pending.push({ at: backgroundAt + Math.floor(random() * span), client: clients[intBetween(random, 0, clientCount - 1)]!, host, status: CLIENT_ERRORS[intBetween(random, 0, CLIENT_ERRORS.length - 1)]!, kind: 'storm' });
      }
      pending.sort((a, b) => a.at - b.at);
    }
    let event: Pending;
    let kind: NginxEventLine['kind'];
    if (pending.length > 0 && pending[0]!.at <= backgroundAt) {
      const next = pending.shift()!;
      event = next;
      kind = next.kind;
    } else {
      const client = clients[intBetween(random, 0, clientCount - 1)]!;
      event = { at: backgroundAt, client, host: intBetween(random, 0, HOSTS - 1), status: pickWeighted(random, STATUSES, statusTotal) };
      kind = 'background';
      // Exponential gaps: a Poisson stream of `rate` events per second.
      const gap = (-Math.log(1 - random()) * 1000) / rate;
      backgroundAt += exactGaps ? gap : Math.floor(gap);
    }
    const at = startMs + Math.floor(event.at);
    yield { line: formatEvent(random, at, event, countryOf.get(event.client) ?? 'IR', hostLatency[event.host]!), at, kind };
  }
}

function formatEvent(random: Random, ms: number, event: Pending, country: string, latencyMs: number): string {
  const method = METHODS[intBetween(random, 0, METHODS.length - 1)]!;
  const micros = intBetween(random, 0, 999);
  const seconds = Math.floor(ms / 1000);
  const fraction = String((ms % 1000) * 1000 + micros).padStart(6, '0');
  const timeMs = Math.max(1, Math.round(latencyMs * (0.3 + 1.4 * random()) * (event.status >= 500 ? 4 : 1)));
  const requestTime = `${Math.floor(timeMs / 1000)}.${String(timeMs % 1000).padStart(3, '0')}`.replace(/0+$/, '').replace(/\.$/, '.0');
  const asNumbers = random() < 0.2;
  const status = asNumbers ? String(event.status) : `"${event.status}"`;
  const time = asNumbers ? requestTime : `"${requestTime}"`;
  const stamp = asNumbers ? `${seconds}.${fraction.slice(0, 3)}` : `"${seconds}.${fraction}"`;
  return `{"server":"s_v${(event.host % 5) + 1}","client_ip":"${event.client}","method":"${method}","status":${status},"request_time":${time},"host":"api_${event.host + 1}.digikala.com","country":"${country}","@timestamp":${stamp}}`;
}

/** Writes the dataset as JSON lines; returns the number of events. */
export async function writeNginxEvents(options: NginxOptions, sink: ByteSink & { readonly stopped?: boolean }): Promise<number> {
  return writeLines(mapLines(nginxEvents(options)), sink);
}

function* mapLines(events: Iterable<{ line: string }>): Iterable<string> {
  for (const event of events) yield event.line;
}
