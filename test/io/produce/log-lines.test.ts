// The log producers in process, on the embedded broker: a file's valid lines
// published in order (bad ones only in the rejects file, with line number
// and reason), the generators at the wall clock (events that parse, stamped
// now, the same events for the same seed), and a clean stop by signal with
// every sent message acknowledged and in the topic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nginxEvents } from '../../../src/io/generators/nginx.ts';
import { parseLbLine } from '../../../src/io/parsers/lb.ts';
import { parseNginxLine } from '../../../src/io/parsers/nginx.ts';
import { produceGeneratedLogs, produceLogFile } from '../../../src/io/produce/log-lines.ts';
import { brokerFor, key, readTopic, text, topicSize } from './helpers.ts';

const json = (ip: string, status: string | number, extra = ''): string =>
  `{"server":"s_v1","client_ip":"${ip}","method":"GET","status":${JSON.stringify(status)},"request_time":"0.2","host":"api_1.digikala.com","country":"US","@timestamp":"1659509511.865323"${extra}}`;

test('produceLogFile nginx: exactly the valid lines, in order, keyed by client IP; the rest rejected with line and reason', async (t) => {
  const { dir, brokers } = await brokerFor(t);
  const file = join(dir, 'events.log');
  const combined = '10.0.0.9 - - [03/Aug/2022:06:51:51 +0000] "GET /a HTTP/1.1" 404 12 "-" "curl/8" 0.004';
  const lines = [
    json('1.1.1.1', '200'),
    '',
    '   ',
    '{"client_ip":"2.2.2.2"',
    json('3.3.3.3', 201, ',"note":"caf\u00e9"'),
    combined,
    json('4.4.4.4', '700'),
    'not a log line',
    json('5.5.5.5', 404),
  ];
  // CRLF line ends, and one line whose bytes are not UTF-8.
  await writeFile(file, Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n', 'utf8'), Buffer.from('{"client_ip":"\xff"}\n', 'latin1')]));
  const rejects = join(dir, 'rejects.csv');
  const summary = await produceLogFile({ kind: 'nginx', file, brokers: [brokers], partitions: 1, rejects });
  assert.deepEqual(summary, { topic: 'nginx-logs', read: 8, rejected: 4, sent: 4, acknowledged: 4, interrupted: false });

  const records = await readTopic(brokers, 'nginx-logs');
  assert.deepEqual(records.map(text), [lines[0], lines[4], combined, lines[8]]);
  assert.deepEqual(records.map(key), ['1.1.1.1', '3.3.3.3', '10.0.0.9', '5.5.5.5']);
  for (const record of records) assert.ok(parseNginxLine(text(record)).ok);

  const rejected = (await readFile(rejects, 'latin1')).trim().split('\n');
  assert.equal(rejected[0], 'source,line,reason,record');
  assert.deepEqual(rejected.slice(1).map((row) => row.slice(file.length + 1).split(',').slice(0, 1)[0]), ['4', '7', '8', '10']);
  assert.match(rejected[1]!, /,4,not valid JSON,/);
  assert.match(rejected[2]!, /,7,.*status.*700/);
  assert.match(rejected[4]!, /,10,not valid UTF-8,"\{""client_ip"":""\xff""\}"$/);
});

test('produceLogFile lb: valid lines in order keyed by backend, with --events and --rate', async (t) => {
  const { dir, brokers } = await brokerFor(t);
  const file = join(dir, 'lb.log');
  const lines = [
    '2024-05-01T10:00:00.123Z lb-1 server_3 GET /files/a.txt 200 35',
    '2024-05-01T10:00:00.200Z lb-1 server_1 POST /api 503 1200.5',
    '2024-05-01T10:00:00.300Z lb-2 server_3 GET /files/a.txt 200',
    '2024-05-01T10:00:01.000Z lb-2 server_2 get / 99 3',
    '2024-05-01T10:00:02.000Z lb-2 server_2 DELETE /x 204 4',
    '2024-05-01T10:00:03.000Z lb-1 server_1 GET / 200 5',
  ];
  await writeFile(file, lines.join('\n'));
  const rejects = join(dir, 'rejects.csv');
  const summary = await produceLogFile({ kind: 'lb', file, brokers: [brokers], partitions: 1, rejects, events: 3, rate: 500 });
  assert.deepEqual(summary, { topic: 'lb-logs', read: 5, rejected: 2, sent: 3, acknowledged: 3, interrupted: false });
  const records = await readTopic(brokers, 'lb-logs');
  assert.deepEqual(records.map(text), [lines[0], lines[1], lines[4]]);
  assert.deepEqual(records.map(key), ['server_3', 'server_1', 'server_2']);
  const rejected = (await readFile(rejects, 'utf8')).trim().split('\n').slice(1);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0]!, /,3,"expected 7 fields, found 6",/);
  assert.match(rejected[1]!, /,4,.*status/);
});

/** An NGINX JSON line without its @timestamp, to compare two runs started at different moments. */
function timeless(line: string): string {
  const event = JSON.parse(line) as Record<string, unknown>;
  delete event['@timestamp'];
  return JSON.stringify(event);
}

test('produceGeneratedLogs nginx: N events stamped with the wall clock, parseable, the same for the same seed', async (t) => {
  const { brokers } = await brokerFor(t);
  const before = Date.now();
  const summary = await produceGeneratedLogs({ kind: 'nginx', brokers: [brokers], partitions: 2, rate: 4000, events: 500, seed: 7 });
  const after = Date.now();
  assert.deepEqual(summary, { topic: 'nginx-logs', read: 500, rejected: 0, sent: 500, acknowledged: 500, interrupted: false });
  const records = await readTopic(brokers, 'nginx-logs');
  assert.equal(records.length, 500);
  const statuses = new Set<number>();
  for (const record of records) {
    const parsed = parseNginxLine(text(record));
    assert.ok(parsed.ok, text(record));
    assert.equal(key(record), parsed.event.clientIp);
    // An event carries the moment it was scheduled for; the pacer sends it within milliseconds of that, either side.
    assert.ok(parsed.event.instant >= before - 1000 && parsed.event.instant <= after + 1000, `stamped now: ${parsed.event.instant} not within a second of [${before}, ${after}]`);
    statuses.add(parsed.event.status);
  }
  assert.ok([...statuses].some((s) => s >= 400 && s < 500), 'client errors (a storm starts within the first 300 events)');

  // The generator's events in its order (whatever the partitions): same seed, same events, times aside.
  const expected = [...nginxEvents({ events: 500, seed: 7, startSeconds: 0, rate: 4000, exactGaps: true })].map((e) => timeless(e.line));
  assert.deepEqual(records.map((r) => timeless(text(r))).sort(), [...expected].sort());
  const other = [...nginxEvents({ events: 500, seed: 8, startSeconds: 0, rate: 4000, exactGaps: true })].map((e) => timeless(e.line));
  assert.notDeepEqual(other.sort(), expected.sort());
});

test('produceGeneratedLogs lb: endless until the signal; everything sent is acknowledged and in the topic', async (t) => {
  const { brokers } = await brokerFor(t);
  const controller = new AbortController();
  const running = produceGeneratedLogs({ kind: 'lb', brokers: [brokers], rate: 300, signal: controller.signal });
  const deadline = Date.now() + 60_000;
  while ((await topicSize(brokers, 'lb-logs')) < 30) {
    assert.ok(Date.now() < deadline, 'the generator publishes');
    await sleep(50);
  }
  controller.abort();
  const summary = await running;
  assert.equal(summary.interrupted, true);
  assert.equal(summary.rejected, 0);
  assert.ok(summary.sent >= 30);
  assert.equal(summary.acknowledged, summary.sent);
  const records = await readTopic(brokers, 'lb-logs');
  assert.equal(records.length, summary.sent);
  for (const record of records) {
    const parsed = parseLbLine(text(record));
    assert.ok(parsed.ok, text(record));
    assert.equal(key(record), parsed.event.backend);
  }
});
