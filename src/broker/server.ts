// The embedded single-node Kafka-compatible broker: a TCP listener that
// hands each connection to a Connection, with storage and the group
// coordinator shared by all. Usable in-process (other commands embed it:
// port 0 picks a free port, the returned object says which) and from
// `streamwatch broker`.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { StreamwatchError } from '../errors.ts';
import { allApis, apisByKey } from './apis/index.ts';
import type { BrokerContext, BrokerSettings } from './apis/context.ts';
import { Connection } from './connection.ts';
import { openBrokerStore } from './storage/index.ts';
import type { BrokerStore, FsyncMode } from './storage/types.ts';
import { GroupCoordinator } from './groups/coordinator.ts';
import { systemScheduler } from './groups/clock.ts';
import type { GroupCoordinatorApi } from './groups/types.ts';

export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;

export interface BrokerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  dataDir: string;
  fsync?: FsyncMode;
  maxRequestBytes?: number;
  defaultPartitions?: number;
  autoCreateTopics?: boolean;
  /** Address to advertise when clients must reach the broker under another name. */
  advertisedHost?: string;
  advertisedPort?: number;
  /** How often old segments are deleted by retention (ms, default 60000). */
  retentionCheckMs?: number;
  /** Log lines (start, stop, bad connections); stderr by default. */
  log?: (line: string) => void;
  /** Called once per answered request with the API name, seconds taken and whether the top-level error code was set. */
  onRequest?: (api: string, seconds: number, failed: boolean) => void;
  /** Injected storage/coordinator (tests); opened from dataDir / created otherwise. */
  store?: BrokerStore;
  groups?: GroupCoordinatorApi;
}

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  /** "host:port", ready for --brokers. */
  readonly address: string;
  readonly store: BrokerStore;
  readonly groups: GroupCoordinatorApi;
  /** Stops accepting, drops connections, closes the coordinator and flushes storage. */
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => process.stderr.write(`streamwatch broker: ${line}\n`));
  const maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  let store: BrokerStore;
  try {
    store = options.store ?? (await openBrokerStore(options.dataDir, { fsync: options.fsync ?? 'always' }));
  } catch (error) {
    throw new StreamwatchError('SW_ERR_BROKER_START', `cannot open data dir ${options.dataDir}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const groups = options.groups ?? new GroupCoordinator({ scheduler: systemScheduler, groupsWithOffsets: () => store.listGroupsWithOffsets() });
  const settings: BrokerSettings = {
    nodeId: 0,
    // Stable per data directory: clients notice a cluster id that changes across restarts.
    clusterId: `streamwatch-${createHash('sha256').update(resolve(store.dataDir)).digest('hex').slice(0, 16)}`,
    defaultPartitions: options.defaultPartitions ?? 1,
    autoCreateTopics: options.autoCreateTopics ?? true,
    advertisedHost: options.advertisedHost,
    advertisedPort: options.advertisedPort,
  };
  const context: BrokerContext = { store, groups, settings, apis: allApis, allocateProducerId: () => store.allocateProducerId(), log, ...(options.onRequest ? { onRequest: options.onRequest } : {}) };

  const connections = new Set<Connection>();
  let nextId = 1;
  const server = createServer((socket: Socket) => {
    const connection = new Connection(socket, nextId++, context, apisByKey, maxRequestBytes);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  try {
    await listen(server, host, options.port ?? 9092);
  } catch (error) {
    groups.close();
    await store.close();
    throw new StreamwatchError('SW_ERR_BROKER_START', `cannot listen on ${host}:${options.port ?? 9092}: ${(error as Error).message}`, { cause: error });
  }
  // Errors on accepted sockets are handled per connection; this catches the listener's own.
  server.on('error', (error) => log(`listener error: ${error.message}`));
  // Retention deletes whole old segments; storage leaves the schedule to the server.
  const retentionTimer = setInterval(() => {
    store.enforceRetention().catch((error: unknown) => log(`retention failed: ${(error as Error)?.message ?? String(error)}`));
  }, options.retentionCheckMs ?? 60_000);
  retentionTimer.unref();
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : (options.port ?? 9092);
  log(`listening on ${host}:${port} (data dir ${store.dataDir}, fsync ${options.fsync ?? 'always'})`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(retentionTimer);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.close();
      await stopped;
      groups.close();
      await store.close();
      log(`stopped (${host}:${port})`);
    })();
    return closing;
  };
  return { host, port, address: `${host.includes(':') ? `[${host}]` : host}:${port}`, store, groups, close };
}
