// The load-balancer log dataset (SEMANTICS.md section 5), in time order,
// deterministic by seed: two balancers in front of ten backends, about 20
// requests a second, mostly GET and POST with some other methods, about
// one request in eight failing (4xx, 5xx), latencies in whole milliseconds. A backend has
// a slow, failing spell now and then, so summaries differ between windows.
// `produce lb --generate` runs the same generator endlessly from the wall
// clock (lines = Infinity, exactGaps, its own rate).

import { writeLines, type ByteSink } from './chunk-writer.ts';
import { intBetween, mulberry32 } from './prng.ts';

export interface LbOptions {
  lines: number;
  seed: number;
  /** Epoch ms of the first line. */
  startMs: number;
  /** Lines per second (default 20). */
  rate?: number;
  /** Keep fractions of a millisecond between lines (see NginxOptions.exactGaps); the batch dataset rounds each gap down. */
  exactGaps?: boolean;
}

export const defaultLbOptions: LbOptions = { lines: 100_000, seed: 1, startMs: Date.UTC(2024, 4, 1, 10) };

const BACKENDS = 10;
const RATE = 20;
export const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD'];
export const PATHS = ['/files/a.txt', '/files/b.bin', '/api/items', '/api/items/42', '/login', '/upload', '/health', '/'];
/** Background statuses: about one request in eight fails (404, 500, 503). */
export const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201, 302, 404, 500, 503];

export interface LbLine {
  line: string;
  /** Epoch milliseconds of the line (whole). */
  at: number;
  /** The backend server (server_N). */
  backend: string;
}

/** The lines one by one, without line breaks. */
export function* lbLines(options: LbOptions): Generator<string> {
  for (const event of lbEvents(options)) yield event.line;
}

/** The lines with their instants and backends. */
export function* lbEvents(options: LbOptions): Generator<LbLine> {
  const random = mulberry32(options.seed);
  const base = Array.from({ length: BACKENDS }, () => intBetween(random, 10, 120));
  const rate = options.rate ?? RATE;
  const exactGaps = options.exactGaps === true;
  let at = options.startMs;
  let troubled = -1;
  let troubleUntil = 0;
  for (let n = 0; n < options.lines; n++) {
    const gap = (-Math.log(1 - random()) * 1000) / rate;
    at += exactGaps ? gap : Math.floor(gap);
    if (at >= troubleUntil) {
      troubled = random() < 0.3 ? intBetween(random, 0, BACKENDS - 1) : -1;
      troubleUntil = at + intBetween(random, 60_000, 600_000);
    }
    const backend = intBetween(random, 0, BACKENDS - 1);
    const slow = backend === troubled;
    const method = METHODS[intBetween(random, 0, METHODS.length - 1)]!;
    const path = PATHS[intBetween(random, 0, PATHS.length - 1)]!;
    const status = slow && random() < 0.4 ? 503 : STATUSES[intBetween(random, 0, STATUSES.length - 1)]!;
    const latency = Math.round(base[backend]! * (0.4 + 1.2 * random()) * (slow ? 8 : 1));
    const whole = Math.floor(at);
    const server = `server_${backend + 1}`;
    yield { line: `${new Date(whole).toISOString()} lb-${(n % 2) + 1} ${server} ${method} ${path} ${status} ${latency}`, at: whole, backend: server };
  }
}

/** Writes the dataset; returns the number of lines. */
export async function writeLbLines(options: LbOptions, sink: ByteSink & { readonly stopped?: boolean }): Promise<number> {
  return writeLines(lbLines(options), sink);
}
