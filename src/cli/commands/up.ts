// `streamwatch up`: the whole system in one command (src/cli/up/run-up.ts
// wires the parts; this module reads the flags and prints where things are).
import { UsageError } from '../../errors.ts';
import { runUp, type UpAddresses } from '../up/run-up.ts';
import { brokerOptions, duration, flag, num, parse, str, type Parsed } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';
import { isLoopback } from '../../web/server.ts';

const usage = `usage: streamwatch up [--dataset F | --live] [options]

Runs everything in one process: the embedded Kafka-compatible broker (unless
--brokers names a cluster), the replay of a metrics dataset (the bundled
sample by default: 20 servers, 2 h at 5 s, every kind of anomaly) or this
host's live metrics (--live), NGINX and load-balancer log generators, every
detector, the PostgreSQL sink (embedded PGlite under the data dir), and the
dashboard. Outputs go to out/: CPU_MEM.csv, NET_DISK.csv, incidents-*.csv,
the NGINX goals and the LB summary. Ctrl+C stops every part cleanly; started
again with the same data dir it resumes where it stopped.

options:
  --dataset F           metrics CSV to replay (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io)
  --live                collect this host's metrics from /proc instead (streamwatch collect)
  --speed X             replay pace: 1 = the data's own (5 s apart), 10 = ten times faster
                        (default), 0 = as fast as possible
  --data-dir DIR        broker log, database, checkpoints (default .streamwatch)
  --out-dir DIR         output files (default out)
  --port PORT           dashboard port (default 8080; 0 = any free port)
  --host HOST           dashboard address (default 127.0.0.1; others need --token)
  --token T             dashboard token (default env STREAMWATCH_TOKEN)
  --broker-port PORT    embedded broker port (default 9092; 0 = any free port)
  --partitions N        partitions of the topics created (default 3)
  --trim-leading        drop each server's leading partial windows (see 'job --help')
  --log-rate N          NGINX and LB events per second of the built-in generators (default 20; 0 = off)
  --database-url URL    PostgreSQL server for the stored data (default env DATABASE_URL, else the
                        embedded PGlite under the data dir, which costs about 0.5 GB of memory)
  --webhook URL         Alertmanager-style webhook for incidents (repeatable)
  --until-idle S        stop by itself once the dataset is replayed and S seconds pass without input
  -b, --brokers LIST    use this Kafka cluster instead of the embedded broker
`;

function list(parsed: Parsed, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    dataset: { type: 'string' },
    live: { type: 'boolean' },
    speed: { type: 'string' },
    'data-dir': { type: 'string' },
    'out-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    'broker-port': { type: 'string' },
    partitions: { type: 'string' },
    'trim-leading': { type: 'boolean' },
    'log-rate': { type: 'string' },
    webhook: { type: 'string', multiple: true },
    'database-url': { type: 'string' },
    'until-idle': { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const live = flag(parsed, 'live');
  const dataset = str(parsed, 'dataset');
  if (live && dataset !== undefined) throw new UsageError('give --dataset or --live, not both');
  const host = str(parsed, 'host') ?? '127.0.0.1';
  const token = str(parsed, 'token') ?? process.env.STREAMWATCH_TOKEN ?? undefined;
  if (!isLoopback(host) && !token) throw new UsageError(`--host ${host} exposes the dashboard beyond this machine: give --token or set STREAMWATCH_TOKEN`);
  const brokerText = str(parsed, 'brokers');
  const untilIdle = str(parsed, 'until-idle');
  const started = process.hrtime.bigint();
  const controller = new AbortController();
  let stops = 0;
  const stop = (signal: string): void => {
    stops++;
    if (stops === 1) {
      process.stderr.write(`streamwatch up: ${signal}: stopping (flush, checkpoint, commit)...\n`);
      controller.abort();
    } else {
      process.stderr.write(`streamwatch up: ${signal} again: exiting now; the next start resumes from the last checkpoint\n`);
      process.exit(130);
    }
  };
  const onInt = (): void => stop('SIGINT');
  const onTerm = (): void => stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const summary = await runUp({
      ...(dataset !== undefined ? { dataset } : {}),
      live,
      ...(brokerText !== undefined ? { brokers: brokerText.split(',').map((b) => b.trim()).filter((b) => b.length > 0) } : {}),
      brokerHost: '127.0.0.1',
      brokerPort: num(parsed, 'broker-port', 9092, (n) => Number.isInteger(n) && n >= 0 && n <= 65535),
      dashboardHost: host,
      dashboardPort: num(parsed, 'port', 8080, (n) => Number.isInteger(n) && n >= 0 && n <= 65535),
      ...(token ? { token } : {}),
      dataDir: str(parsed, 'data-dir') ?? '.streamwatch',
      outDir: str(parsed, 'out-dir') ?? 'out',
      ...(str(parsed, 'database-url') !== undefined ? { databaseUrl: str(parsed, 'database-url') } : {}),
      speed: num(parsed, 'speed', 10, (n) => Number.isFinite(n) && n >= 0),
      partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
      trimLeading: flag(parsed, 'trim-leading'),
      logRate: num(parsed, 'log-rate', 20, (n) => Number.isFinite(n) && n >= 0),
      webhooks: list(parsed, 'webhook'),
      ...(untilIdle !== undefined ? { untilIdleMs: duration(parsed, 'until-idle', 0) } : {}),
      signal: controller.signal,
      log: (line) => process.stderr.write(`streamwatch up: ${line}\n`),
      onReady: (where: UpAddresses) => {
        process.stderr.write([
          'streamwatch up: running',
          `  dashboard  ${where.dashboard}${token ? ' (token required)' : ''}`,
          `  brokers    ${where.brokers}`,
          `  outputs    ${where.outDir}`,
          `  database   ${where.database}`,
          `  data dir   ${where.dataDir}`,
          '  Ctrl+C stops everything cleanly; run it again to resume.',
          '',
        ].join('\n'));
      },
    });
    const rows = Object.entries(summary.rows).map(([name, n]) => `${name} ${n}`).join(', ');
    const input = live ? `collected ${summary.collected} samples` : `replayed ${summary.replayed} rows`;
    finishLine(`up: ${input}, ${summary.logEvents} log events; window rows: ${rows}; ${summary.incidents} incidents; stored ${summary.sinkRecords} records in ${elapsedSince(started)}`);
    return 0;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
