// `streamwatch produce metrics|nginx|lb`: arguments in, one of the
// producers of src/io/produce run, one summary line out. Ctrl+C or SIGTERM
// stops a producer cleanly (everything sent is flushed first).

import { UsageError } from '../../errors.ts';
import { COMPRESSIONS, type Acks, type Compression } from '../../kafka/index.ts';
import { DEFAULT_GENERATE_RATE, produceGeneratedLogs, produceLogFile, type LogKind, type LogProduceSummary } from '../../io/produce/log-lines.ts';
import { replayMetrics } from '../../io/produce/metrics-replay.ts';
import type { PublishOptions } from '../../io/produce/publisher.ts';
import { brokerOptions, brokers, flag, num, parse, required, stopSignal, str, type OptionSpec, type Parsed } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';

const kafkaFlags = `  --partitions N      partitions of topics created here (default 3)
  --acks all|1|0      acknowledgement wanted from the broker (default all; idempotent with all)
  --compression C     lz4 (default), gzip, snappy or none
  --batch N           messages per produce request (default 4000)
  --linger MS         how long a partial batch waits for more (default 5; 50 with --generate)
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

const usage = `usage: streamwatch produce metrics --file F [options]
       streamwatch produce nginx|lb (--file F | --generate) [options]

Publishes each row of a combined metrics CSV (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io)
as JSON to topic-cpu, topic-mem, topic-net and topic-disk, keyed by server_id. Missing topics are
created. Rows that fail validation go to --rejects and are never published.
'streamwatch produce nginx --help' and 'produce lb --help' describe the log producers.

  --file F            input CSV (streamed; any size)
  --speed X           1 = the data's own pace (one timestamp group per time step), 10 = ten times
                      faster, 0 = as fast as possible (default)
  --rate N            at most N rows per second (each row gives one message per topic)
  --rejects F         write rejected rows to F (source,line,reason,record)
  --no-progress       no progress bar (it is shown only on a terminal anyway)
${kafkaFlags}`;

const logUsage = (kind: LogKind): string => `usage: streamwatch produce ${kind} (--file F | --generate) [options]

Publishes ${kind === 'nginx' ? 'NGINX access events to topic nginx-logs, keyed by the client IP' : 'load-balancer log lines to topic lb-logs, keyed by the backend server'},
one line a message. Missing topics are created. Each line is checked with the parser the detectors
use first: a line that fails goes to --rejects with its line number and reason, never to Kafka.

  --file F            publish each non-blank line of F (${kind === 'nginx' ? 'JSON events or NGINX combined log lines' : 'LB lines'}), in order
  --generate          publish generated events endlessly, stamped with the wall clock as they go
                      out (${kind === 'nginx' ? 'bursts and 4xx storms included' : 'a backend has a slow, failing spell now and then'}), until Ctrl+C or SIGTERM
  --rate N            events per second (default: as fast as possible for --file, ${DEFAULT_GENERATE_RATE} for --generate)
  --events N          stop after publishing N events
  --seed N            seed of --generate (default 1): the same seed gives the same events (times aside)
  --rejects F         write rejected lines to F (source,line,reason,record)
  --no-progress       no progress bar for --file (it is shown only on a terminal anyway)
${kafkaFlags}`;

const kafkaOptions: OptionSpec = {
  ...brokerOptions,
  partitions: { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  batch: { type: 'string' },
  linger: { type: 'string' },
  rejects: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

export async function run(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') {
    process.stdout.write(usage);
    return kind === undefined ? 2 : 0;
  }
  if (kind === 'metrics') return produceMetrics(rest);
  if (kind === 'nginx' || kind === 'lb') return produceLogs(kind, rest);
  throw new UsageError(`produce: unknown dataset '${kind}' (expected metrics, nginx or lb)`);
}

function publishOptions(parsed: Parsed): PublishOptions {
  const acksText = str(parsed, 'acks') ?? 'all';
  if (!['all', '-1', '1', '0'].includes(acksText)) throw new UsageError(`--acks: '${acksText}' is not all, 1 or 0`);
  const compression = str(parsed, 'compression') ?? 'lz4';
  if (!(COMPRESSIONS as readonly string[]).includes(compression)) throw new UsageError(`--compression: '${compression}' is not one of ${COMPRESSIONS.join(', ')}`);
  const acks: Acks = acksText === 'all' || acksText === '-1' ? 'all' : acksText === '1' ? 1 : 0;
  return {
    brokers: brokers(parsed),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000),
    acks,
    compression: compression as Compression,
    batchMessages: num(parsed, 'batch', 4000, (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000),
    // Absent: the producer's own default (5 ms for files, 50 ms for --generate).
    lingerMs: str(parsed, 'linger') === undefined ? undefined : num(parsed, 'linger', 5, (n) => Number.isFinite(n) && n >= 0 && n <= 60_000),
  };
}

/** CPU time too: on a shared machine it says more about the cost than the wall time. */
function rates(sent: number, started: bigint, cpuStart: NodeJS.CpuUsage): string {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return `${Math.round(sent / Math.max(seconds, 1e-3))} msgs/s, cpu ${cpuSeconds.toFixed(2)} s (${Math.round(sent / Math.max(cpuSeconds, 1e-3))} msgs per cpu-second)`;
}

async function produceMetrics(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...kafkaOptions, file: { type: 'string' }, speed: { type: 'string' }, rate: { type: 'string' } });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const file = required(parsed, 'file');
  if (str(parsed, 'speed') !== undefined && str(parsed, 'rate') !== undefined) throw new UsageError('--speed and --rate cannot be combined');
  const options = {
    ...publishOptions(parsed),
    file,
    speed: num(parsed, 'speed', 0, (n) => Number.isFinite(n) && n >= 0),
    rate: num(parsed, 'rate', 0, (n) => Number.isFinite(n) && n > 0),
    rejects: str(parsed, 'rejects'),
    progress: !flag(parsed, 'no-progress') && process.stderr.isTTY === true,
  };
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const summary = await replayMetrics({ ...options, signal: stopSignal(), log: (line) => finishLine(`produce metrics: ${line}`) });
  finishLine(`produce metrics: sent ${summary.sent} messages (${summary.rows} rows), rejected ${summary.rejected}${summary.interrupted ? ' (interrupted)' : ''} in ${elapsedSince(started)}, ${rates(summary.sent, started, cpuStart)}`);
  return 0;
}

async function produceLogs(kind: LogKind, argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...kafkaOptions,
    file: { type: 'string' },
    generate: { type: 'boolean' },
    rate: { type: 'string' },
    events: { type: 'string' },
    seed: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(logUsage(kind));
    return 0;
  }
  const file = str(parsed, 'file');
  const generate = flag(parsed, 'generate');
  if ((file === undefined) === !generate) throw new UsageError(`produce ${kind}: give one of --file F or --generate`);
  if (file === '') throw new UsageError('--file: empty path');
  if (file !== undefined && str(parsed, 'seed') !== undefined) throw new UsageError('--seed goes with --generate, not --file');
  const common = {
    ...publishOptions(parsed),
    kind,
    events: num(parsed, 'events', Number.POSITIVE_INFINITY, (n) => Number.isInteger(n) && n >= 0),
    rejects: str(parsed, 'rejects'),
    signal: stopSignal(),
    log: (line: string) => finishLine(`produce ${kind}: ${line}`),
  };
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let summary: LogProduceSummary;
  if (file !== undefined) {
    summary = await produceLogFile({
      ...common,
      file,
      rate: num(parsed, 'rate', 0, (n) => Number.isFinite(n) && n > 0),
      progress: !flag(parsed, 'no-progress') && process.stderr.isTTY === true,
    });
  } else {
    summary = await produceGeneratedLogs({
      ...common,
      rate: num(parsed, 'rate', DEFAULT_GENERATE_RATE, (n) => Number.isFinite(n) && n > 0 && n <= 1_000_000),
      seed: num(parsed, 'seed', 1, (n) => Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER),
    });
  }
  const stopped = summary.interrupted ? (generate ? ' (stopped)' : ' (interrupted)') : '';
  finishLine(`produce ${kind}: sent ${summary.sent} messages to ${summary.topic} (${summary.acknowledged} acknowledged), read ${summary.read} lines, rejected ${summary.rejected}${stopped} in ${elapsedSince(started)}, ${rates(summary.sent, started, cpuStart)}`);
  return 0;
}
