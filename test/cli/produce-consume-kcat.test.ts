// Interoperability with kcat (librdkafka) and the failure paths: kcat reads
// what `produce` wrote and `consume` reads what kcat wrote (bad messages go
// to rejects.csv with their coordinates); `lag` after a partial consume;
// `produce` with no broker listening fails fast with one line; `topics`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type RunningBroker } from '../../src/broker/server.ts';
import { kcat, KCAT_SKIP } from '../broker/helpers/broker.ts';
import { cli, csvRows, killChildren } from './helpers/kafka-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sw-kcat-'));
const brokers: RunningBroker[] = [];
after(async () => {
  killChildren();
  for (const b of brokers) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newBroker(name: string): Promise<RunningBroker> {
  const broker = await startBroker({ port: 0, dataDir: join(dir, name), log: () => {} });
  brokers.push(broker);
  return broker;
}

test('kcat consumes what produce wrote; bad rows only reach --rejects', { skip: KCAT_SKIP }, async () => {
  const broker = await newBroker('b1');
  const file = join(dir, 'small.csv');
  writeFileSync(file, [
    'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io',
    '20:53:00,server_1,34.74,46.41,359.45,489.36,33.5',
    '20:53:00,server_2,10.00,0.0,1e2,0,7',
    '20:53:05,server_1,120,50,1,1,1',
    '',
    'not,a,row',
    '20:53:05,server_2,.5,+3,5.,0.25,1',
    '',
  ].join('\n'));
  const result = await cli(['produce', 'metrics', '--file', file, '-b', broker.address, '--partitions', '2', '--rejects', join(dir, 'rejects.csv'), '--no-progress']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /sent 12 messages \(3 rows\), rejected 2/);
  const rejects = readFileSync(join(dir, 'rejects.csv'), 'utf8').split('\n');
  assert.equal(rejects[0], 'source,line,reason,record');
  assert.match(rejects[1]!, /^.*small\.csv,4,cpu_pct .*,"?20:53:05,server_1,120,50,1,1,1"?$/);
  assert.match(rejects[2]!, /^.*small\.csv,6,"expected 7 fields, found 3","not,a,row"$/);

  const cpu = await kcat(broker, ['-C', '-t', 'topic-cpu', '-e', '-q', '-f', '%k %s\\n']);
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.deepEqual(cpu.stdout.split('\n').filter(Boolean).sort(), [
    'server_1 {"ts":"20:53:00","server_id":"server_1","cpu_pct":34.74}',
    'server_2 {"ts":"20:53:00","server_id":"server_2","cpu_pct":10.00}',
    'server_2 {"ts":"20:53:05","server_id":"server_2","cpu_pct":0.5}',
  ]);
  const net = await kcat(broker, ['-C', '-t', 'topic-net', '-e', '-q']);
  assert.deepEqual(net.stdout.split('\n').filter(Boolean).sort(), [
    '{"ts":"20:53:00","server_id":"server_1","net_in":359.45,"net_out":489.36}',
    '{"ts":"20:53:00","server_id":"server_2","net_in":1e2,"net_out":0}',
    '{"ts":"20:53:05","server_id":"server_2","net_in":5.0,"net_out":0.25}',
  ]);
  // Same key, same partition: both server_2 records of a topic share one.
  const partitions = await kcat(broker, ['-C', '-t', 'topic-mem', '-e', '-q', '-f', '%k %p\\n']);
  assert.equal(new Set(partitions.stdout.split('\n').filter((l) => l.startsWith('server_2'))).size, 1);

  const listed = await cli(['topics', 'list', '-b', broker.address]);
  assert.equal(listed.stdout, 'topic-cpu\ntopic-disk\ntopic-mem\ntopic-net\n');
  const described = await cli(['topics', 'describe', 'topic-cpu', '-b', broker.address]);
  assert.match(described.stdout, /PartitionCount: 2/);
  const tail = await cli(['tail', 'topic-disk', '--from-beginning', '--max', '3', '-b', broker.address]);
  assert.equal(tail.code, 0, tail.stderr);
  assert.deepEqual(tail.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { disk_io: number }).disk_io).sort(), [1, 33.5, 7]);
});

test('consume reads what kcat produced, rejects malformed JSON with its coordinates; lag after a partial consume', { skip: KCAT_SKIP }, async () => {
  const broker = await newBroker('b2');
  const created = await cli(['topics', 'create', 'topic-mem', '--partitions', '2', '-b', broker.address]);
  assert.equal(created.code, 0, created.stderr);
  const lines = Array.from({ length: 20 }, (_, i) => `server_${i % 4}:{"ts":"10:00:${String(i).padStart(2, '0')}","server_id":"server_${i % 4}","mem_pct":${i}.50}`);
  lines.push('server_9:{"ts":"10:01:00","server_id":"server_9","mem_pct":');
  lines.push('server_9:{"ts":"10:01:00","server_id":"server_9"}');
  const produced = await kcat(broker, ['-P', '-t', 'topic-mem', '-K:'], lines.join('\n') + '\n');
  assert.equal(produced.code, 0, produced.stderr);

  const outDir = join(dir, 'from-kcat');
  const consumed = await cli(['consume', '--group', 'g-kcat', '--topics', 'topic-mem', '--out-dir', outDir, '--until-idle', '1', '-b', broker.address]);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.deepEqual(csvRows(join(outDir, 'topic-mem.csv'), 'ts,server_id,mem_pct'), Array.from({ length: 20 }, (_, i) => `10:00:${String(i).padStart(2, '0')},server_${i % 4},${i}.50`).sort());
  const rejects = readFileSync(join(outDir, 'rejects.csv'), 'utf8').split('\n').filter(Boolean);
  assert.equal(rejects[0], 'topic,partition,offset,reason,record');
  assert.equal(rejects.length, 3);
  assert.match(rejects[1]!, /^topic-mem,[01],\d+,malformed JSON: [^,]*,"\{""ts"":""10:01:00"",""server_id"":""server_9"",""mem_pct"":"$/);
  assert.match(rejects[2]!, /^topic-mem,[01],\d+,missing mem_pct,/);

  const more = await kcat(broker, ['-P', '-t', 'topic-mem', '-K:'], Array.from({ length: 7 }, (_, i) => `server_${i}:{"ts":"11:00:00","server_id":"server_${i}","mem_pct":1}`).join('\n') + '\n');
  assert.equal(more.code, 0, more.stderr);
  const lag = await cli(['lag', '--group', 'g-kcat', '-b', broker.address]);
  assert.equal(lag.code, 0, lag.stderr);
  const table = lag.stdout.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(table[0], ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG']);
  assert.deepEqual(table.at(-1), ['TOTAL', '22', '29', '7'], lag.stdout);
  // kcat's partitioner spreads the keys its own way; a partition the group never committed counts from its start.
  for (const row of table.slice(1, -1)) assert.equal(Number(row[5]), Number(row[4]) - (row[3] === '-' ? 0 : Number(row[3])));
});

test('produce with no broker listening: exit 1, one line, quickly', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const file = join(dir, 'one.csv');
  writeFileSync(file, 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io\n');
  appendFileSync(file, '20:53:00,server_1,1,1,1,1,1\n');
  const started = Date.now();
  const result = await cli(['produce', 'metrics', '--file', file, '-b', `127.0.0.1:${port}`]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `streamwatch: no Kafka broker answered at 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}) [SW_ERR_BROKER_UNREACHABLE]\n`);
  assert.ok(Date.now() - started < 15_000, 'fails fast (process start included)');
});
