// The assignment's pipeline end to end on the embedded broker (in-process):
// generate → produce → two consumer groups → batch jobs on their files give
// exactly the rows of the jobs on the combined file. Then a consumer killed
// with SIGKILL mid-run, twice, stopped with SIGTERM once, and restarted:
// every record once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBroker, type RunningBroker } from '../../src/broker/server.ts';
import { cli, csvRows, expectedTopicRows, killChildren, startCli, TOPIC_HEADERS } from './helpers/kafka-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sw-produce-consume-'));
let broker: RunningBroker | null = null;
after(async () => {
  killChildren();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function theBroker(): Promise<string> {
  broker ??= await startBroker({ port: 0, dataDir: join(dir, 'broker'), log: () => {} });
  return broker.address;
}

const combinedPath = join(dir, 'metrics.csv');

test('generate → produce → two consume groups → jobs equal the jobs on the combined file', async () => {
  const brokers = await theBroker();
  const generated = await cli(['generate', 'metrics', '--out', combinedPath]);
  assert.equal(generated.code, 0, generated.stderr);
  const produced = await cli(['produce', 'metrics', '--file', combinedPath, '-b', brokers, '--rejects', join(dir, 'produce-rejects.csv')]);
  assert.equal(produced.code, 0, produced.stderr);
  assert.match(produced.stderr, /sent 115200 messages \(28800 rows\), rejected 0 in .* msgs\/s/);
  assert.equal(readFileSync(join(dir, 'produce-rejects.csv'), 'utf8'), 'source,line,reason,record\n');

  const [first, second] = await Promise.all([
    cli(['consume', '--group', 'consumer-1', '--topics', 'topic-cpu,topic-mem', '--out-dir', join(dir, 'c1'), '--until-idle', '2', '--bootstrap-server', brokers]),
    cli(['consume', '--group', 'consumer-2', '--topics', 'topic-net,topic-disk', '--out-dir', join(dir, 'c2'), '--until-idle', '2'], { env: { KAFKA_BROKERS: brokers } }),
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);

  const expected = expectedTopicRows(readFileSync(combinedPath, 'utf8'));
  for (const [topic, out] of [['topic-cpu', 'c1'], ['topic-mem', 'c1'], ['topic-net', 'c2'], ['topic-disk', 'c2']] as const) {
    assert.deepEqual(csvRows(join(dir, out, `${topic}.csv`), TOPIC_HEADERS[topic]!), expected[topic], topic);
  }

  const job = (args: string[]) => cli(['job', ...args]);
  const results = await Promise.all([
    job(['cpu-mem', '--cpu', join(dir, 'c1/topic-cpu.csv'), '--mem', join(dir, 'c1/topic-mem.csv'), '--out', join(dir, 'cpu-mem-topics.csv')]),
    job(['cpu-mem', '--input', combinedPath, '--out', join(dir, 'cpu-mem-combined.csv')]),
    job(['net-disk', '--net', join(dir, 'c2/topic-net.csv'), '--disk', join(dir, 'c2/topic-disk.csv'), '--out', join(dir, 'net-disk-topics.csv')]),
    job(['net-disk', '--input', combinedPath, '--out', join(dir, 'net-disk-combined.csv')]),
  ]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  for (const name of ['cpu-mem', 'net-disk']) {
    const fromTopics = readFileSync(join(dir, `${name}-topics.csv`), 'utf8');
    assert.ok(fromTopics.split('\n').length > 1000, `${name} has rows`);
    assert.equal(fromTopics, readFileSync(join(dir, `${name}-combined.csv`), 'utf8'), name);
  }

  const lag = await cli(['lag', '--group', 'consumer-1', '--json', '-b', brokers]);
  assert.equal(lag.code, 0, lag.stderr);
  const report = JSON.parse(lag.stdout) as { totals: { currentOffset: number; logEndOffset: number; lag: number } };
  assert.deepEqual(report.totals, { currentOffset: 57_600, logEndOffset: 57_600, lag: 0 });
});

test('a consumer killed with SIGKILL mid-run (twice), stopped with SIGTERM and restarted writes every record exactly once', async () => {
  const brokers = await theBroker();
  if (!existsSync(combinedPath)) assert.fail('needs the dataset produced by the previous test');
  const outDir = join(dir, 'killed');
  const checkpoint = join(outDir, '.consume-checkpoint.json');
  const consumed = (): number => {
    try {
      const offsets = (JSON.parse(readFileSync(checkpoint, 'utf8')) as { offsets: Record<string, number> }).offsets;
      return Object.values(offsets).reduce((a, b) => a + b, 0);
    } catch {
      return 0;
    }
  };
  const args = ['consume', '--group', 'killed', '--topics', 'topic-cpu,topic-mem', '--out-dir', outDir, '--batch', '300', '-b', brokers];
  const kills: number[] = [];
  for (const threshold of [8_000, 30_000]) {
    const running = startCli(args);
    const deadline = Date.now() + 40_000;
    while (consumed() < threshold) {
      if (Date.now() > deadline) assert.fail(`consumer never reached ${threshold} records: ${(await (running.child.kill('SIGKILL'), running.done)).stderr}`);
      await sleep(20);
    }
    running.child.kill('SIGKILL');
    const result = await running.done;
    assert.equal(result.signal, 'SIGKILL');
    kills.push(consumed());
  }
  assert.ok(kills[1]! < 57_600, `the second kill came before the end (${kills.join(', ')})`);
  // SIGTERM: what was read is written, checkpointed and committed, and the exit is clean.
  const stopped = startCli(args);
  while (consumed() <= kills[1]!) await sleep(20);
  stopped.child.kill('SIGTERM');
  const terminated = await stopped.done;
  assert.equal(terminated.code, 0, terminated.stderr);
  assert.match(terminated.stderr, /consume: wrote topic-cpu \d+, topic-mem \d+; rejected 0/);
  const finish = await cli([...args, '--until-idle', '2']);
  assert.equal(finish.code, 0, finish.stderr);

  const expected = expectedTopicRows(readFileSync(combinedPath, 'utf8'));
  for (const topic of ['topic-cpu', 'topic-mem']) {
    assert.deepEqual(csvRows(join(outDir, `${topic}.csv`), TOPIC_HEADERS[topic]!), expected[topic], topic);
  }
  assert.equal(readFileSync(join(outDir, 'rejects.csv'), 'utf8'), 'topic,partition,offset,reason,record\n');
});
