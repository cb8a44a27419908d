// `streamwatch produce nginx|lb` as a user runs it, on the embedded broker:
// --file publishes the valid lines and rejects the rest, --generate with
// --events stops after N parseable events, Ctrl+C (SIGINT) stops an endless
// generator cleanly with everything it sent acknowledged and in the topic,
// and bad usage exits 2 with one line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLbLine } from '../../src/io/parsers/lb.ts';
import { parseNginxLine } from '../../src/io/parsers/nginx.ts';
import { brokerFor, key, readTopic, text, topicSize } from '../io/produce/helpers.ts';
import { cli, killChildren, startCli } from './helpers/kafka-cli.ts';

after(killChildren);

test('produce lb --file: valid lines published in order, bad ones in --rejects with line and reason', async (t) => {
  const { dir, brokers } = await brokerFor(t);
  const file = join(dir, 'lb.log');
  await writeFile(file, [
    '2024-05-01T10:00:00.123Z lb-1 server_3 GET /files/a.txt 200 35',
    'garbage',
    '',
    '2024-05-01T10:00:01.000Z lb-2 server_1 POST /upload 503 900',
    '2024-05-01T10:00:02.000Z lb-2 server_1 POST /upload 503 -1',
  ].join('\n') + '\n');
  const result = await cli(['produce', 'lb', '--file', file, '--rejects', join(dir, 'rejects.csv'), '--partitions', '1', '-b', brokers]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^streamwatch produce lb: sent 2 messages to lb-logs \(2 acknowledged\), read 4 lines, rejected 2 in /m);
  const records = await readTopic(brokers, 'lb-logs');
  assert.deepEqual(records.map(text), ['2024-05-01T10:00:00.123Z lb-1 server_3 GET /files/a.txt 200 35', '2024-05-01T10:00:01.000Z lb-2 server_1 POST /upload 503 900']);
  assert.deepEqual(records.map(key), ['server_3', 'server_1']);
  const rejects = (await readFile(join(dir, 'rejects.csv'), 'utf8')).trim().split('\n');
  assert.equal(rejects.length, 3);
  assert.match(rejects[1]!, /lb\.log,2,"expected 7 fields, found 1",garbage$/);
  assert.match(rejects[2]!, /lb\.log,5,latency .*,2024-05-01T10:00:02.000Z lb-2 server_1 POST \/upload 503 -1$/);
});

test('produce nginx --generate --events N: stops after N events that parse, keyed by client IP', async (t) => {
  const { brokers } = await brokerFor(t);
  const result = await cli(['produce', 'nginx', '--generate', '--events', '300', '--rate', '2000', '--seed', '5', '-b', brokers]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /produce nginx: sent 300 messages to nginx-logs \(300 acknowledged\), read 300 lines, rejected 0 in /);
  const records = await readTopic(brokers, 'nginx-logs');
  assert.equal(records.length, 300);
  for (const record of records) {
    const parsed = parseNginxLine(text(record));
    assert.ok(parsed.ok, text(record));
    assert.equal(key(record), parsed.event.clientIp);
  }
});

test('produce lb --generate stopped by SIGINT: clean exit, summary line, every sent message in the topic', async (t) => {
  const { brokers } = await brokerFor(t);
  const running = startCli(['produce', 'lb', '--generate', '--rate', '200', '-b', brokers]);
  const deadline = Date.now() + 60_000;
  while ((await topicSize(brokers, 'lb-logs')) < 20) {
    assert.ok(Date.now() < deadline, 'the generator publishes');
    await sleep(50);
  }
  running.child.kill('SIGINT');
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  const summary = /produce lb: sent (\d+) messages to lb-logs \((\d+) acknowledged\), read \d+ lines, rejected 0 \(stopped\) in /.exec(result.stderr);
  assert.ok(summary, result.stderr);
  assert.equal(summary[1], summary[2]);
  const records = await readTopic(brokers, 'lb-logs');
  assert.equal(records.length, Number(summary[1]));
  for (const record of records) assert.ok(parseLbLine(text(record)).ok, text(record));
});

test('produce nginx|lb usage: a source is required, one only; a missing file is one line', async (t) => {
  const { dir } = await brokerFor(t);
  const bad = [['produce', 'nginx'], ['produce', 'lb', '--file', 'x', '--generate'], ['produce', 'lb', '--generate', '--rate', '0']];
  const [missing, help, ...results] = await Promise.all([
    cli(['produce', 'nginx', '--file', join(dir, 'nope.log'), '-b', '127.0.0.1:1']),
    cli(['produce', 'lb', '--help']),
    ...bad.map((args) => cli(args)),
  ]);
  results.forEach((result, i) => {
    assert.equal(result.code, 2, `${bad[i]!.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  });
  assert.equal(missing!.code, 1);
  assert.match(missing!.stderr, /^streamwatch: cannot read .*nope\.log: ENOENT \[SW_ERR_INPUT_NOT_FOUND\]\n$/);
  assert.equal(help!.code, 0);
  assert.match(help!.stdout, /--generate/);
});
