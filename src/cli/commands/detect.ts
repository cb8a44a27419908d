// `streamwatch detect ...`: the detectors in streaming mode, topics in,
// topics and files out.
import { UsageError } from '../../errors.ts';
import { runMetricDetect } from '../../io/stream/metric-detect.ts';
import { METRIC_PAIR_JOBS, type MetricPairJob } from '../../jobs/metric-pairs.ts';
import { brokerOptions, brokers, duration, flag, num, parse, required, stopSignal, str } from '../args.ts';
import { readThresholds } from './job.ts';
import { elapsedSince, finishLine } from '../report.ts';

const usage = `usage:
  streamwatch detect cpu-mem|net-disk --group G [--out F.csv] [--incidents F.csv]
      [--until-idle SECONDS] [--trim-leading] [--lateness 10s] [--idle-timeout 5s]
      [--silence 60s|off]
      [--partitions 3] [-b|--brokers host:port,...] [thresholds as for 'job']

Reads topic-cpu + topic-mem (cpu-mem) or topic-net + topic-disk (net-disk) as
one member of consumer group G, emits every window row to alerts-cpu-mem /
alerts-net-disk, incidents to 'incidents', invalid and late records to
streamwatch-rejects. A server that reported before and sends nothing for
--silence (event time; it keeps moving while the input is idle) opens a
'Server silent' incident, closed when it reports again. Several workers in one group share the partitions.
State is checkpointed every second: after kill -9 a restarted worker goes on
where its last checkpoint was, and its outputs hold no row twice.
`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === 'cpu-mem' || name === 'net-disk') return detectMetrics(METRIC_PAIR_JOBS[name], rest);
  throw new UsageError(`unknown detector '${name}' (cpu-mem, net-disk)`);
}

async function detectMetrics(job: MetricPairJob, argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    group: { type: 'string' },
    out: { type: 'string' },
    incidents: { type: 'string' },
    'until-idle': { type: 'string' },
    'trim-leading': { type: 'boolean' },
    lateness: { type: 'string' },
    'idle-timeout': { type: 'string' },
    silence: { type: 'string' },
    partitions: { type: 'string' },
    'checkpoint-interval': { type: 'string' },
    [job.sides[0].thresholdFlag]: { type: 'string' },
    [job.sides[1].thresholdFlag]: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const started = process.hrtime.bigint();
  const untilIdle = str(parsed, 'until-idle');
  const summary = await runMetricDetect({
    job,
    brokers: brokers(parsed),
    group: required(parsed, 'group'),
    thresholds: readThresholds(job, parsed),
    trimLeading: flag(parsed, 'trim-leading'),
    lateness: duration(parsed, 'lateness', 10_000),
    idleTimeout: duration(parsed, 'idle-timeout', 5_000),
    silenceAfter: str(parsed, 'silence') === 'off' ? Number.POSITIVE_INFINITY : duration(parsed, 'silence', 60_000),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
    out: str(parsed, 'out'),
    incidents: str(parsed, 'incidents'),
    untilIdleMs: untilIdle === undefined ? undefined : duration(parsed, 'until-idle', 0),
    checkpointIntervalMs: duration(parsed, 'checkpoint-interval', 1000),
    signal: stopSignal(),
    log: (line) => process.stderr.write(`streamwatch detect ${job.name}: ${line}\n`),
  });
  finishLine(`detect ${job.name}: read ${summary.read} records, rejected ${summary.rejected}, late ${summary.late}, emitted ${summary.rows} rows, ${summary.incidents} incidents in ${elapsedSince(started)}`);
  return 0;
}
