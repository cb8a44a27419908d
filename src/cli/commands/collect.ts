// `streamwatch collect`: live metrics of this machine (/proc) published to
// the four metric topics, or printed as CSV rows with --print.
import { hostname } from 'node:os';
import { UsageError } from '../../errors.ts';
import { runCollector } from '../../io/collect/collector.ts';
import { serverIdFromHostname } from '../../io/collect/sample.ts';
import { COMBINED_HEADER } from '../../io/generators/metrics-csv.ts';
import { serverIdProblem } from '../../engine/metric-record.ts';
import { brokerOptions, brokers, duration, flag, num, parse, stopSignal, str } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';

const usage = `usage: streamwatch collect [--interval 1s] [--count N | --duration 10m] [--print] [options]

Reads this machine's metrics from /proc every interval and publishes them as
topic-cpu, topic-mem, topic-net and topic-disk messages, as 'produce metrics'
publishes a row of the dataset (key and server_id: the host name). Runs until
Ctrl+C or SIGTERM (then flushes and prints one summary line), --count or --duration.

  cpu_pct   % of CPU time busy over the interval (/proc/stat; idle and iowait count as free)
  mem_pct   % of memory in use: (MemTotal - MemAvailable) / MemTotal (/proc/meminfo)
  net_in    KB/s (1 KB = 1024 bytes) received, net_out sent, summed over interfaces (/proc/net/dev)
  disk_io   reads + writes completed per second on whole disks (/proc/diskstats)
  ts        the instant of the reading, ISO 8601 UTC with milliseconds

  --interval D        time between samples (default 1s; 500ms, 10s, 1m; at least 100ms)
  --count N           stop after N intervals (the first sample comes after one interval)
  --duration D        stop after D (e.g. 30s, 10m)
  --server-id ID      key and server_id (default: the host name, characters outside
                      A-Z a-z 0-9 _ . : - replaced by _, at most 128)
  --interfaces LIST   interfaces counted for net_in/net_out (default: every one but lo)
  --print, --dry-run  write the rows as CSV (${COMBINED_HEADER}) to stdout, no Kafka
  --proc-root DIR     read DIR/stat, DIR/meminfo, DIR/net/dev, DIR/diskstats (default /proc)
  --partitions N      partitions of topics created here (default 3)
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    interval: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string' },
    'server-id': { type: 'string' },
    interfaces: { type: 'string' },
    print: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'proc-root': { type: 'string' },
    partitions: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const intervalMs = duration(parsed, 'interval', 1000);
  if (intervalMs < 100) throw new UsageError(`--interval: '${str(parsed, 'interval')}' is shorter than 100ms`);
  const durationText = str(parsed, 'duration');
  const serverId = str(parsed, 'server-id') ?? serverIdFromHostname(hostname());
  const idProblem = serverIdProblem(serverId);
  if (idProblem !== null) throw new UsageError(`--server-id: ${idProblem}`);
  const interfacesText = str(parsed, 'interfaces');
  const interfaces = interfacesText === undefined ? null : interfacesText.split(',').map((s) => s.trim()).filter(Boolean);
  if (interfaces !== null && interfaces.length === 0) throw new UsageError('--interfaces: empty list');
  const print = flag(parsed, 'print') || flag(parsed, 'dry-run');

  const options = {
    intervalMs,
    serverId,
    procRoot: str(parsed, 'proc-root'),
    interfaces,
    brokers: print ? undefined : brokers(parsed),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000),
    count: num(parsed, 'count', Number.POSITIVE_INFINITY, (n) => Number.isInteger(n) && n >= 1),
    durationMs: durationText === undefined ? undefined : duration(parsed, 'duration', 0),
  };

  const started = process.hrtime.bigint();
  // A reader that goes away (`--print | head`: EPIPE) stops it like Ctrl+C.
  const readerGone = new AbortController();
  if (print) process.stdout.on('error', () => readerGone.abort());
  if (print) process.stdout.write(`${COMBINED_HEADER}\n`);
  const summary = await runCollector({
    ...options,
    signal: AbortSignal.any([stopSignal(), readerGone.signal]),
    log: (line) => process.stderr.write(`streamwatch collect: ${line}\n`),
    onSample: print ? (sample) => process.stdout.write(`${sample.row}\n`) : undefined,
  });
  const published = print ? 'printed' : `published (${summary.messages} messages)`;
  finishLine(`collect: ${summary.samples} samples of '${serverId}' ${published}, skipped ${summary.skipped}, rejected ${summary.rejected} in ${elapsedSince(started)}`);
  return 0;
}
