// streamwatch dashboard: serves the live dashboard, /metrics and health
// endpoints, fed from the pipeline's Kafka topics, and sends alert
// notifications for incidents, until SIGINT/SIGTERM.
import { brokerOptions, brokers, flag, num, parse, str, type Parsed } from '../args.ts';
import { UsageError } from '../../errors.ts';
import { startDashboardApp } from '../../web/app.ts';
import { startKafkaFeed, type KafkaFeed } from '../../web/kafka-feed.ts';
import { isLoopback, type SearchFunction } from '../../web/server.ts';

const help = `usage: streamwatch dashboard [options]

Serves the live dashboard (fleet, charts, incidents, NGINX goals, pipeline
health, log explorer), Prometheus metrics at /metrics, and /livez, /readyz.
Reads the pipeline's topics (topic-cpu..., alerts-*, incidents, goal*-topic).

options:
  --port PORT               port to listen on, 0 for any free port (default 8080)
  --host HOST               address to listen on (default 127.0.0.1); any other
                            than loopback requires a token
  --token T                 required on every request (Authorization: Bearer T,
                            or open the page as /?token=T); default env STREAMWATCH_TOKEN
  -b, --brokers LIST        Kafka brokers (default env KAFKA_BROKERS, else 127.0.0.1:9092)
  --no-kafka                serve without reading Kafka (an empty dashboard)
  --history N               records per partition read back at start (default 2000)
  --webhook URL             POST Alertmanager webhook payloads (version 4) when an
                            incident opens and when it resolves; repeatable
  --alertmanager URL        also send the alerts to this Alertmanager (/api/v2/alerts)
  --external-url URL        the dashboard's address as people reach it (links in alerts)
  --database-url URL        PostgreSQL holding the NGINX events, for the log explorer
                            (default env DATABASE_URL; without it the explorer is off)
  -h, --help                this help
`;

function httpUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${name}: '${text}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name}: '${text}' must be http or https`);
  return url.href;
}

function list(parsed: Parsed, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The log explorer over PostgreSQL, when a server is named; the embedded database stays with the sink that owns it. */
async function openSearch(url: string | undefined, log: (line: string) => void): Promise<{ search?: SearchFunction; close(): Promise<void> }> {
  if (!url) return { close: async () => {} };
  try {
    const { openDatabase } = await import('../../io/sql/open.ts');
    const { databaseSearch } = await import('../../web/log-search.ts');
    const db = await openDatabase({ url });
    return { search: databaseSearch(db), close: () => db.close() };
  } catch (error) {
    log(`streamwatch dashboard: log explorer off: ${(error as Error).message}`);
    return { close: async () => {} };
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    'no-kafka': { type: 'boolean' },
    history: { type: 'string' },
    webhook: { type: 'string', multiple: true },
    alertmanager: { type: 'string' },
    'external-url': { type: 'string' },
    'database-url': { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(help);
    return 0;
  }
  const host = str(parsed, 'host') ?? '127.0.0.1';
  const port = num(parsed, 'port', 8080, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const token = str(parsed, 'token') ?? process.env.STREAMWATCH_TOKEN ?? undefined;
  if (!isLoopback(host) && !token) throw new UsageError(`--host ${host} exposes the dashboard beyond this machine: give --token or set STREAMWATCH_TOKEN`);
  const history = num(parsed, 'history', 2000, (n) => Number.isInteger(n) && n >= 0);
  const webhooks = list(parsed, 'webhook').map((u) => httpUrl('webhook', u));
  const alertmanagerText = str(parsed, 'alertmanager');
  const alertmanager = alertmanagerText === undefined ? undefined : httpUrl('alertmanager', alertmanagerText);
  const externalText = str(parsed, 'external-url');
  const externalUrl = externalText === undefined ? undefined : httpUrl('external-url', externalText);
  const kafkaBrokers = flag(parsed, 'no-kafka') ? null : brokers(parsed);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  const storage = await openSearch(str(parsed, 'database-url') ?? process.env.DATABASE_URL, log);
  const abort = new AbortController();
  let kafka: KafkaFeed | null = null;
  const app = await startDashboardApp({
    host,
    port,
    ...(token ? { token } : {}),
    ...(storage.search ? { search: storage.search } : {}),
    webhooks,
    ...(alertmanager ? { alertmanager } : {}),
    ...(externalUrl !== undefined ? { externalUrl } : {}),
    ready: () => kafka === null || kafka.ready,
    log,
  }).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });
  if (kafkaBrokers !== null) {
    const notifier = app.notifier;
    kafka = startKafkaFeed({
      brokers: kafkaBrokers,
      // History read back at start is shown; only incidents written from now on are notified.
      feed: app.display,
      metrics: app.metrics,
      history,
      log,
      signal: abort.signal,
      ...(notifier ? { onLiveIncident: (event) => notifier.notify(event) } : {}),
    });
  }
  log(`streamwatch dashboard: ${app.url}${token ? ' (token required)' : ''}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log(`streamwatch dashboard: ${signal}, stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  abort.abort();
  await app.close(2000);
  await kafka?.done;
  await storage.close();
  return 0;
}
