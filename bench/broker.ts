// Throughput of the embedded broker (npm run bench:broker).
//
// Starts `streamwatch broker` as a child process (fresh temp data dir, fsync
// as given), then measures with real clients, 100-byte records:
//   kcat produce  acks=1 and acks=all  (kcat -P -l FILE, linger.ms, batch.num.messages=10000)
//   kcat consume  (kcat -C -e -o beginning, every record counted)
//   @platformatic/kafka produce acks=1 and acks=-1, and consume (a group stream from earliest)
// and prints msgs/s and MB/s per run. A short warm-up goes first (the
// broker's JIT and the first topic creation would otherwise count), and each
// run is repeated (--repeat, fresh topics each time): on a shared machine the
// best of a few says more than any single one.
//
//   node bench/broker.ts [--messages 1000000] [--plt-messages 200000] [--fsync always|never] [--linger 5] [--repeat 3]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Consumer, Producer } from '@platformatic/kafka';

const root = fileURLToPath(new URL('../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const RECORD_BYTES = 100;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    'plt-messages': { type: 'string', default: '200000' },
    fsync: { type: 'string', default: 'always' },
    linger: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '3' },
  },
});
const messages = Number(values.messages);
const pltMessages = Number(values['plt-messages']);
const repeat = Number(values.repeat);

interface Row { run: string; messages: number; seconds: number }
const rows: Row[] = [];

function report(row: Row): void {
  rows.push(row);
  const rate = row.messages / row.seconds;
  process.stdout.write(`${row.run.padEnd(40)} ${String(row.messages).padStart(9)} msgs ${row.seconds.toFixed(2).padStart(7)} s ${Math.round(rate).toLocaleString('en-US').padStart(11)} msgs/s ${((rate * RECORD_BYTES) / 1e6).toFixed(1).padStart(7)} MB/s\n`);
}

/**
 * Runs a command, returning wall seconds and the number of newline-terminated
 * lines it printed (with count=false its output goes to /dev/null, so the
 * figure is not the speed of a pipe).
 */
function timed(command: string, args: string[], count = true): Promise<{ seconds: number; lines: number; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', count ? 'pipe' : 'ignore', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: (performance.now() - began) / 1000, lines, stderr, code }));
  });
}

async function startBroker(dataDir: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const child = spawn(node, [join(root, 'bin/streamwatch.js'), 'broker', '--port', '0', '--data-dir', dataDir, '--fsync', String(values.fsync)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening on [^\s]+:(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`broker exited: ${text}`)));
  });
  return {
    address: `127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function kcatProduce(address: string, file: string, topic: string, acks: string, record = true): Promise<void> {
  const result = await timed('kcat', ['-P', '-b', address, '-t', topic, '-l', file, '-X', `acks=${acks}`, '-X', `linger.ms=${values.linger}`, '-X', 'batch.num.messages=10000', '-X', 'queue.buffering.max.messages=2000000']);
  if (result.code !== 0) throw new Error(`kcat -P failed: ${result.stderr}`);
  if (record) report({ run: `kcat produce acks=${acks}`, messages, seconds: result.seconds });
}

async function kcatConsume(address: string, topic: string): Promise<void> {
  // Values to /dev/null: -e exits only at the end of the partition, so all were read.
  const fast = await timed('kcat', ['-C', '-b', address, '-t', topic, '-e', '-o', 'beginning', '-q'], false);
  if (fast.code !== 0) throw new Error(`kcat -C failed: ${fast.stderr}`);
  report({ run: 'kcat consume (values to /dev/null)', messages, seconds: fast.seconds });
  // Values through a pipe, every line counted: also the speed of the pipe and of kcat's printing.
  const counted = await timed('kcat', ['-C', '-b', address, '-t', topic, '-e', '-o', 'beginning', '-q']);
  if (counted.code !== 0 || counted.lines !== messages) throw new Error(`kcat -C read ${counted.lines} of ${messages}: ${counted.stderr}`);
  report({ run: 'kcat consume (values piped, counted)', messages, seconds: counted.seconds });
}

async function platformaticProduce(address: string, topic: string, acks: 1 | -1): Promise<void> {
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: [address], acks, autocreateTopics: true });
  const value = Buffer.alloc(RECORD_BYTES, 'x');
  const batchSize = 1000;
  const inFlight = 8;
  const began = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < pltMessages) {
      const count = Math.min(batchSize, pltMessages - next);
      next += count;
      await producer.send({ messages: Array.from({ length: count }, () => ({ topic, value, partition: 0 })) });
    }
  }));
  const seconds = (performance.now() - began) / 1000;
  await producer.close();
  report({ run: `platformatic produce acks=${acks}`, messages: pltMessages, seconds });
}

async function platformaticConsume(address: string, topic: string): Promise<void> {
  const consumer = new Consumer({ groupId: `bench-${Date.now()}`, clientId: 'bench', bootstrapBrokers: [address], maxWaitTime: 100 });
  const began = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxBytes: 16 * 1024 * 1024 });
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      if (++seen === pltMessages) resolve();
    });
    stream.on('error', reject);
  });
  const seconds = (performance.now() - began) / 1000;
  await consumer.close(true);
  report({ run: 'platformatic consume', messages: pltMessages, seconds });
}

const work = mkdtempSync(join(tmpdir(), 'sw-bench-broker-'));
const file = join(work, 'records.txt');
writeFileSync(file, `${'x'.repeat(RECORD_BYTES - 1)}\n`.repeat(messages));
process.stdout.write(`streamwatch broker benchmark: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, fsync ${values.fsync}, ${RECORD_BYTES}-byte records\n`);
const broker = await startBroker(join(work, 'data'));
try {
  await kcatProduce(broker.address, file, 'warm-up', '1', false);
  for (let round = 1; round <= repeat; round++) {
    await kcatProduce(broker.address, file, `kcat-acks1-${round}`, '1');
    await kcatProduce(broker.address, file, `kcat-acksall-${round}`, 'all');
    await kcatConsume(broker.address, `kcat-acks1-${round}`);
    await platformaticProduce(broker.address, `plt-acks1-${round}`, 1);
    await platformaticProduce(broker.address, `plt-acksall-${round}`, -1);
    await platformaticConsume(broker.address, `plt-acks1-${round}`);
  }
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`\nbest of ${repeat}:\n`);
const best = new Map<string, Row>();
for (const row of rows) {
  const seen = best.get(row.run);
  if (!seen || row.messages / row.seconds > seen.messages / seen.seconds) best.set(row.run, row);
}
const all = [...best.values()];
rows.length = 0;
for (const row of all) report(row);
