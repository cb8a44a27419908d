// The dashboard assembled for a command: metrics registry, feed hub, HTTP
// server and (when targets are given) the alert notifier, started and closed
// together. `streamwatch dashboard` uses it; `up` and `detect` can too, and
// push into `feed` in-process (incidents pushed there are also notified).

import { AlertNotifier } from './alerts.ts';
import { FeedHub, type DashboardFeed, type FeedHubOptions } from './feed.ts';
import { createPipelineMetrics, type PipelineMetrics } from './pipeline-metrics.ts';
import { startDashboard, type DashboardServer, type SearchFunction } from './server.ts';

export interface DashboardAppOptions {
  host?: string;
  port?: number;
  token?: string;
  webhooks?: readonly string[];
  alertmanager?: string;
  /** The dashboard's address as people reach it (links in alerts); the server's own URL by default. */
  externalUrl?: string;
  search?: SearchFunction;
  ready?: () => boolean;
  /** The app's metrics, when it already has them (so pipeline and dashboard share one /metrics). */
  metrics?: PipelineMetrics;
  hub?: Omit<FeedHubOptions, 'onDrop'>;
  log?: (line: string) => void;
}

export interface DashboardApp {
  readonly hub: FeedHub;
  /** Push pipeline output here: the hub, plus alert notifications for opened and closed incidents. */
  readonly feed: DashboardFeed;
  /** The same without notifications: for output already notified once (history read back from Kafka). */
  readonly display: DashboardFeed;
  readonly metrics: PipelineMetrics;
  readonly notifier: AlertNotifier | null;
  readonly server: DashboardServer;
  readonly url: string;
  /** Stops serving, then gives queued notifications up to `drainMs` to go out. */
  close(drainMs?: number): Promise<void>;
}

export async function startDashboardApp(options: DashboardAppOptions = {}): Promise<DashboardApp> {
  const metrics = options.metrics ?? createPipelineMetrics();
  const hub = new FeedHub({ ...options.hub, onDrop: (n) => metrics.sseDroppedEvents.inc(undefined, n) });
  const server = await startDashboard({
    hub,
    metrics,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.token ? { token: options.token } : {}),
    ...(options.search ? { search: options.search } : {}),
    ...(options.ready ? { ready: options.ready } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const webhooks = options.webhooks ?? [];
  const notifier = webhooks.length > 0 || options.alertmanager
    ? new AlertNotifier({
        webhooks,
        ...(options.alertmanager ? { alertmanager: options.alertmanager } : {}),
        externalUrl: options.externalUrl ?? server.url,
        ...(options.log ? { log: options.log } : {}),
        onOutcome: (target, outcome) => metrics.alertNotifications.inc({ target, outcome }),
      })
    : null;
  const openByDetector = new Map<string, Set<string>>();
  const display: DashboardFeed = {
    metric: (server, instant, fields) => hub.metric(server, instant, fields),
    windowRow: (job, row) => hub.windowRow(job, row),
    goal: (detector, row) => hub.goal(detector, row),
    health: (snapshot) => hub.health(snapshot),
    incident: (event) => {
      hub.incident(event);
      // The open-incidents gauge follows what the dashboard shows.
      let open = openByDetector.get(event.detector);
      if (open === undefined) {
        open = new Set();
        openByDetector.set(event.detector, open);
      }
      const id = `${event.key}\u0000${event.alert}\u0000${event.start}`;
      if (event.state === 'closed') open.delete(id);
      else open.add(id);
      metrics.openIncidents.set({ detector: event.detector }, open.size);
    },
  };
  const feed: DashboardFeed = {
    ...display,
    incident: (event) => {
      display.incident(event);
      notifier?.notify(event);
    },
  };
  return {
    hub,
    feed,
    display,
    metrics,
    notifier,
    server,
    url: server.url,
    async close(drainMs = 2000) {
      await server.close();
      hub.close();
      await notifier?.close(drainMs);
    },
  };
}
