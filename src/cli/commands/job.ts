// `streamwatch job ...`: the batch jobs, files in, files out. Each job's
// modules are loaded when it runs (a job starts a few ms sooner without the
// others' parsers).
import { UsageError } from '../../errors.ts';
import type { LogBatchSummary } from '../../io/log-batch.ts';
import type { MetricBatchInput } from '../../io/metric-batch.ts';
import type { NginxGoalName } from '../../jobs/nginx-goals.ts';
import { defaultThresholds, METRIC_PAIR_JOBS, parseThreshold, type MetricPairJob, type Thresholds } from '../../jobs/metric-pairs.ts';
import { flag, num, parse, required, str, type Parsed } from '../args.ts';
import { finishLine, elapsedSince } from '../report.ts';

const usage = `usage:
  streamwatch job cpu-mem  (--input COMBINED.csv | --cpu CPU.csv --mem MEM.csv) --out OUT.csv
  streamwatch job net-disk (--input COMBINED.csv | --net NET.csv --disk DISK.csv) --out OUT.csv
      [--trim-leading] [--rejects REJECTS.csv] [--incidents INCIDENTS.csv] [--threads 1|2]
      cpu-mem:  [--cpu-threshold 83.45] [--mem-threshold 78.92]
      net-disk: [--net-threshold 4149.79] [--disk-threshold 1925.47]
  streamwatch job nginx --detector ip-burst|host-4xx|country-success|host-latency
      --input EVENTS --out OUT.csv [--rejects F] [--incidents F] [--server-name NAME]
  streamwatch job lb-summary --input LB.log --out OUT.csv [--rejects F]

cpu-mem, net-disk: 30-second windows sliding by 10 seconds per server
(SEMANTICS.md section 3), one CSV row per window, sorted by server then time.
--threads 2 parses the input in a second thread while the first windows it
(the default for inputs of 16 MB or more, given 2 cores); the rows are the
same either way.
nginx: one of the four goals of SEMANTICS.md section 4 over JSON lines or
NGINX combined log lines (auto-detected per line); --server-name is the host
of combined lines without a virtual host. lb-summary: 5-minute summaries of
a load-balancer log (section 5). Log job rows are sorted by window start,
then key.
`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === 'cpu-mem' || name === 'net-disk') return runMetricJob(METRIC_PAIR_JOBS[name], rest);
  if (name === 'nginx') return runNginxJob(rest);
  if (name === 'lb-summary') return runLbSummaryJob(rest);
  throw new UsageError(`unknown job '${name}' (cpu-mem, net-disk, nginx, lb-summary)`);
}

async function runMetricJob(job: MetricPairJob, argv: string[]): Promise<number> {
  const [a, b] = job.sides;
  const parsed = parse(argv, {
    input: { type: 'string' },
    [a.name]: { type: 'string' },
    [b.name]: { type: 'string' },
    out: { type: 'string' },
    rejects: { type: 'string' },
    incidents: { type: 'string' },
    'trim-leading': { type: 'boolean' },
    threads: { type: 'string' },
    [a.thresholdFlag]: { type: 'string' },
    [b.thresholdFlag]: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const out = required(parsed, 'out');
  const combined = str(parsed, 'input');
  const first = str(parsed, a.name);
  const second = str(parsed, b.name);
  let inputs: MetricBatchInput[];
  if (combined !== undefined) {
    if (first !== undefined || second !== undefined) throw new UsageError(`give either --input or --${a.name} and --${b.name}, not both`);
    inputs = [{ path: combined, sides: [a, b] }];
  } else {
    if (first === undefined || second === undefined) throw new UsageError(`--input, or both --${a.name} and --${b.name}, are required`);
    inputs = [{ path: first, sides: [a] }, { path: second, sides: [b] }];
  }
  const thresholds = readThresholds(job, parsed);
  const { runMetricBatch } = await import('../../io/metric-batch.ts');
  const started = process.hrtime.bigint();
  const summary = await runMetricBatch({
    job,
    inputs,
    steadyYoungGeneration: true,
    out,
    rejects: str(parsed, 'rejects'),
    incidents: str(parsed, 'incidents'),
    thresholds,
    trimLeading: flag(parsed, 'trim-leading'),
    threads: str(parsed, 'threads') === undefined ? undefined : (num(parsed, 'threads', 1, (n) => n === 1 || n === 2) as 1 | 2),
  });
  finishLine(`job ${job.name}: read ${summary.read} rows, rejected ${summary.rejected}, late ${summary.late}, wrote ${summary.written} rows, ${summary.incidents} incidents in ${elapsedSince(started)}, ${summary.threads} thread${summary.threads > 1 ? 's' : ''}${summary.passes > 1 ? ' (rows out of order: read twice)' : ''}`);
  return 0;
}

export function readThresholds(job: MetricPairJob, parsed: Parsed): Thresholds {
  const defaults = defaultThresholds(job);
  return [0, 1].map((i) => {
    const name = job.sides[i]!.thresholdFlag;
    const text = str(parsed, name);
    if (text === undefined) return defaults[i]!;
    const value = parseThreshold(text);
    if (value === null) throw new UsageError(`--${name}: '${text}' is not a number`);
    return value;
  }) as unknown as Thresholds;
}

function logSummaryLine(name: string, summary: LogBatchSummary, started: bigint, withIncidents: boolean): void {
  finishLine(`job ${name}: read ${summary.read} lines, rejected ${summary.rejected}, skipped ${summary.skipped}, late ${summary.late}, wrote ${summary.written} rows${withIncidents ? `, ${summary.incidents} incidents` : ''} in ${elapsedSince(started)}${summary.passes > 1 ? ' (lines out of order: read twice)' : ''}`);
}

/** `job nginx --detector NAME`: one NGINX goal over JSON or combined log lines. */
async function runNginxJob(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    detector: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
    rejects: { type: 'string' },
    incidents: { type: 'string' },
    'server-name': { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const { NGINX_GOALS } = await import('../../jobs/nginx-goals.ts');
  const detector = required(parsed, 'detector');
  if (!Object.hasOwn(NGINX_GOALS, detector)) throw new UsageError(`--detector: '${detector}' is not one of ${Object.keys(NGINX_GOALS).join(', ')}`);
  const goal = NGINX_GOALS[detector as NginxGoalName];
  const input = required(parsed, 'input');
  const out = required(parsed, 'out');
  const incidents = str(parsed, 'incidents');
  if (incidents !== undefined && goal.alert === null) throw new UsageError(`--incidents: ${goal.name} reports every window and has no incidents (ip-burst and host-4xx have)`);
  const serverName = str(parsed, 'server-name');
  if (serverName !== undefined && (serverName === '' || /[\s,]/.test(serverName))) throw new UsageError(`--server-name: '${serverName}' is not a host name`);
  const { nginxBatchJob, runLogBatch } = await import('../../io/log-batch.ts');
  const started = process.hrtime.bigint();
  const summary = await runLogBatch({ job: nginxBatchJob(goal, serverName ?? null), input, out, rejects: str(parsed, 'rejects'), incidents });
  logSummaryLine(`nginx ${goal.name}`, summary, started, goal.alert !== null);
  return 0;
}

/** `job lb-summary`: 5-minute summaries of a load-balancer log. */
async function runLbSummaryJob(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    input: { type: 'string' },
    out: { type: 'string' },
    rejects: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const input = required(parsed, 'input');
  const out = required(parsed, 'out');
  const { LB_BATCH_JOB, runLogBatch } = await import('../../io/log-batch.ts');
  const started = process.hrtime.bigint();
  const summary = await runLogBatch({ job: LB_BATCH_JOB, input, out, rejects: str(parsed, 'rejects') });
  logSummaryLine('lb-summary', summary, started, false);
  return 0;
}
