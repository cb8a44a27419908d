// A bare Prometheus endpoint for commands that run without the dashboard
// (`streamwatch broker --metrics-port`, `detect --metrics-port`): `/metrics`
// from a registry, `/livez`, nothing else. Loopback by default, like the
// dashboard; the metrics hold no secrets but need not be public either.

import { createServer } from 'node:http';
import { MetricsRegistry } from './metrics-registry.ts';

export interface MetricsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveMetrics(registry: MetricsRegistry, port: number, host = '127.0.0.1'): Promise<MetricsEndpoint> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': MetricsRegistry.contentType }).end(req.method === 'HEAD' ? undefined : registry.expose());
    } else if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const actual = typeof bound === 'object' && bound ? bound.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
