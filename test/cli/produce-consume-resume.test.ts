// `consume` over several runs into one directory, and `produce` pacing:
// reading other topics in between never cuts or repeats a file; a directory
// holding another group's output or files without a checkpoint is refused;
// a consumer started before any producer creates the topics; --speed
// follows the data's clock and --rate caps rows per second.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker/server.ts';
import { cli, csvRows, killChildren } from './helpers/kafka-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sw-resume-'));
let broker: RunningBroker | null = null;
after(async () => {
  killChildren();
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';
/** Rows at 20:53:00, :05, :10 (two servers each). */
const rows = ['20:53:00', '20:53:05', '20:53:10'].flatMap((ts, i) => [`${ts},server_1,${i + 1}.5,2,3,4,5`, `${ts},server_2,${i + 10}.25,6,7,8,9`]);

function elapsed(stderr: string): number {
  const match = / in ([\d.]+) s/.exec(stderr);
  assert.ok(match, stderr);
  return Number(match[1]);
}

test('produce --speed follows the data clock, --rate caps rows per second', async () => {
  broker = await startBroker({ port: 0, dataDir: join(dir, 'broker'), log: () => {} });
  const file = join(dir, 'paced.csv');
  writeFileSync(file, [HEADER, ...rows, ''].join('\n'));
  const fast = await cli(['produce', 'metrics', '--file', file, '--speed', '10', '-b', broker.address]);
  assert.equal(fast.code, 0, fast.stderr);
  // 10 s of data at ten times its pace: the last group goes out 1 s after the first.
  assert.ok(elapsed(fast.stderr) >= 0.95, fast.stderr);
  const rated = await cli(['produce', 'metrics', '--file', file, '--rate', '5', '-b', broker.address]);
  assert.equal(rated.code, 0, rated.stderr);
  // 6 rows at 5 rows/s: the sixth row is due 1 s after the first.
  assert.ok(elapsed(rated.stderr) >= 0.95, rated.stderr);
  const both = await cli(['produce', 'metrics', '--file', file, '--rate', '5', '--speed', '1', '-b', broker.address]);
  assert.equal(both.code, 2);
  assert.equal(both.stderr, 'streamwatch: --speed and --rate cannot be combined\n');
});

test('consume runs over different topics into one directory never cut or repeat a file', async () => {
  assert.ok(broker, 'needs the broker and records of the previous test');
  const out = join(dir, 'out');
  const consume = (topics: string) => cli(['consume', '--group', 'g', '--topics', topics, '--out-dir', out, '--until-idle', '1', '-b', broker!.address]);
  const expected = (column: number): string[] => [...rows, ...rows].map((r) => { const f = r.split(','); return `${f[0]},${f[1]},${f[column]}`; }).sort();
  for (const topics of ['topic-cpu', 'topic-mem', 'topic-cpu,topic-mem']) {
    const result = await consume(topics);
    assert.equal(result.code, 0, result.stderr);
  }
  assert.deepEqual(csvRows(join(out, 'topic-cpu.csv'), 'ts,server_id,cpu_pct'), expected(2));
  assert.deepEqual(csvRows(join(out, 'topic-mem.csv'), 'ts,server_id,mem_pct'), expected(3));

  const other = await cli(['consume', '--group', 'other', '--topics', 'topic-cpu', '--out-dir', out, '-b', broker!.address]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /holds the output of group 'g', not 'other'.*\[SW_ERR_STATE\]\n$/);
  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'topic-cpu.csv'), 'precious\n');
  const refused = await cli(['consume', '--group', 'g2', '--topics', 'topic-cpu', '--out-dir', foreign, '-b', broker!.address]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /topic-cpu\.csv exists but .* has no consume checkpoint.*\[SW_ERR_STATE\]\n$/);
  assert.equal(readFileSync(join(foreign, 'topic-cpu.csv'), 'utf8'), 'precious\n');
});

test('a consumer started before the producer creates the topics and waits for records', async () => {
  const early = await startBroker({ port: 0, dataDir: join(dir, 'early-broker'), log: () => {} });
  try {
    const out = join(dir, 'early');
    const result = await cli(['consume', '--group', 'early', '--topics', 'topic-net', '--out-dir', out, '--partitions', '2', '--until-idle', '1', '-b', early.address]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(out, 'topic-net.csv'), 'utf8'), 'ts,server_id,net_in,net_out\n');
    const described = await cli(['topics', 'describe', 'topic-net', '-b', early.address]);
    assert.match(described.stdout, /PartitionCount: 2/);
  } finally {
    await early.close();
  }
});
