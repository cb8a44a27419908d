// End-to-end Kafka benchmark (npm run bench:pipeline): the embedded broker
// as a child process, `produce metrics` of 2.88 M rows (11.5 M messages),
// and the assignment's two consumers (`consume` of topic-cpu,topic-mem and
// topic-net,topic-disk) running at the same time. Prints the producer's and
// each consumer's msgs/s, and the consumer groups' lag every two seconds.
//
//   node bench/pipeline.ts [--servers 100] [--duration 144000] [--compression lz4]
//                          [--batch 4000] [--linger 5] [--sequential]
//
// --sequential runs the consumers after the producer, so each side is
// measured alone (the machine has two cores).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KafkaAdmin } from '../src/kafka/index.ts';
import { groupLag } from '../src/cli/commands/lag.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '100' },
    duration: { type: 'string', default: '144000' },
    compression: { type: 'string', default: 'lz4' },
    batch: { type: 'string', default: '4000' },
    linger: { type: 'string', default: '5' },
    sequential: { type: 'boolean', default: false },
  },
});

const children = new Set<ChildProcess>();
function start(args: string[], onStderr?: (line: string) => void): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string; seconds: number }> } {
  const started = performance.now();
  const child = spawn(node, ['bin/streamwatch.js', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (onStderr) for (const line of chunk.split('\n')) if (line) onStderr(line);
  });
  const done = new Promise<{ code: number | null; stderr: string; seconds: number }>((resolve) => {
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
  return { child, done };
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

async function dataset(servers: string, duration: string): Promise<string> {
  const dir = join(tmpdir(), 'streamwatch-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `metrics-${servers}x${duration}.csv`);
  if (existsSync(file)) return file;
  const generated = await start(['generate', 'metrics', '--servers', servers, '--duration', duration, '--out', `${file}.partial`]).done;
  if (generated.code !== 0) throw new Error(generated.stderr);
  renameSync(`${file}.partial`, file);
  return file;
}

const work = mkdtempSync(join(tmpdir(), 'sw-bench-pipeline-'));
try {
  const file = await dataset(values.servers, values.duration);
  let address = '';
  const brokerReady = new Promise<void>((resolve) => {
    start(['broker', '--port', '0', '--data-dir', join(work, 'broker')], (line) => {
      const match = /listening on (\S+:\d+)/.exec(line);
      if (match) {
        address = match[1]!;
        resolve();
      }
    });
  });
  await brokerReady;
  console.log(`broker ${address}; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}; dataset ${file}`);

  const admin = await KafkaAdmin.connect({ brokers: [address] });
  // The consumers start with the producer, so the topics must exist first.
  await admin.ensureTopics(['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk'], 3);
  const groups = ['bench-cpu-mem', 'bench-net-disk'];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    void (async () => {
      const reports = await Promise.all(groups.map((g) => groupLag(admin, g, g === groups[0] ? ['topic-cpu', 'topic-mem'] : ['topic-net', 'topic-disk']).catch(() => null)));
      const logEnd = reports.reduce((sum, r) => sum + (r?.totals.logEndOffset ?? 0), 0);
      console.log(`t=${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s  in log ${String(logEnd).padStart(9)}  lag ${groups.map((g, i) => `${g} ${reports[i]?.totals.lag ?? '-'}`).join('  ')}`);
    })();
  }, 2000);

  const produce = start(['produce', 'metrics', '--file', file, '-b', address, '--no-progress', '--compression', values.compression, '--batch', values.batch, '--linger', values.linger]);
  const consume = (): Array<Promise<{ code: number | null; stderr: string; seconds: number }>> => [
    start(['consume', '--group', groups[0]!, '--topics', 'topic-cpu,topic-mem', '--out-dir', join(work, 'c1'), '--until-idle', '5', '--batch', '20000', '-b', address]).done,
    start(['consume', '--group', groups[1]!, '--topics', 'topic-net,topic-disk', '--out-dir', join(work, 'c2'), '--until-idle', '5', '--batch', '20000', '-b', address]).done,
  ];
  let consumers = values.sequential ? [] : consume();
  const produced = await produce.done;
  if (produced.code !== 0) throw new Error(`produce failed: ${produced.stderr}`);
  if (values.sequential) consumers = consume();
  const consumed = await Promise.all(consumers);
  clearInterval(sampler);
  await admin.close();

  const summary = /sent (\d+) messages .* in ([\d.]+) s.*?, (\d+) msgs\/s/.exec(produced.stderr);
  console.log(`\nproduce: ${produced.stderr.trim().split('\n').at(-1)}`);
  console.log(`produce: ${summary ? Number(summary[3]).toLocaleString('en-US') : '?'} msgs/s (process wall ${produced.seconds.toFixed(1)} s incl. start-up)`);
  for (const [i, c] of consumed.entries()) {
    if (c.code !== 0) throw new Error(`consume failed: ${c.stderr}`);
    const wrote = [...c.stderr.matchAll(/topic-\w+ (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    const busy = c.seconds - 5; // minus the idle wait before exiting
    const cpu = Number(/cpu ([\d.]+) s/.exec(c.stderr)?.[1] ?? Number.NaN);
    console.log(`consume ${groups[i]}: ${wrote.toLocaleString('en-US')} records, ${Math.round(wrote / busy).toLocaleString('en-US')} msgs/s (${busy.toFixed(1)} s until idle, incl. start-up), cpu ${cpu} s = ${Math.round(wrote / cpu).toLocaleString('en-US')} msgs per cpu-second`);
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
