// The dashboard's HTTP server (node:http, no framework): the page and its
// static files, `/metrics`, `/livez`, `/readyz`, JSON under `/api/`, and live
// updates as server-sent events from a FeedHub.
//
// Access: bound to loopback by default. Bound elsewhere, a token is required
// and checked on every request: `Authorization: Bearer T` (scrapers,
// scripts), or `?token=T` when a person opens the page, which then sets an
// HttpOnly cookie so the page's own requests (scripts, EventSource, which
// cannot set headers) carry it. On loopback without a token, the
// Host header must name loopback too, so a web page on another site cannot
// reach the dashboard through DNS rebinding.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamwatchError } from '../errors.ts';
import type { FeedEvent, FeedHub } from './feed.ts';
import { MetricsRegistry } from './metrics-registry.ts';
import type { PipelineMetrics } from './pipeline-metrics.ts';

export interface SearchQuery {
  /** Free text as the user typed it; the storage's query builder interprets it. */
  q: string;
  /** Epoch ms bounds, when given. */
  from?: number;
  to?: number;
  limit: number;
}

export interface SearchResult {
  columns: string[];
  rows: Array<Array<string | number | null>>;
  /** Matches in all, when the store knows it cheaply. */
  total?: number;
}

export type SearchFunction = (query: SearchQuery) => Promise<SearchResult>;

export interface DashboardServerOptions {
  hub: FeedHub;
  /** For /metrics and the client gauges; a fresh registry when absent. */
  metrics?: PipelineMetrics;
  registry?: MetricsRegistry;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  /** /readyz answers 200 while this returns true (partitions assigned, sinks connected). */
  ready?: () => boolean;
  /** The log explorer's backend; absent, the page says storage is not connected. */
  search?: SearchFunction;
  /** Interval of SSE keep-alive comments, ms. */
  heartbeatMs?: number;
  log?: (line: string) => void;
}

export interface DashboardServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const VENDOR_FILES: Record<string, string> = {
  'uPlot.esm.js': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.esm.js')),
  'uPlot.min.css': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css')),
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase().startsWith('::ffff:127.');
  return false;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison of a presented token with the expected one. */
function tokenMatches(presented: string | null, expected: Buffer): boolean {
  return presented !== null && timingSafeEqual(digest(presented), expected);
}

const TOKEN_COOKIE = 'streamwatch_token';

/** The token a request carries: a Bearer header, `?token=`, or the cookie set when the page was opened with `?token=`. */
function presentedToken(req: IncomingMessage, url: URL): { token: string; via: 'header' | 'query' | 'cookie' } | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match) return { token: (match[1] as string).trim(), via: 'header' };
  }
  const query = url.searchParams.get('token');
  if (query !== null) return { token: query, via: 'query' };
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        return { token: decodeURIComponent(part.slice(eq + 1).trim()), via: 'cookie' };
      } catch {
        return null;
      }
    }
  }
  return null;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(text);
}

async function sendFile(res: ServerResponse, path: string, head: boolean): Promise<void> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    sendText(res, 404, 'not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
  res.end(head ? undefined : body);
}

function optionalNumber(text: string | null): number | undefined {
  if (text === null || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

export async function startDashboard(options: DashboardServerOptions): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token !== undefined && options.token !== '' ? options.token : undefined;
  if (!isLoopback(host) && token === undefined) {
    throw new StreamwatchError('SW_ERR_DASHBOARD_TOKEN', `the dashboard on ${host} (not loopback) needs a token: --token or STREAMWATCH_TOKEN`);
  }
  const expected = token !== undefined ? digest(token) : null;
  const hub = options.hub;
  const registry = options.metrics?.registry ?? options.registry ?? new MetricsRegistry();
  const ready = options.ready ?? (() => true);
  const log = options.log ?? (() => {});
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<ServerResponse>();

  const refreshClients = (): void => options.metrics?.sseClients.set(undefined, hub.clientCount);

  function openEventStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as NGINX would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      ...SECURITY_HEADERS,
    });
    res.socket?.setNoDelay(true);
    // The first message is the whole current state, so a page (or a reconnect) needs no second request.
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(hub.snapshot())}\n\n`);
    const subscription = hub.subscribe((events: readonly FeedEvent[]) => res.write(`event: batch\ndata: ${JSON.stringify(events)}\n\n`));
    res.on('drain', () => subscription.resume());
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
    refreshClients();
    const stop = (): void => {
      if (!streams.has(res)) return;
      clearInterval(heartbeat);
      hub.unsubscribe(subscription);
      streams.delete(res);
      refreshClients();
    };
    // The response closes when the client goes away (or the server stops).
    res.once('close', stop);
    // A write to a vanished client fails; 'close' follows and cleans up.
    res.on('error', () => {});
  }

  async function search(res: ServerResponse, url: URL): Promise<void> {
    if (options.search === undefined) {
      sendJson(res, 503, { error: 'storage not connected' });
      return;
    }
    const limit = Math.min(1000, Math.max(1, Math.trunc(optionalNumber(url.searchParams.get('limit')) ?? 100)));
    const query: SearchQuery = { q: url.searchParams.get('q') ?? '', limit };
    const from = optionalNumber(url.searchParams.get('from'));
    const to = optionalNumber(url.searchParams.get('to'));
    if (from !== undefined) query.from = from;
    if (to !== undefined) query.to = to;
    try {
      sendJson(res, 200, await options.search(query));
    } catch (error) {
      // A query the builder rejects is the user's to fix; say why without a stack.
      const message = error instanceof StreamwatchError || error instanceof Error ? error.message : String(error);
      sendJson(res, 400, { error: message });
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    if (expected !== null) {
      const presented = presentedToken(req, url);
      if (!tokenMatches(presented?.token ?? null, expected)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="streamwatch"', ...SECURITY_HEADERS });
        res.end('unauthorized: a token is required (Authorization: Bearer T, or ?token=T)\n');
        return;
      }
      // A page opened with ?token= loads its scripts, styles and event stream without it: a cookie carries it.
      if (presented?.via === 'query') res.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(presented.token)}; HttpOnly; SameSite=Strict; Path=/`);
    } else {
      const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(hostHeader)) {
        sendText(res, 403, 'forbidden: this dashboard answers loopback Host names only\n');
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendText(res, 405, 'method not allowed\n');
      return;
    }
    const head = req.method === 'HEAD';
    const path = url.pathname;
    if (path === '/' || path === '/index.html') return sendFile(res, join(STATIC_DIR, 'index.html'), head);
    if (path.startsWith('/static/')) {
      const name = path.slice('/static/'.length);
      // Flat directory of known file kinds: no traversal, no dotfiles.
      if (!/^[a-z0-9][a-z0-9_-]*\.(js|css|svg|png|ico)$/i.test(name)) return sendText(res, 404, 'not found\n');
      return sendFile(res, join(STATIC_DIR, name), head);
    }
    if (path.startsWith('/vendor/')) {
      const file = VENDOR_FILES[path.slice('/vendor/'.length)];
      return file === undefined ? sendText(res, 404, 'not found\n') : sendFile(res, file, head);
    }
    if (path === '/metrics') return sendText(res, 200, registry.expose(), MetricsRegistry.contentType);
    if (path === '/livez') return sendText(res, 200, 'ok\n');
    if (path === '/readyz') {
      const ok = ready();
      return sendText(res, ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
    }
    if (path === '/api/events') return openEventStream(req, res);
    if (path === '/api/snapshot') return sendJson(res, 200, { ...hub.snapshot(), search: options.search !== undefined });
    if (path === '/api/incidents') return sendJson(res, 200, hub.incidentList());
    if (path.startsWith('/api/servers/')) {
      const id = decodeURIComponent(path.slice('/api/servers/'.length));
      const series = hub.series(id);
      return series === null ? sendJson(res, 404, { error: `unknown server '${id}'` }) : sendJson(res, 200, series);
    }
    if (path === '/api/search') return search(res, url);
    sendText(res, 404, 'not found\n');
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log(`dashboard: ${req.method} ${req.url}: ${(error as Error).message}`);
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  // Slow or idle clients must not pin sockets forever; event streams are long-lived by design.
  server.headersTimeout = 10_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new StreamwatchError('SW_ERR_DASHBOARD_LISTEN', `the dashboard cannot listen on ${host}:${options.port ?? 8080}: ${error.code ?? error.message}`, { cause: error }));
    });
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  server.on('error', (error) => log(`dashboard: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    async close(): Promise<void> {
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
