// `streamwatch generate <dataset>`: writes deterministic sample datasets.
// One entry per dataset in `datasets`; each parses its own flags.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { StreamwatchError, UsageError } from '../../errors.ts';
import { num, parse, required, str } from '../args.ts';
import { defaultMetricsOptions } from '../../io/generators/metrics.ts';
import type { MetricsOptions } from '../../io/generators/metrics.ts';
import { TOPIC_FILES, writeMetricsCombined, writeMetricsPerTopic } from '../../io/generators/metrics-csv.ts';
import { fileSink, stdoutSink } from '../../io/generators/sinks.ts';
import { defaultNginxOptions, writeNginxEvents } from '../../io/generators/nginx.ts';
import { defaultLbOptions, writeLbLines } from '../../io/generators/lb.ts';

interface Dataset {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const datasets: Record<string, Dataset> = {
  metrics: { summary: 'server metrics CSV (combined, or per topic)', run: generateMetrics },
  nginx: { summary: 'NGINX access events, JSON lines, with bursts and 4xx storms', run: generateNginx },
  lb: { summary: 'load-balancer log lines', run: generateLb },
};

const usage = `usage: streamwatch generate <dataset> [options]

datasets:
${Object.entries(datasets).map(([name, d]) => `  ${name.padEnd(10)} ${d.summary}`).join('\n')}

'streamwatch generate <dataset> --help' describes its options.
`;

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  const dataset = datasets[name];
  if (!dataset) throw new UsageError(`generate: unknown dataset '${name}' (expected ${Object.keys(datasets).join(', ')})`);
  return dataset.run(rest);
}

const metricsUsage = `usage: streamwatch generate metrics --out FILE|-|DIR [options]

Writes the server-metrics dataset (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io),
one row per server per step, in time order, with anomaly episodes of every alert kind.

  --out F          output file, '-' for standard output, or a directory with --format per-topic
  --format F       combined (default) or per-topic (DIR/topic-cpu.csv, topic-mem.csv, topic-net.csv, topic-disk.csv)
  --servers N      number of servers, server_1..server_N (default 20)
  --start HH:MM:SS time of day of the first step (default 20:53:00); times wrap past midnight
  --cadence S      seconds between steps (default 5)
  --duration S     seconds covered (default 7200: 1,440 steps)
  --seed N         same seed, same bytes (default 1)
`;

const isInteger = (low: number, high: number) => (n: number) => Number.isInteger(n) && n >= low && n <= high;

function parseStart(text: string | undefined): number {
  if (text === undefined) return defaultMetricsOptions.startSeconds;
  const match = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  const [h, m, s] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [NaN, NaN, NaN];
  if (!(h <= 23 && m <= 59 && s <= 59)) throw new UsageError(`--start: '${text}' is not a time of day HH:MM:SS`);
  return h * 3600 + m * 60 + s;
}

async function generateMetrics(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    out: { type: 'string', short: 'o' },
    format: { type: 'string' },
    servers: { type: 'string' },
    start: { type: 'string' },
    cadence: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
  });
  if (parsed.values.help) {
    process.stdout.write(metricsUsage);
    return 0;
  }
  const out = required(parsed, 'out');
  const format = str(parsed, 'format') ?? 'combined';
  if (format !== 'combined' && format !== 'per-topic') throw new UsageError(`--format: '${format}' is not combined or per-topic`);
  const options: MetricsOptions = {
    servers: num(parsed, 'servers', defaultMetricsOptions.servers, isInteger(1, 1_000_000)),
    startSeconds: parseStart(str(parsed, 'start')),
    cadence: num(parsed, 'cadence', defaultMetricsOptions.cadence, isInteger(1, 86_400)),
    duration: num(parsed, 'duration', defaultMetricsOptions.duration, isInteger(1, 100 * 86_400)),
    seed: num(parsed, 'seed', defaultMetricsOptions.seed, isInteger(0, Number.MAX_SAFE_INTEGER)),
  };
  if (options.duration < options.cadence) throw new UsageError(`--duration ${options.duration} is shorter than one step of --cadence ${options.cadence}`);

  const began = performance.now();
  let rows: number;
  if (format === 'per-topic') {
    if (out === '-') throw new UsageError('--format per-topic writes four files: --out must be a directory');
    try {
      mkdirSync(out, { recursive: true });
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `cannot create directory ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    const [cpu, mem, net, disk] = TOPIC_FILES.map((file) => fileSink(join(out, `${file.topic}.csv`)));
    rows = await writeMetricsPerTopic(options, { 'topic-cpu': cpu!, 'topic-mem': mem!, 'topic-net': net!, 'topic-disk': disk! });
  } else {
    rows = await writeMetricsCombined(options, out === '-' ? stdoutSink() : fileSink(out));
  }
  const seconds = ((performance.now() - began) / 1000).toFixed(2);
  process.stderr.write(`streamwatch generate metrics: wrote ${rows} rows (${options.servers} servers) to ${out === '-' ? 'standard output' : out} in ${seconds} s\n`);
  return 0;
}

const nginxUsage = `usage: streamwatch generate nginx --out FILE|- [--events N] [--seed N]

Writes NGINX access events as JSON lines (SEMANTICS.md section 4), in time
order from 2022-08-03T06:50:00Z, about 200 a second, with bursts (one client
sending more than 10 requests in 20 s) and 4xx storms (one host answering
more than 15 client errors in 30 s), so every nginx detector reports something
(from 2,000 events on).

  --out F       output file, or '-' for standard output
  --events N    number of events (default 100000)
  --seed N      same seed, same bytes (default 1)
`;

async function generateNginx(argv: string[]): Promise<number> {
  const parsed = parse(argv, { out: { type: 'string', short: 'o' }, events: { type: 'string' }, seed: { type: 'string' } });
  if (parsed.values.help) {
    process.stdout.write(nginxUsage);
    return 0;
  }
  const out = required(parsed, 'out');
  const options = {
    ...defaultNginxOptions,
    events: num(parsed, 'events', defaultNginxOptions.events, isInteger(0, 1_000_000_000)),
    seed: num(parsed, 'seed', defaultNginxOptions.seed, isInteger(0, Number.MAX_SAFE_INTEGER)),
  };
  const began = performance.now();
  const events = await writeNginxEvents(options, out === '-' ? stdoutSink() : fileSink(out));
  const seconds = ((performance.now() - began) / 1000).toFixed(2);
  process.stderr.write(`streamwatch generate nginx: wrote ${events} events to ${out === '-' ? 'standard output' : out} in ${seconds} s\n`);
  return 0;
}

const lbUsage = `usage: streamwatch generate lb --out FILE|- [--lines N] [--seed N]

Writes load-balancer log lines (SEMANTICS.md section 5), in time order from
2024-05-01T10:00:00Z, about 20 a second: two balancers, ten backends.

  --out F       output file, or '-' for standard output
  --lines N     number of lines (default 100000)
  --seed N      same seed, same bytes (default 1)
`;

async function generateLb(argv: string[]): Promise<number> {
  const parsed = parse(argv, { out: { type: 'string', short: 'o' }, lines: { type: 'string' }, seed: { type: 'string' } });
  if (parsed.values.help) {
    process.stdout.write(lbUsage);
    return 0;
  }
  const out = required(parsed, 'out');
  const options = {
    ...defaultLbOptions,
    lines: num(parsed, 'lines', defaultLbOptions.lines, isInteger(0, 1_000_000_000)),
    seed: num(parsed, 'seed', defaultLbOptions.seed, isInteger(0, Number.MAX_SAFE_INTEGER)),
  };
  const began = performance.now();
  const lines = await writeLbLines(options, out === '-' ? stdoutSink() : fileSink(out));
  const seconds = ((performance.now() - began) / 1000).toFixed(2);
  process.stderr.write(`streamwatch generate lb: wrote ${lines} lines to ${out === '-' ? 'standard output' : out} in ${seconds} s\n`);
  return 0;
}
