// `streamwatch detect ...`: the detectors in streaming mode, topics in,
// topics and files out.
import { UsageError } from '../../errors.ts';
import { runLbDetect, runNginxDetect } from '../../io/stream/log-detect.ts';
import { runMetricDetect } from '../../io/stream/metric-detect.ts';
import { LB_SUMMARY } from '../../jobs/lb-summary.ts';
import { METRIC_PAIR_JOBS, type MetricPairJob } from '../../jobs/metric-pairs.ts';
import { NGINX_GOALS, type NginxGoalName } from '../../jobs/nginx-goals.ts';
import { brokerOptions, brokers, duration, flag, num, parse, required, stopSignal, str, type OptionSpec, type Parsed } from '../args.ts';
import { readThresholds } from './job.ts';
import { elapsedSince, finishLine } from '../report.ts';
import { serveMetrics } from '../../web/metrics-endpoint.ts';
import { createPipelineMetrics } from '../../web/pipeline-metrics.ts';

const usage = `usage:
  streamwatch detect cpu-mem|net-disk --group G [--out F.csv] [--incidents F.csv]
      [--until-idle SECONDS] [--trim-leading] [--lateness 10s] [--idle-timeout 5s]
      [--silence 60s|off]
      [--partitions 3] [--metrics-port P] [-b|--brokers host:port,...] [thresholds as for 'job']

Reads topic-cpu + topic-mem (cpu-mem) or topic-net + topic-disk (net-disk) as
one member of consumer group G, emits every window row to alerts-cpu-mem /
alerts-net-disk, incidents to 'incidents', invalid and late records to
streamwatch-rejects. A server that reported before and sends nothing for
--silence (event time; it keeps moving while the input is idle) opens a
'Server silent' incident, closed when it reports again. Several workers in one group share the partitions.
State is checkpointed every second: after kill -9 a restarted worker goes on
where its last checkpoint was, and its outputs hold no row twice.
--metrics-port P (every detector) serves this worker's Prometheus metrics, the
window emit-latency histogram, at http://127.0.0.1:P/metrics.

  streamwatch detect nginx --group G [--out DIR] [--incidents F.csv]
      [--detector ip-burst,host-4xx,country-success,host-latency] [--server-name NAME]
      [--until-idle SECONDS] [--lateness 10s] [--idle-timeout 5s] [--partitions 3]
      [--topic nginx-logs]

Reads nginx-logs (one JSON event or NGINX combined log line per message) and
runs the four goals at once: rows as JSON to goal1-topic .. goal4-topic,
ip-burst and host-4xx incidents to 'incidents', invalid and late messages to
streamwatch-rejects. --out DIR keeps DIR/<goal>.csv with the columns of
'job nginx --detector <goal>' (rows appended as windows close); --detector
runs a subset. One worker of the group runs it (it reads every partition:
the goals are keyed by different fields).

  streamwatch detect lb-summary --group G [--out F.csv] [--until-idle SECONDS]
      [--lateness 10m] [--idle-timeout 5s] [--partitions 3] [--topic lb-logs]

Reads lb-logs (one log line per message): 5-minute summaries over every
backend to topic lb-summary; --out F.csv is rewritten whole, sorted as 'job
lb-summary' writes it, after each batch that closed a window (a temporary
file renamed into place: a reader never sees half a file). One worker of the
group runs it (it reads every partition).
`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === 'cpu-mem' || name === 'net-disk') return detectMetrics(METRIC_PAIR_JOBS[name], rest);
  if (name === 'nginx') return detectNginx(rest);
  if (name === 'lb-summary') return detectLbSummary(rest);
  throw new UsageError(`unknown detector '${name}' (cpu-mem, net-disk, nginx, lb-summary)`);
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
    'metrics-port': { type: 'string' },
    [job.sides[0].thresholdFlag]: { type: 'string' },
    [job.sides[1].thresholdFlag]: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const started = process.hrtime.bigint();
  const untilIdle = str(parsed, 'until-idle');
  const endpoint = await metricsEndpoint(parsed, job.name);
  const summary = await runMetricDetect({
    ...endpoint.hooks,
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
  }).finally(() => endpoint.close());
  finishLine(`detect ${job.name}: read ${summary.read} records, rejected ${summary.rejected}, late ${summary.late}, emitted ${summary.rows} rows, ${summary.incidents} incidents in ${elapsedSince(started)}`);
  return 0;
}

const runnerFlags: OptionSpec = {
  ...brokerOptions,
  group: { type: 'string' },
  out: { type: 'string' },
  'until-idle': { type: 'string' },
  lateness: { type: 'string' },
  'idle-timeout': { type: 'string' },
  partitions: { type: 'string' },
  'checkpoint-interval': { type: 'string' },
  'metrics-port': { type: 'string' },
  topic: { type: 'string' },
};

/**
 * `--metrics-port P`: this worker's own Prometheus endpoint, with the window
 * emit-latency histogram (seconds from a row's emission to its acknowledgement).
 */
async function metricsEndpoint(parsed: Parsed, job: string): Promise<{ hooks: { onEmitLatency?: (seconds: number) => void }; close(): Promise<void> }> {
  if (str(parsed, 'metrics-port') === undefined) return { hooks: {}, close: async () => {} };
  const port = num(parsed, 'metrics-port', 0, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const metrics = createPipelineMetrics();
  const endpoint = await serveMetrics(metrics.registry, port).catch((error: unknown) => {
    throw new UsageError(`--metrics-port: ${(error as Error).message}`);
  });
  process.stderr.write(`streamwatch detect ${job}: metrics at ${endpoint.url}/metrics\n`);
  return { hooks: { onEmitLatency: (seconds) => metrics.windowEmitLatency.observe({ job }, seconds) }, close: () => endpoint.close() };
}

/** The options every log detector shares. */
function logRunnerOptions(parsed: Parsed, name: string, defaultLatenessMs: number) {
  const untilIdle = str(parsed, 'until-idle');
  return {
    brokers: brokers(parsed),
    group: required(parsed, 'group'),
    lateness: duration(parsed, 'lateness', defaultLatenessMs),
    idleTimeout: duration(parsed, 'idle-timeout', 5_000),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
    untilIdleMs: untilIdle === undefined ? undefined : duration(parsed, 'until-idle', 0),
    checkpointIntervalMs: duration(parsed, 'checkpoint-interval', 1000),
    inputTopic: str(parsed, 'topic'),
    signal: stopSignal(),
    log: (line: string) => process.stderr.write(`streamwatch detect ${name}: ${line}\n`),
  };
}

async function detectNginx(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...runnerFlags, incidents: { type: 'string' }, detector: { type: 'string' }, 'server-name': { type: 'string' } });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const detectors = str(parsed, 'detector');
  let goals: NginxGoalName[] | undefined;
  if (detectors !== undefined) {
    const names = detectors.split(',').map((d) => d.trim());
    for (const goal of names) if (!Object.hasOwn(NGINX_GOALS, goal)) throw new UsageError(`--detector: '${goal}' is not one of ${Object.keys(NGINX_GOALS).join(', ')}`);
    goals = names as NginxGoalName[];
  }
  const incidents = str(parsed, 'incidents');
  if (incidents !== undefined && goals !== undefined && !goals.some((g) => NGINX_GOALS[g].alert !== null)) throw new UsageError('--incidents: only ip-burst and host-4xx have incidents');
  const serverName = str(parsed, 'server-name');
  if (serverName !== undefined && (serverName === '' || /[\s,]/.test(serverName))) throw new UsageError(`--server-name: '${serverName}' is not a host name`);
  const started = process.hrtime.bigint();
  const endpoint = await metricsEndpoint(parsed, 'nginx');
  const summary = await runNginxDetect({
    ...logRunnerOptions(parsed, 'nginx', 10_000),
    ...endpoint.hooks,
    goals,
    serverName: serverName ?? null,
    outDir: str(parsed, 'out'),
    incidents,
  }).finally(() => endpoint.close());
  const rows = Object.entries(summary.rows).map(([goal, n]) => `${goal} ${n}`).join(', ');
  finishLine(`detect nginx: read ${summary.read} records, rejected ${summary.rejected}, late ${summary.late}, emitted rows ${rows}, ${summary.incidents} incidents in ${elapsedSince(started)}`);
  return 0;
}

async function detectLbSummary(argv: string[]): Promise<number> {
  const parsed = parse(argv, runnerFlags);
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const started = process.hrtime.bigint();
  const endpoint = await metricsEndpoint(parsed, 'lb-summary');
  const summary = await runLbDetect({ ...logRunnerOptions(parsed, 'lb-summary', LB_SUMMARY.lateness), ...endpoint.hooks, out: str(parsed, 'out') }).finally(() => endpoint.close());
  finishLine(`detect lb-summary: read ${summary.read} records, rejected ${summary.rejected}, late ${summary.late}, emitted ${summary.rows} rows in ${elapsedSince(started)}`);
  return 0;
}
