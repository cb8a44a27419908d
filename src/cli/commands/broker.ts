// streamwatch broker: runs the embedded Kafka-compatible broker in the
// foreground until SIGINT/SIGTERM, then stops cleanly (storage flushed).
import { parse, str, num, flag } from '../args.ts';
import { UsageError } from '../../errors.ts';
import { DEFAULT_MAX_REQUEST_BYTES, startBroker } from '../../broker/server.ts';
import { serveMetrics } from '../../web/metrics-endpoint.ts';
import { brokerRequestHook, createPipelineMetrics } from '../../web/pipeline-metrics.ts';

const help = `usage: streamwatch broker [options]

Runs a single-node Kafka-compatible broker (kcat, kafkajs, @platformatic/kafka
and streamwatch itself can use it).

options:
  --host HOST               address to listen on (default 127.0.0.1)
  --port PORT               port to listen on, 0 for any free port (default 9092)
  --data-dir DIR            where topics, logs and group offsets live (default .streamwatch/broker)
  --fsync always|never      always: acks=1/-1 are answered after fsync (default); never: after write
  --max-request-bytes N     largest request accepted (default ${DEFAULT_MAX_REQUEST_BYTES})
  --default-partitions N    partitions of auto-created topics (default 1)
  --no-auto-create          do not create unknown topics on Metadata requests
  --metrics-port PORT       serve Prometheus metrics (requests per API, errors, durations)
                            at http://127.0.0.1:PORT/metrics
  -h, --help                this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    fsync: { type: 'string' },
    'max-request-bytes': { type: 'string' },
    'default-partitions': { type: 'string' },
    'no-auto-create': { type: 'boolean' },
    'metrics-port': { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(help);
    return 0;
  }
  const fsync = str(parsed, 'fsync') ?? 'always';
  if (fsync !== 'always' && fsync !== 'never') throw new UsageError(`--fsync: '${fsync}' must be 'always' or 'never'`);
  // Last resort: a bug in one request must not take the broker (and every client) down.
  process.on('uncaughtException', (error) => process.stderr.write(`streamwatch broker: internal error: ${error.stack ?? String(error)}\n`));
  process.on('unhandledRejection', (reason) => process.stderr.write(`streamwatch broker: internal error: ${(reason as Error)?.stack ?? String(reason)}\n`));
  const metricsPort = str(parsed, 'metrics-port');
  const metrics = metricsPort === undefined ? null : createPipelineMetrics();
  const broker = await startBroker({
    ...(metrics ? { onRequest: brokerRequestHook(metrics) } : {}),
    host: str(parsed, 'host') ?? '127.0.0.1',
    port: num(parsed, 'port', 9092, (n) => Number.isInteger(n) && n >= 0 && n <= 65535),
    dataDir: str(parsed, 'data-dir') ?? '.streamwatch/broker',
    fsync,
    maxRequestBytes: num(parsed, 'max-request-bytes', DEFAULT_MAX_REQUEST_BYTES, (n) => Number.isInteger(n) && n >= 1024 && n <= 2 ** 31 - 1),
    defaultPartitions: num(parsed, 'default-partitions', 1, (n) => Number.isInteger(n) && n >= 1 && n <= 10000),
    autoCreateTopics: !flag(parsed, 'no-auto-create'),
  });
  const endpoint = metrics === null ? null : await serveMetrics(metrics.registry, num(parsed, 'metrics-port', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 65535)).catch(async (error: unknown) => {
    await broker.close();
    throw new UsageError(`--metrics-port: ${(error as Error).message}`);
  });
  if (endpoint) process.stderr.write(`streamwatch broker: metrics at ${endpoint.url}/metrics\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      process.stderr.write(`streamwatch broker: ${signal}, stopping\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await endpoint?.close();
  await broker.close();
  return 0;
}
