// Streaming benchmark of `streamwatch detect nginx` (npm run bench:detect-nginx):
// the four goals at once over a backlog of generated NGINX events, with
// 1,000, 10,000 and 100,000 distinct client IPs.
//
// Starts the embedded broker as a child process, fills one topic per IP
// count with N events of the generator (src/io/generators/nginx.ts, with
// `clients` distinct addresses and --rate events a second of event time, so
// windows hold many keys), then runs the detector over each backlog in a
// child process (this file with --worker, calling runNginxDetect with its
// onEmitLatency hook). Prints events/s (records read / wall time from the
// first batch received to the last one processed), the worker's CPU
// seconds (the machine may be shared: CPU time is the steadier figure),
// emit latency p50/p99/max (from a row's emission to the broker's
// acknowledgement, see TaskRunnerOptions.onEmitLatency) and the worker's
// peak resident memory.
//
// --offline leaves the broker out: the same generated events go straight
// into the detectors' LogStreamTask in this process (parse, four goals'
// windows, a tick every 1,000 events), so the figures are the parser and
// window operators' own, in events per CPU second, and steady enough to
// compare one change of them with the next on a loaded machine.
//
//   node bench/detect-nginx.ts [--events 1000000] [--ips 1000,10000,100000] [--rate 2000] [--offline]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nginxEvents, defaultNginxOptions } from '../src/io/generators/nginx.ts';
import { nginxStreamJob, runNginxDetect } from '../src/io/stream/log-detect.ts';
import { LogStreamTask } from '../src/jobs/log-stream-task.ts';
import { NGINX_GOALS, type NginxGoalName } from '../src/jobs/nginx-goals.ts';
import type { InputRecord } from '../src/jobs/stream-task.ts';
import { KafkaAdmin, KafkaProducer } from '../src/kafka/index.ts';
import { measure } from './measure.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    ips: { type: 'string', default: '1000,10000,100000' },
    rate: { type: 'string', default: '2000' },
    worker: { type: 'boolean', default: false },
    offline: { type: 'boolean', default: false },
    brokers: { type: 'string' },
    topic: { type: 'string' },
  },
});

if (values.worker) {
  await worker(values.brokers!, values.topic!);
} else if (values.offline) {
  offline(Number(values.events), values.ips.split(',').map(Number), Number(values.rate));
} else {
  await main(Number(values.events), values.ips.split(',').map(Number), Number(values.rate));
}

/** One detector run over `topic`; prints its figures as one `RESULT {json}` line on stderr (measure() reads stderr). */
async function worker(brokers: string, topic: string): Promise<void> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const summary = await runNginxDetect({
    brokers: [brokers],
    group: `bench-${topic}`,
    inputTopic: topic,
    partitions: 3,
    lateness: 10_000,
    idleTimeout: 5_000,
    untilIdleMs: 2_000,
    onEmitLatency: (seconds) => latencies.push(seconds * 1000),
    log: (line) => process.stderr.write(`detect nginx: ${line}\n`),
  });
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const seconds = ((summary.lastInputAt ?? 0) - (summary.firstInputAt ?? 0)) / 1000;
  const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  process.stderr.write(`RESULT ${JSON.stringify({ read: summary.read, rejected: summary.rejected, late: summary.late, seconds, rows, cpuSeconds: (cpu.user + cpu.system) / 1e6, byGoal: summary.rows, incidents: summary.incidents, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) ?? Number.NaN })}\n`);
}

/** The four goals' LogStreamTask over generated events in this process: events per CPU second, best of three runs. */
function offline(count: number, ipCounts: number[], rate: number): void {
  const topic = 'nginx-bench';
  console.log(`detect nginx --offline, four goals, ${count} events at ${rate} events/s of event time, best of 3 runs`);
  console.log('| distinct IPs | events | CPU s | events per CPU second | rows out | heap MB after |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const ips of ipCounts) {
    const records: InputRecord[] = [];
    for (const { value } of events(count, ips, rate)) records.push({ topic, partition: records.length % 3, offset: Math.floor(records.length / 3), value });
    let best = Number.POSITIVE_INFINITY;
    let rows = 0;
    let heap = 0;
    for (let run = 0; run < 3; run++) {
      rows = 0;
      const task = new LogStreamTask(nginxStreamJob(Object.keys(NGINX_GOALS) as NginxGoalName[], null, topic), 0, [0, 1, 2], { lateness: 10_000, idleTimeout: 5_000 }, {
        row: () => rows++,
        incident: () => {},
        reject: (_record, reason) => {
          throw new Error(reason);
        },
      });
      const cpuBefore = process.cpuUsage();
      task.start(0);
      for (let i = 0; i < records.length; i++) {
        task.process(records[i]!, i);
        if (i % 1000 === 999) task.tick(i);
      }
      task.finish();
      const cpu = process.cpuUsage(cpuBefore);
      best = Math.min(best, (cpu.user + cpu.system) / 1e6);
      heap = process.memoryUsage().heapUsed;
    }
    console.log(`| ${ips} | ${count} | ${best.toFixed(2)} | ${Math.round(count / best)} | ${rows} | ${Math.round(heap / 1e6)} |`);
  }
}

/** The generator's events with `ips` distinct client addresses at `rate` events a second of event time. */
function* events(count: number, ips: number, rate: number): Generator<{ key: string; value: string }> {
  for (const { line } of nginxEvents({ ...defaultNginxOptions, events: count, clients: ips, rate, exactGaps: true })) {
    const at = line.indexOf('"client_ip":"') + 13;
    yield { key: line.slice(at, line.indexOf('"', at)), value: line };
  }
}

async function main(count: number, ipCounts: number[], rate: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'streamwatch-bench-nginx-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const broker = spawn(node, ['bin/streamwatch.js', 'broker', '--port', String(port), '--data-dir', join(work, 'broker'), '--fsync', 'never'], { cwd: root, stdio: 'ignore' });
  const brokers = `127.0.0.1:${port}`;
  const results: string[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1500));
    for (const ips of ipCounts) {
      const topic = `nginx-bench-${ips}`;
      const admin = await KafkaAdmin.connect({ brokers: [brokers] });
      await admin.ensureTopics([topic], 3);
      await admin.close();
      const producer = await KafkaProducer.connect({ brokers: [brokers], acks: 1, batchMessages: 8000, lingerMs: 5 });
      const fillStart = performance.now();
      let sent = 0;
      for (const { key, value } of events(count, ips, rate)) {
        const pending = producer.send(topic, key, value);
        if (pending) await pending;
        sent++;
      }
      await producer.close();
      const fillSeconds = (performance.now() - fillStart) / 1000;
      process.stderr.write(`filled ${topic}: ${sent} events in ${fillSeconds.toFixed(1)} s\n`);

      const run = await measure(node, [...(process.env.DETECT_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DETECT_PROF}`] : []), 'bench/detect-nginx.ts', '--worker', '--brokers', brokers, '--topic', topic], { cwd: root });
      if (run.status !== 0) throw new Error(run.stderr);
      const figures = JSON.parse(/^RESULT (.*)$/m.exec(run.stderr)![1]!) as { read: number; seconds: number; cpuSeconds: number; rows: number; byGoal: Record<string, number>; incidents: number; p50: number; p99: number; max: number };
      process.stderr.write(`${topic}: ${JSON.stringify(figures)}\n`);
      results.push(`| ${ips} | ${figures.read} | ${figures.seconds.toFixed(1)} | ${Math.round(figures.read / figures.seconds)} | ${figures.cpuSeconds.toFixed(1)} | ${figures.rows} (${Object.values(figures.byGoal).join(' / ')}), ${figures.incidents} incidents | ${figures.p50.toFixed(0)} / ${figures.p99.toFixed(0)} / ${figures.max.toFixed(0)} | ${Math.round(run.peakBytes / 1e6)} |`);
    }
    console.log(`detect nginx, four goals, ${count} events at ${rate} events/s of event time, 3 partitions`);
    console.log('| distinct IPs | events read | detect s | events/s | worker CPU s (whole run) | rows out (goal 1/2/3/4) | emit latency p50 / p99 / max ms | peak MB |');
    console.log('|---:|---:|---:|---:|---:|---|---|---:|');
    for (const line of results) console.log(line);
  } finally {
    broker.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}
