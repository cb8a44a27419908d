// `streamwatch simulate`: arguments in, the simulated fleet of
// src/io/produce/simulate.ts run until Ctrl+C, SIGTERM or --duration, one
// summary line out.

import { UsageError } from '../../errors.ts';
import { runSimulation, SIMULATE_DEFAULTS } from '../../io/produce/simulate.ts';
import { brokerOptions, brokers, duration, flag, num, parse, stopSignal, str } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';

const usage = `usage: streamwatch simulate [options]

A fleet of simulated servers behind a load balancer, live. Every interval each server publishes
its record (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io as one JSON object, ts an ISO 8601
UTC instant) to topic server-metrics and, for the detectors, to topic-cpu, topic-mem, topic-net and
topic-disk as 'produce metrics' does. The balancer writes one line per request to lb-logs; each
request's latency and status follow its server's load. Now and then a server has an anomaly (cpu
spike, memory saturation, DDoS, disk thrash) or goes silent for 90-180 s; each one is announced on
stderr as it starts. Runs until Ctrl+C or SIGTERM (a clean stop: everything sent is flushed).

  --servers N         simulated servers, server_1..server_N (default ${SIMULATE_DEFAULTS.servers})
  --interval D        time between two reports of a server (default 1s; 500ms, 5s, 1m)
  --rate N            balancer lines per second (default ${SIMULATE_DEFAULTS.lbRate}; 0: no balancer)
  --seed N            the same seed gives the same fleet (default ${SIMULATE_DEFAULTS.seed})
  --duration D        stop after this long (10s, 5m, 1h)
  --reports N         stop after N reports (tests, scripts)
  --no-split          publish only server-metrics (and lb-logs), not the per-metric topics
  --partitions N      partitions of topics created here (default 3)
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    servers: { type: 'string' },
    interval: { type: 'string' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    reports: { type: 'string' },
    'no-split': { type: 'boolean' },
    partitions: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const intervalMs = duration(parsed, 'interval', SIMULATE_DEFAULTS.intervalMs);
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 86_400_000) throw new UsageError(`--interval: '${str(parsed, 'interval')}' must be whole milliseconds from 10ms to 24h`);
  const durationMs = str(parsed, 'duration') === undefined ? undefined : duration(parsed, 'duration', 0);
  const started = process.hrtime.bigint();
  const summary = await runSimulation({
    brokers: brokers(parsed),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000),
    servers: num(parsed, 'servers', SIMULATE_DEFAULTS.servers, (n) => Number.isInteger(n) && n >= 1 && n <= 100_000),
    intervalMs,
    lbRate: num(parsed, 'rate', SIMULATE_DEFAULTS.lbRate, (n) => Number.isFinite(n) && n >= 0 && n <= 1_000_000),
    seed: num(parsed, 'seed', SIMULATE_DEFAULTS.seed, (n) => Number.isInteger(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER),
    split: !flag(parsed, 'no-split'),
    durationMs,
    reports: num(parsed, 'reports', Number.POSITIVE_INFINITY, (n) => Number.isInteger(n) && n >= 0),
    signal: stopSignal(),
    log: (line) => finishLine(`simulate: ${line}`),
  });
  finishLine(`simulate: ${summary.reports} reports, ${summary.records} server records, ${summary.lbLines} balancer lines, ${summary.episodes} episodes; sent ${summary.sent} messages (${summary.acknowledged} acknowledged), rejected ${summary.rejected}${summary.interrupted ? ' (stopped)' : ''} in ${elapsedSince(started)}`);
  return 0;
}
