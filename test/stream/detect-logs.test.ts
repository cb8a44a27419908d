// `streamwatch detect nginx` and `detect lb-summary` on the embedded broker,
// as real CLI processes: the rows equal the batch jobs' rows for the same
// events (in order, and shuffled within less than the allowed lateness), the
// thresholds hold at 10/11 and 15/16 through the stream, a worker killed with
// SIGKILL and restarted ends with the outputs of an uninterrupted run, and
// lb-summary's --out is a complete CSV whenever a reader looks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaAdmin } from '../../src/kafka/index.ts';
import { readRange } from '../../src/kafka/read-range.ts';
import { cli, csvRows, lineCount, produceLines, waitFor, withBrokerIn, withTempDir } from './helpers.ts';

const GOALS = ['ip-burst', 'host-4xx', 'country-success', 'host-latency'] as const;
const TOPICS: Record<(typeof GOALS)[number], string> = { 'ip-burst': 'goal1-topic', 'host-4xx': 'goal2-topic', 'country-success': 'goal3-topic', 'host-latency': 'goal4-topic' };

/** A deterministic random stream (tests must not depend on Math.random). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The lines reordered so that none comes after a line more than `maxMs` later than itself (so never later than the allowed lateness). */
function shuffleWithin(lines: string[], timeOf: (line: string) => number, maxMs: number, seed: number): string[] {
  const next = random(seed);
  const keyed = lines.map((line) => ({ line, key: timeOf(line) + next() * maxMs }));
  keyed.sort((a, b) => a.key - b.key);
  const shuffled = keyed.map((k) => k.line);
  assert.notDeepEqual(shuffled, lines);
  return shuffled;
}

/** A JSON number as the CSV prints a decimal: at least one fractional digit. */
function decimal(value: unknown): string {
  assert.equal(typeof value, 'number');
  return Number.isInteger(value) ? (value as number).toFixed(1) : String(value);
}

const nginxTime = (line: string): number => Number((JSON.parse(line) as Record<string, unknown>)['@timestamp']) * 1000;
const lbTime = (line: string): number => Date.parse(line.split(' ')[0]!);

async function generate(dir: string, kind: 'nginx' | 'lb', count: number): Promise<string[]> {
  const path = join(dir, `${kind}.log`);
  const run = await cli(['generate', kind, '--out', path, kind === 'nginx' ? '--events' : '--lines', String(count)]).done;
  assert.equal(run.code, 0, run.stderr);
  return readFileSync(path, 'utf8').trim().split('\n');
}

/** `job nginx --detector X` for every goal, and the incidents of the two that have them, as sorted rows. */
async function nginxBatch(dir: string, input: string): Promise<{ rows: Record<string, string[]>; incidents: string[] }> {
  const rows: Record<string, string[]> = {};
  const incidents: string[] = [];
  for (const goal of GOALS) {
    const out = join(dir, `batch-${goal}.csv`);
    const withIncidents = goal === 'ip-burst' || goal === 'host-4xx';
    const run = await cli(['job', 'nginx', '--detector', goal, '--input', input, '--out', out, ...(withIncidents ? ['--incidents', `${out}.incidents`] : [])]).done;
    assert.equal(run.code, 0, run.stderr);
    rows[goal] = csvRows(out);
    if (withIncidents) incidents.push(...csvRows(`${out}.incidents`));
  }
  return { rows, incidents: incidents.sort() };
}

/** Every record of a topic (all partitions), as parsed JSON. */
async function topicRecords(brokers: string, topic: string): Promise<Array<Record<string, unknown>>> {
  const admin = await KafkaAdmin.connect({ brokers: [brokers] });
  const ends = await admin.listOffsets([topic], 'latest');
  await admin.close();
  const records: Array<Record<string, unknown>> = [];
  for (const [key, end] of ends) {
    for (const r of await readRange({ brokers: [brokers] }, topic, Number(key.split(':').at(-1)), 0, end)) records.push(JSON.parse(r.value!.toString()) as Record<string, unknown>);
  }
  return records;
}


test('detect nginx: the four goals and the incidents equal the batch jobs, in order and shuffled within the allowed lateness; goal topics hold the same rows as JSON', async () => {
  await withTempDir(async (dir) => {
    const lines = await generate(dir, 'nginx', 20_000);
    const expected = await nginxBatch(dir, join(dir, 'nginx.log'));
    for (const goal of GOALS) assert.ok(expected.rows[goal]!.length > 5, `${goal} reports too little to compare`);
    assert.ok(expected.incidents.length > 3);
    await withBrokerIn(dir, async (brokers) => {
      const orders = { ordered: lines, shuffled: shuffleWithin(lines, nginxTime, 8_000, 3) };
      for (const [name, order] of Object.entries(orders)) {
        const topic = `nginx-${name}`;
        await produceLines(brokers, topic, order, (line) => (JSON.parse(line) as { client_ip: string }).client_ip);
        const outDir = join(dir, `stream-${name}`);
        const run = await cli(['detect', 'nginx', '-b', brokers, '--group', `g-${name}`, '--topic', topic, '--out', outDir, '--incidents', join(dir, `incidents-${name}.csv`), '--until-idle', '2']).done;
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /read 20000 records, rejected 0, late 0/);
        for (const goal of GOALS) assert.deepEqual(csvRows(join(outDir, `${goal}.csv`)), expected.rows[goal], `${name}: ${goal}`);
        assert.deepEqual(csvRows(join(dir, `incidents-${name}.csv`)), expected.incidents, `${name}: incidents`);
      }
      // Both groups wrote every row to the goal topics, as JSON with the CSV's columns.
      for (const goal of GOALS) {
        const keyName = { 'ip-burst': 'client_ip', 'host-4xx': 'host', 'country-success': 'country', 'host-latency': 'host' }[goal];
        const valueName = goal === 'host-latency' ? 'avg_request_time' : 'count';
        const got = (await topicRecords(brokers, TOPICS[goal])).map((v) => {
          assert.deepEqual(Object.keys(v), ['window_start', 'window_end', keyName, valueName]);
          return [v.window_start, v.window_end, v[keyName], goal === 'host-latency' ? decimal(v[valueName]) : v[valueName]].join(',');
        });
        const want = expected.rows[goal]!;
        assert.deepEqual(got.sort(), [...want, ...want].sort(), goal);
      }
    });
  });
});

test('detect nginx: thresholds through the stream: 10 requests of one client in 20 s are quiet, 11 burst; 15 client errors of a host in 30 s are quiet, 16 a storm', async () => {
  await withTempDir(async (dir) => {
    const T0 = 1_659_509_400;
    const iso = (s: number) => new Date((T0 + s) * 1000).toISOString();
    const event = (ip: string, host: string, status: number, s: number) => JSON.stringify({ client_ip: ip, host, country: 'US', status, request_time: '0.1', '@timestamp': String(T0 + s) });
    const lines: string[] = [];
    for (let i = 0; i < 10; i++) lines.push(event('10.0.0.10', 'web.example', 200, i));
    for (let i = 0; i < 11; i++) lines.push(event('10.0.0.11', 'web.example', 200, i));
    for (let i = 0; i < 15; i++) lines.push(event(`10.1.15.${i}`, 'h15.example', 404, i));
    for (let i = 0; i < 16; i++) lines.push(event(`10.1.16.${i}`, 'h16.example', 404, i));
    lines.sort((a, b) => nginxTime(a) - nginxTime(b));
    await withBrokerIn(dir, async (brokers) => {
      await produceLines(brokers, 'nginx-logs', lines, (_line, i) => String(i));
      const outDir = join(dir, 'out');
      const run = await cli(['detect', 'nginx', '-b', brokers, '--group', 'thresholds', '--out', outDir, '--incidents', join(dir, 'incidents.csv'), '--until-idle', '2']).done;
      assert.equal(run.code, 0, run.stderr);
      // 11 requests at T0+0 .. T0+10: every 20-second window starting at T0-9 .. T0 holds all of them.
      const bursts = Array.from({ length: 10 }, (_, k) => `${iso(k - 9)},${iso(k + 11)},10.0.0.11,11`);
      assert.deepEqual(csvRows(join(outDir, 'ip-burst.csv')), bursts.sort());
      // 16 errors at T0+0 .. T0+15: every 30-second window starting at T0-14 .. T0 holds all of them.
      const storms = Array.from({ length: 15 }, (_, k) => `${iso(k - 14)},${iso(k + 16)},h16.example,16`);
      assert.deepEqual(csvRows(join(outDir, 'host-4xx.csv')), storms.sort());
      assert.deepEqual(csvRows(join(dir, 'incidents.csv')), [
        `host-4xx,h16.example,count > 15,${iso(-14)},${iso(30)},15,16`,
        `ip-burst,10.0.0.11,count > 10,${iso(-9)},${iso(20)},10,11`,
      ]);
      const topic = (await topicRecords(brokers, 'goal1-topic')).map((v) => `${v.window_start},${v.window_end},${v.client_ip},${v.count}`);
      assert.deepEqual(topic.sort(), bursts.sort());
      const incidents = await topicRecords(brokers, 'incidents');
      assert.deepEqual(incidents.map((i) => `${i.detector} ${i.key} ${i.state}`).sort(), ['host-4xx h16.example closed', 'host-4xx h16.example opened', 'ip-burst 10.0.0.11 closed', 'ip-burst 10.0.0.11 opened']);
    });
  });
});

test('detect nginx: kill -9 twice during a run, restart: files and topics equal an uninterrupted run, each row once', async () => {
  await withTempDir(async (dir) => {
    const lines = await generate(dir, 'nginx', 36_000);
    const parts = [0, 1, 2].map((i) => lines.slice(Math.floor((i * lines.length) / 3), Math.floor(((i + 1) * lines.length) / 3)));
    await withBrokerIn(dir, async (brokers) => {
      const out = join(dir, 'killed');
      const incidents = join(dir, 'killed-incidents.csv');
      const args = ['detect', 'nginx', '-b', brokers, '--group', 'killed', '--out', out, '--incidents', incidents, '--until-idle', '3', '--checkpoint-interval', '300ms'];
      const logs: string[] = [];
      const watched = join(out, 'host-4xx.csv');
      for (const [i, part] of parts.slice(0, 2).entries()) {
        await produceLines(brokers, 'nginx-logs', part, (line) => (JSON.parse(line) as { client_ip: string }).client_ip);
        const before = lineCount(watched);
        const { child, done } = cli(args);
        await waitFor(() => lineCount(watched) > before + 20, 30_000);
        // the first kill lands after a checkpoint, the second right after the output was synced
        await new Promise((r) => setTimeout(r, i === 0 ? 700 : 0));
        child.kill('SIGKILL');
        const exit = await done;
        assert.equal(exit.signal, 'SIGKILL', `worker ended before the kill: ${exit.stderr}`);
        logs.push(exit.stderr);
      }
      await produceLines(brokers, 'nginx-logs', parts[2]!, (line) => (JSON.parse(line) as { client_ip: string }).client_ip);
      const last = await cli(args).done;
      assert.equal(last.code, 0, last.stderr);
      logs.push(last.stderr);
      assert.match(logs.slice(1).join('\n'), /resumed from checkpoint/, logs.join('\n---\n'));

      const whole = join(dir, 'whole');
      const wholeIncidents = join(dir, 'whole-incidents.csv');
      const first = await cli(['detect', 'nginx', '-b', brokers, '--group', 'uninterrupted', '--out', whole, '--incidents', wholeIncidents, '--until-idle', '2']).done;
      assert.equal(first.code, 0, first.stderr);
      for (const goal of GOALS) {
        const rows = csvRows(join(whole, `${goal}.csv`));
        assert.ok(rows.length > 5, goal);
        assert.deepEqual(csvRows(join(out, `${goal}.csv`)), rows, goal);
        // each row once per group that wrote it
        const counts = new Map<string, number>();
        for (const v of await topicRecords(brokers, TOPICS[goal])) {
          const id = JSON.stringify(v);
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        assert.equal(counts.size, rows.length, goal);
        assert.deepEqual([...counts].filter(([, n]) => n !== 2), [], `rows of ${goal} not exactly once per group`);
      }
      assert.deepEqual(csvRows(incidents), csvRows(wholeIncidents));
      const incidentCounts = new Map<string, number>();
      for (const v of await topicRecords(brokers, 'incidents')) incidentCounts.set(JSON.stringify(v), (incidentCounts.get(JSON.stringify(v)) ?? 0) + 1);
      assert.deepEqual([...incidentCounts].filter(([, n]) => n !== 2), [], 'incident records not exactly once per group');
    });
  });
});

test('detect lb-summary: the summaries equal the batch job, in order and shuffled within the allowed lateness; the topic holds them once', async () => {
  await withTempDir(async (dir) => {
    const lines = await generate(dir, 'lb', 24_000);
    const batchOut = join(dir, 'batch.csv');
    const batch = await cli(['job', 'lb-summary', '--input', join(dir, 'lb.log'), '--out', batchOut]).done;
    assert.equal(batch.code, 0, batch.stderr);
    const expected = readFileSync(batchOut, 'utf8');
    assert.ok(expected.split('\n').length > 4);
    await withBrokerIn(dir, async (brokers) => {
      const orders = { ordered: lines, shuffled: shuffleWithin(lines, lbTime, 8 * 60_000, 5) };
      for (const [name, order] of Object.entries(orders)) {
        const topic = `lb-${name}`;
        await produceLines(brokers, topic, order, (_line, i) => String(i));
        const out = join(dir, `stream-${name}.csv`);
        const run = await cli(['detect', 'lb-summary', '-b', brokers, '--group', `g-${name}`, '--topic', topic, '--out', out, '--until-idle', '2']).done;
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /read 24000 records, rejected 0, late 0/);
        // the same bytes: sorted like the batch output
        assert.equal(readFileSync(out, 'utf8'), expected, name);
      }
      const records = await topicRecords(brokers, 'lb-summary');
      const rows = records.map((v) => [...Object.values(v).slice(0, -1), decimal(v.avg_latency_ms)].join(','));
      const want = expected.trim().split('\n').slice(1);
      assert.deepEqual(rows.sort(), [...want, ...want].sort());
    });
  });
});

test('detect lb-summary: --out is a complete CSV whenever a reader looks, as windows close one by one', async () => {
  await withTempDir(async (dir) => {
    const lines = await generate(dir, 'lb', 24_000);
    // four parts of 5 minutes each: with 1 minute of allowed lateness each part closes the window before it
    const parts = [0, 1, 2, 3].map((i) => lines.slice(i * 6000, (i + 1) * 6000));
    const batchOut = join(dir, 'batch.csv');
    assert.equal((await cli(['job', 'lb-summary', '--input', join(dir, 'lb.log'), '--out', batchOut]).done).code, 0);
    const header = readFileSync(batchOut, 'utf8').split('\n')[0]!;
    await withBrokerIn(dir, async (brokers) => {
      const out = join(dir, 'live.csv');
      const seen = new Set<string>();
      const problems: string[] = [];
      let rows = 0;
      const look = (): void => {
        let text: string;
        try {
          text = readFileSync(out, 'utf8');
        } catch {
          return;
        }
        seen.add(text);
        const body = text.split('\n');
        if (body[0] !== header || body.at(-1) !== '' || body.slice(1, -1).some((row) => row.split(',').length !== 8)) problems.push(JSON.stringify(text));
        rows = body.length - 2;
      };
      const reader = setInterval(look, 2);
      try {
        await produceLines(brokers, 'lb-logs', parts[0]!, (_line, i) => String(i));
        const worker = cli(['detect', 'lb-summary', '-b', brokers, '--group', 'live', '--out', out, '--lateness', '1m', '--until-idle', '3']);
        for (const [i, part] of parts.slice(1).entries()) {
          await produceLines(brokers, 'lb-logs', part, (_line, k) => String(k));
          await waitFor(() => rows >= i + 1, 30_000, () => `for window ${i + 1}: ${worker.stderr()}`);
        }
        const exit = await worker.done;
        assert.equal(exit.code, 0, exit.stderr);
        look();
      } finally {
        clearInterval(reader);
      }
      assert.deepEqual(problems, []);
      assert.ok(seen.size >= 4, `the reader saw ${seen.size} versions of the file`);
      assert.equal(readFileSync(out, 'utf8'), readFileSync(batchOut, 'utf8'));
    });
  });
});

test('detect nginx/lb-summary: bad messages go to the dead-letter topic with their position and reason; the worker goes on', async () => {
  await withTempDir(async (dir) => {
    const good = JSON.stringify({ client_ip: '10.0.0.1', host: 'a.example', country: 'US', status: 200, request_time: '0.1', '@timestamp': '1659509400' });
    const combinedWithoutTime = '10.0.0.2 - - [03/Aug/2022:06:50:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl" a.example';
    await withBrokerIn(dir, async (brokers) => {
      await produceLines(brokers, 'nginx-logs', [good, 'not json', '{"client_ip":"x"}', combinedWithoutTime], () => 'k', 1);
      const run = await cli(['detect', 'nginx', '-b', brokers, '--group', 'bad', '--out', join(dir, 'out'), '--until-idle', '2']).done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /read 4 records, rejected 3, late 0/);
      const rejects = await topicRecords(brokers, 'streamwatch-rejects');
      assert.deepEqual(rejects.map((r) => [r.topic, r.partition, r.offset, r.value]), [['nginx-logs', 0, 1, 'not json'], ['nginx-logs', 0, 2, '{"client_ip":"x"}'], ['nginx-logs', 0, 3, combinedWithoutTime]]);
      assert.match(String(rejects[0]!.reason), /not a JSON object nor an NGINX combined log line/);
      assert.equal(rejects[1]!.reason, '@timestamp is missing');
      // a combined line without a request time counts for every goal but host-latency
      assert.equal(rejects[2]!.reason, 'host-latency: no request time in the line');
      assert.deepEqual(csvRows(join(dir, 'out', 'country-success.csv')), ['2022-08-03T06:50:00.000Z,2022-08-03T06:51:00.000Z,--,1', '2022-08-03T06:50:00.000Z,2022-08-03T06:51:00.000Z,US,1']);
    });
  });
});

test('detect lb-summary: a second worker in the group stands by (one task reads every partition) and takes over when the first stops; the output ends with every summary', async () => {
  await withTempDir(async (dir) => {
    const lines = await generate(dir, 'lb', 12_000);
    const batchOut = join(dir, 'batch.csv');
    assert.equal((await cli(['job', 'lb-summary', '--input', join(dir, 'lb.log'), '--out', batchOut]).done).code, 0);
    await withBrokerIn(dir, async (brokers) => {
      await produceLines(brokers, 'lb-logs', lines.slice(0, 6000), (_line, i) => String(i));
      const out = join(dir, 'out.csv');
      const args = ['detect', 'lb-summary', '-b', brokers, '--group', 'two', '--out', out, '--checkpoint-interval', '300ms'];
      const first = cli(args);
      await waitFor(() => first.stderr().includes('tasks: 0'), 30_000, () => first.stderr());
      const second = cli(args);
      // The group gives the task to one of them (by member id); the other stands by.
      await waitFor(() => /standing by/.test(first.stderr() + second.stderr()), 30_000, () => first.stderr() + second.stderr());
      const [working, standby] = /standing by/.test(second.stderr()) ? [first, second] : [second, first];
      working.child.kill('SIGTERM');
      assert.equal((await working.done).code, 0, 'a clean stop');
      await waitFor(() => (standby.stderr().split('standing by')[1] ?? '').includes('resumed from checkpoint'), 30_000, () => standby.stderr());
      await produceLines(brokers, 'lb-logs', lines.slice(6000), (_line, i) => String(i));
      // The worker that took over stops cleanly too; a last one finishes from its checkpoint.
      standby.child.kill('SIGTERM');
      assert.equal((await standby.done).code, 0, standby.stderr());
      const last = await cli([...args, '--until-idle', '2']).done;
      assert.equal(last.code, 0, last.stderr);
      assert.match(last.stderr, /read 12000 records/);
      assert.equal(readFileSync(out, 'utf8'), readFileSync(batchOut, 'utf8'));
    });
  });
});

