// Streaming benchmark of `streamwatch detect cpu-mem` (npm run bench:detect).
//
// Starts the embedded broker as a child process, fills topic-cpu and
// topic-mem with a generated dataset (default 2,880,000 rows: 1,000 servers
// x 4 h at 5 s, so 5.76 M messages), then runs the detector over that
// backlog as a child process while a consumer reads alerts-cpu-mem live.
// Prints the detector's start-up time (process start to its tasks being
// assigned: module loading, topic checks, group join), events/s while it
// processes (from the assignment to the last record; the --until-idle wait
// is not counted), and the emit latency: from the moment the detector sends
// a window row (its record timestamp, set when the watermark has just
// passed the window end) to the moment the row can be read from the output
// topic, p50/p99/max. The load average of the machine is printed with it.
//
//   node bench/detect.ts [--rows 2880000]
//   DETECT_PROF=DIR node bench/detect.ts   (writes a .cpuprofile of the detector to DIR)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LineReader } from '../src/io/csv/line-reader.ts';
import { GroupConsumer, KafkaAdmin, KafkaProducer } from '../src/kafka/index.ts';
import { measure } from './measure.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const { values } = parseArgs({ options: { rows: { type: 'string', default: '2880000' } } });
const rows = Number(values.rows);
const servers = rows >= 100_000 ? 1000 : 20;
const dataDir = join(root, 'bench/data');
mkdirSync(dataDir, { recursive: true });

const dataset = join(dataDir, `metrics-${rows}.csv`);
if (!existsSync(dataset)) {
  const run = await measure(node, ['bin/streamwatch.js', 'generate', 'metrics', '--out', dataset, '--servers', String(servers), '--duration', String((rows / servers) * 5)], { cwd: root });
  if (run.status !== 0) throw new Error(run.stderr);
}

const work = mkdtempSync(join(tmpdir(), 'sw-bench-detect-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const broker = spawn(node, ['bin/streamwatch.js', 'broker', '--port', String(port), '--data-dir', join(work, 'broker'), '--fsync', 'never'], { cwd: root, stdio: 'ignore' });
const brokers = [`127.0.0.1:${port}`];
try {
  await new Promise((r) => setTimeout(r, 1500));
  const admin = await KafkaAdmin.connect({ brokers });
  await admin.ensureTopics(['topic-cpu', 'topic-mem'], 3);
  await admin.close();

  // Fill the input topics (the producer side is measured by bench:pipeline).
  const producer = await KafkaProducer.connect({ brokers, acks: 1, batchMessages: 8000, lingerMs: 5 });
  const reader = await LineReader.open(dataset);
  let header: string[] | null = null;
  let messages = 0;
  const fillStart = performance.now();
  for (;;) {
    const line = reader.next();
    if (line === undefined) {
      await reader.fill();
      continue;
    }
    if (line === null) break;
    const f = line.split(',');
    if (header === null) {
      header = f;
      continue;
    }
    const p1 = producer.send('topic-cpu', f[1]!, `{"ts":"${f[0]}","server_id":"${f[1]}","cpu_pct":${f[2]}}`);
    if (p1) await p1;
    const p2 = producer.send('topic-mem', f[1]!, `{"ts":"${f[0]}","server_id":"${f[1]}","mem_pct":${f[3]}}`);
    if (p2) await p2;
    messages += 2;
  }
  await producer.close();
  await reader.close();
  const fillSeconds = (performance.now() - fillStart) / 1000;
  process.stderr.write(`filled topic-cpu + topic-mem: ${messages} messages in ${fillSeconds.toFixed(1)} s (${Math.round(messages / fillSeconds)} msgs/s)\n`);

  // Read the output live and note each row's latency.
  const latencies: number[] = [];
  const outAdmin = await KafkaAdmin.connect({ brokers });
  await outAdmin.ensureTopics(['alerts-cpu-mem'], 3);
  await outAdmin.close();
  const watcher = await GroupConsumer.start({ brokers, groupId: 'bench-watch', topics: ['alerts-cpu-mem'], fallback: 'earliest', maxWaitMs: 20 });
  let watching = true;
  const watching$ = (async () => {
    while (watching) {
      for (const record of await watcher.poll(100)) latencies.push(Date.now() - record.timestamp);
    }
  })();

  const untilIdle = 3;
  // CPU time of the detector (all its threads) when its tasks are assigned and at exit: a figure the
  // other processes on a shared machine disturb less than wall time.
  const cpuHook = `const write = process.stderr.write.bind(process.stderr); let marked = false;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
process.stderr.write = (chunk, ...rest) => { const r = write(chunk, ...rest); if (!marked && /tasks: \\d/.test(String(chunk))) { marked = true; write('bench-cpu-assigned ' + cpu() + '\\n'); } return r; };
process.on('exit', () => write('bench-cpu-exit ' + cpu() + '\\n'));`;
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const started = performance.now();
  let assignedAt = NaN;
  const run = await measure(node, ['--import', `data:text/javascript,${encodeURIComponent(cpuHook)}`, ...(process.env.DETECT_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.DETECT_PROF}`] : []), 'bin/streamwatch.js', 'detect', 'cpu-mem', '-b', brokers[0]!, '--group', 'bench', '--until-idle', String(untilIdle), '--silence', 'off'], {
    cwd: root,
    onStderr: (text) => {
      if (Number.isNaN(assignedAt) && /tasks: \d/.test(text)) assignedAt = performance.now();
    },
  });
  if (run.status !== 0) throw new Error(run.stderr);
  await new Promise((r) => setTimeout(r, 1000));
  watching = false;
  await watching$;
  await watcher.close();

  const match = /read (\d+) records.*emitted (\d+) rows/.exec(run.stderr);
  const read = Number(match?.[1] ?? 0);
  const startSeconds = (assignedAt - started) / 1000;
  // From the assignment to the exit, less the idle wait (the last checkpoint and close stay in).
  const busySeconds = run.seconds - startSeconds - untilIdle;
  const cpuAssigned = Number(/bench-cpu-assigned ([\d.]+)/.exec(run.stderr)?.[1] ?? NaN);
  const cpuExit = Number(/bench-cpu-exit ([\d.]+)/.exec(run.stderr)?.[1] ?? NaN);
  const cpuSeconds = cpuExit - cpuAssigned;
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  console.log('| dataset rows | input messages | start-up s | processing s | events/s | processing CPU s | events per CPU s | peak MB | rows out | emit latency p50 / p99 / max ms | load avg before / after |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
  console.log(`| ${rows} | ${read} | ${startSeconds.toFixed(1)} | ${busySeconds.toFixed(1)} | ${Math.round(read / busySeconds)} | ${cpuSeconds.toFixed(1)} | ${Math.round(read / cpuSeconds)} | ${Math.round(run.peakBytes / 1e6)} | ${latencies.length} | ${pct(0.5)} / ${pct(0.99)} / ${latencies.at(-1)} | ${load} / ${loadavg().map((l) => l.toFixed(2)).join(' ')} |`);
} finally {
  broker.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(work, { recursive: true, force: true });
}
