// The load-balancer log dataset (SEMANTICS.md section 5), in time order,
// deterministic by seed: two balancers in front of ten backends, about 20
// requests a second, mostly GET and POST with some other methods, about
// one request in eight failing (4xx, 5xx), latencies in whole milliseconds. A backend has
// a slow, failing spell now and then, so summaries differ between windows.

import { writeLines, type ByteSink } from './chunk-writer.ts';
import { intBetween, mulberry32 } from './prng.ts';

export interface LbOptions {
  lines: number;
  seed: number;
  /** Epoch ms of the first line. */
  startMs: number;
}

export const defaultLbOptions: LbOptions = { lines: 100_000, seed: 1, startMs: Date.UTC(2024, 4, 1, 10) };

const BACKENDS = 10;
const RATE = 20;
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD'];
const PATHS = ['/files/a.txt', '/files/b.bin', '/api/items', '/api/items/42', '/login', '/upload', '/health', '/'];
/** Background statuses: about one request in eight fails (404, 500, 503). */
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201, 302, 404, 500, 503];

/** The lines one by one, without line breaks. */
export function* lbLines(options: LbOptions): Generator<string> {
  const random = mulberry32(options.seed);
  const base = Array.from({ length: BACKENDS }, () => intBetween(random, 10, 120));
  let at = options.startMs;
  let troubled = -1;
  let troubleUntil = 0;
  for (let n = 0; n < options.lines; n++) {
    at += Math.floor((-Math.log(1 - random()) * 1000) / RATE);
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
    yield `${new Date(at).toISOString()} lb-${(n % 2) + 1} server_${backend + 1} ${method} ${path} ${status} ${latency}`;
  }
}

/** Writes the dataset; returns the number of lines. */
export async function writeLbLines(options: LbOptions, sink: ByteSink & { readonly stopped?: boolean }): Promise<number> {
  return writeLines(lbLines(options), sink);
}
