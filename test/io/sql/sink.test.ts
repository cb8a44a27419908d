// The sink's storage rules against both targets (PGlite and a PostgreSQL
// server), in-process with a fake consumer: metric merge, redelivery,
// injection attempts stored as data, rejects, day rollover across restarts,
// window results and incidents, and the search query builder.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statementError, type Database } from '../../../src/io/sql/database.ts';
import { migrate } from '../../../src/io/sql/migrations.ts';
import { PostgresSink } from '../../../src/io/sql/sink.ts';
import { parseTopicSpecs } from '../../../src/io/sql/records.ts';
import { searchEvents } from '../../../src/io/sql/search.ts';
import { FakeSource, records } from './helpers/fake-source.ts';
import { sqlTargets, truncateAll } from './helpers/targets.ts';

const TOPICS = parseTopicSpecs('topic-cpu,topic-mem,topic-net,topic-disk,server-metrics,nginx-logs,alerts-cpu-mem,goal1-topic,incidents');

async function sink(db: Database, input: FakeSource, batchSize = 1000): Promise<PostgresSink> {
  const s = new PostgresSink(db, input, TOPICS, { batchSize, flushIntervalMs: 60_000, untilIdleMs: 0 });
  await s.run();
  return s;
}

async function count(db: Database, table: string): Promise<number> {
  const result = await db.query<{ n: number }>(`SELECT count(*)::integer AS n FROM ${table}`);
  return result.rows[0]!.n;
}

function event(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { server: 's_v3', client_ip: '154.85.126.16', method: 'GET', status: '200', request_time: '0.28', host: 'api_38.example.com', country: 'US', '@timestamp': '1659509511.865323', ...fields };
}

for (const target of sqlTargets()) {
  describe(`sink storage on ${target.name}`, { skip: target.skip ?? false }, () => {
    let db: Database;
    before(async () => {
      await target.start();
      db = await target.open();
    });
    after(async () => {
      await db?.close();
      await target.stop();
    });
    beforeEach(() => truncateAll(db));

    test('migrations are recorded once; opening again applies nothing', async () => {
      const versions = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(versions.rows.map((r) => Number(r.version)), [1]);
      assert.deepEqual(await migrate(db), []);
    });

    test('metric merge: cpu then mem is one row with both; a metric not seen stays null', async () => {
      await sink(db, new FakeSource(records('topic-cpu', [{ ts: '20:53:00', server_id: 'server_1', cpu_pct: 34.74 }])));
      let rows = await db.query('SELECT server_id, ts, cpu_pct, mem_pct, net_in, net_out, disk_io FROM server_metrics');
      assert.deepEqual(rows.rows, [{ server_id: 'server_1', ts: new Date('1970-01-01T20:53:00Z'), cpu_pct: '34.74', mem_pct: null, net_in: null, net_out: null, disk_io: null }]);
      await sink(db, new FakeSource([
        ...records('topic-mem', [{ ts: '20:53:00', server_id: 'server_1', mem_pct: '46.41' }]),
        ...records('topic-net', [{ ts: '20:53:00', server_id: 'server_1', net_in: 359.45, net_out: 489.36 }]),
      ]));
      rows = await db.query('SELECT server_id, cpu_pct, mem_pct, net_in, net_out, disk_io FROM server_metrics');
      assert.deepEqual(rows.rows, [{ server_id: 'server_1', cpu_pct: '34.74', mem_pct: '46.41', net_in: '359.45', net_out: '489.36', disk_io: null }]);
      // A later cpu value for the same instant replaces the earlier one; mem stays.
      await sink(db, new FakeSource(records('topic-cpu', [{ ts: '20:53:00', server_id: 'server_1', cpu_pct: 35 }], 0, 1)));
      rows = await db.query('SELECT cpu_pct, mem_pct FROM server_metrics');
      assert.deepEqual(rows.rows, [{ cpu_pct: '35.0', mem_pct: '46.41' }]);
    });

    test('a redelivered batch inserts nothing new and changes nothing', async () => {
      const input = [
        ...records('topic-cpu', Array.from({ length: 300 }, (_, i) => ({ ts: `20:${53 + Math.floor(i / 60)}:${String(i % 60).padStart(2, '0')}`, server_id: `server_${i % 7}`, cpu_pct: i % 100 }))),
        ...records('server-metrics', [{ ts: '2022-08-03T06:51:40Z', server_id: 'srv-a', cpu_pct: 1, mem_pct: 2, net_in: 3, net_out: 4, disk_io: 5 }]),
        ...records('nginx-logs', Array.from({ length: 50 }, (_, i) => event({ '@timestamp': String(1659509511 + i), status: 200 + i }))),
        ...records('alerts-cpu-mem', [{ server_id: 'server_1', window_start: '20:53:00', window_end: '20:53:30', avg_cpu: 90.5, avg_mem: 80, alert: 'High CPU + Memory stress' }]),
        ...records('topic-mem', ['not json', '{"ts":"20:53:00","server_id":"server_1","mem_pct":101}']),
      ];
      await sink(db, new FakeSource(input), 64);
      const snapshot = async (): Promise<unknown[]> => [
        await count(db, 'server_metrics'), await count(db, 'nginx_events'), await count(db, 'window_results'), await count(db, 'sink_rejects'),
        (await db.query('SELECT server_id, ts, cpu_pct, mem_pct FROM server_metrics ORDER BY server_id, ts')).rows,
      ];
      const first = await snapshot();
      assert.deepEqual(first.slice(0, 4), [301, 50, 1, 2]);
      const again = await sink(db, new FakeSource(input), 100);
      assert.deepEqual(await snapshot(), first);
      assert.equal(again.totals.events, 0);
      assert.equal(again.totals.rejects, 0);
      assert.equal(again.totals.invalid, 2);
    });

    test('offsets committed are the next to read, per partition, after each batch', async () => {
      const input = new FakeSource([
        ...records('topic-cpu', Array.from({ length: 5 }, (_, i) => ({ ts: `10:00:0${i}`, server_id: 'a', cpu_pct: i })), 0),
        ...records('topic-cpu', Array.from({ length: 3 }, (_, i) => ({ ts: `10:00:0${i}`, server_id: 'b', cpu_pct: i })), 2, 40),
      ]);
      await sink(db, input, 4);
      assert.deepEqual(input.commits, [
        [{ topic: 'topic-cpu', partition: 0, offset: 4 }],
        [{ topic: 'topic-cpu', partition: 0, offset: 5 }, { topic: 'topic-cpu', partition: 2, offset: 43 }],
      ]);
    });

    test('injection attempts through server ids and log fields are stored as data', async () => {
      const evil = "x'); DROP TABLE server_metrics; --";
      await sink(db, new FakeSource([
        ...records('topic-cpu', [{ ts: '20:53:00', server_id: evil, cpu_pct: 1 }, { ts: '20:53:00', server_id: 'ok', cpu_pct: 1 }]),
        ...records('nginx-logs', [event({ host: evil, client_ip: "1.2.3.4' OR '1'='1", country: '$1', request: "GET /a?q=';DELETE FROM nginx_events;-- HTTP/1.1\u0000" })]),
        ...records('alerts-cpu-mem', [{ server_id: evil, window_start: '20:53:00', window_end: '20:53:30', avg_cpu: 1, avg_mem: 1, alert: "'; TRUNCATE incidents; --" }]),
      ]));
      assert.equal(await count(db, 'server_metrics'), 1);
      const reject = await db.query<{ reason: string; raw: string }>('SELECT reason, raw FROM sink_rejects');
      assert.equal(reject.rows.length, 1);
      assert.match(reject.rows[0]!.reason, /server_id holds a character outside/);
      assert.equal(JSON.parse(reject.rows[0]!.raw).server_id, evil);
      const hits = await searchEvents(db, { host: evil, ip: "1.2.3.4' OR '1'='1", country: '$1', text: "';DELETE" });
      assert.equal(hits.length, 1);
      assert.equal(hits[0]!.request, "GET /a?q=';DELETE FROM nginx_events;-- HTTP/1.1\uFFFD");
      assert.equal((await searchEvents(db, { host: "' OR '1'='1" })).length, 0);
      const window = await db.query<{ key: string; alert: string }>('SELECT key, alert FROM window_results');
      assert.deepEqual(window.rows, [{ key: evil, alert: "'; TRUNCATE incidents; --" }]);
    });

    test('times of day cross midnight onto the next reference day, also across a restart and for sparse topics', async () => {
      await sink(db, new FakeSource(records('topic-cpu', [{ ts: '23:59:50', server_id: 'a', cpu_pct: 1 }, { ts: '23:59:55', server_id: 'a', cpu_pct: 2 }])));
      // A new sink (a restart) continues on the saved timeline.
      await sink(db, new FakeSource(records('topic-cpu', [{ ts: '00:00:05', server_id: 'a', cpu_pct: 3 }, { ts: '23:59:58', server_id: 'a', cpu_pct: 4 }], 0, 2)));
      const rows = await db.query<{ ts: Date; cpu_pct: string }>('SELECT ts, cpu_pct FROM server_metrics ORDER BY ts');
      assert.deepEqual(rows.rows.map((r) => [r.ts.toISOString(), r.cpu_pct]), [
        ['1970-01-01T23:59:50.000Z', '1.0'], ['1970-01-01T23:59:55.000Z', '2.0'], ['1970-01-01T23:59:58.000Z', '4.0'], ['1970-01-02T00:00:05.000Z', '3.0'],
      ]);
      // A sparse input whose first message comes after midnight (regression: it landed on the first day) follows the shared timeline.
      await sink(db, new FakeSource(records('incidents', [{ detector: 'cpu-mem', key: 'b', alert: 'CPU spike suspected', start: '00:03:10', end: '00:04:40', windows: 7, peak: 90, state: 'closed' }], 2)));
      const incident = await db.query<{ start_ts: Date; end_ts: Date }>('SELECT start_ts, end_ts FROM incidents');
      assert.deepEqual(incident.rows.map((r) => [r.start_ts.toISOString(), r.end_ts.toISOString()]), [['1970-01-02T00:03:10.000Z', '1970-01-02T00:04:40.000Z']]);
    });

    test('window results and incidents are upserted on their natural keys', async () => {
      await sink(db, new FakeSource([
        ...records('goal1-topic', [{ window_start: '2022-08-03T06:51:40.000Z', window_end: '2022-08-03T06:52:00.000Z', client_ip: '1.1.1.1', count: 11 }]),
        ...records('incidents', [
          { detector: 'ip-burst', key: '1.1.1.1', alert: 'count > 10', start: '2022-08-03T06:51:40.000Z', end: '2022-08-03T06:52:00.000Z', windows: 1, peak: 11, state: 'open' },
          { detector: 'ip-burst', key: '1.1.1.1', alert: 'count > 10', start: '2022-08-03T06:51:40.000Z', end: '2022-08-03T06:52:05.000Z', windows: 6, peak: 14, state: 'closed' },
          { detector: 'cpu-mem', key: 'server_1', alert: 'CPU spike suspected', start: '23:59:50', end: '00:00:20', windows: 3, peak: '90.1', state: 'closed' },
        ]),
      ]));
      const windows = await db.query('SELECT detector, key, count::integer AS count, alert FROM window_results');
      assert.deepEqual(windows.rows, [{ detector: 'ip-burst', key: '1.1.1.1', count: 11, alert: '' }]);
      const incidents = await db.query<{ detector: string; end_ts: Date; start_ts: Date; windows: number; peak: string; state: string }>(
        'SELECT detector, start_ts, end_ts, windows, peak, state FROM incidents ORDER BY detector',
      );
      assert.deepEqual(incidents.rows.map((r) => [r.detector, r.start_ts.toISOString(), r.end_ts.toISOString(), r.windows, r.peak, r.state]), [
        ['cpu-mem', '1970-01-01T23:59:50.000Z', '1970-01-02T00:00:20.000Z', 3, '90.1', 'closed'],
        ['ip-burst', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:05.000Z', 6, '14.0', 'closed'],
      ]);
    });

    test('search: status classes, host, ip, country, time range, literal text, limit', async () => {
      const base = 1_700_000_000;
      await sink(db, new FakeSource(records('nginx-logs', [
        event({ '@timestamp': base, status: 404, host: 'a.example', request: 'GET /100%_done HTTP/1.1' }),
        event({ '@timestamp': base + 1, status: '403', host: 'a.example', country: 'IR', client_ip: '10.0.0.2' }),
        event({ '@timestamp': base + 2, status: 500, host: 'b.example', path: '/api/100x_done' }),
        '10.0.0.9 - - [14/Nov/2023:22:13:23 +0000] "POST /login?next=%2F HTTP/1.1" 401 12 "-" "curl/8" a.example',
      ])));
      const hosts = (hits: Awaited<ReturnType<typeof searchEvents>>): string[] => hits.map((h) => `${h.status}@${h.host}`);
      const now = (base + 60) * 1000;
      assert.deepEqual(hosts(await searchEvents(db, { status: '4xx' }, now)), ['401@a.example', '403@a.example', '404@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { status: '404,5xx' }, now)), ['500@b.example', '404@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { ip: '10.0.0.2' }, now)), ['403@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { country: 'IR' }, now)), ['403@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { sinceMs: 59_000 }, now)), ['401@a.example', '500@b.example', '403@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { text: '100%_' }, now)), ['404@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { text: 'login' }, now)), ['401@a.example']);
      assert.deepEqual(hosts(await searchEvents(db, { host: 'a.example', limit: 1 }, now)), ['401@a.example']);
      const [login] = await searchEvents(db, { text: 'LOGIN' }, now);
      assert.equal(login?.request, 'POST /login?next=%2F HTTP/1.1');
      assert.equal(login?.country, '--');
    });

    test('a lost connection is retried with the same batch; a refused statement is not', async () => {
      let failures = 1;
      const flaky: Database = {
        ...db,
        query: db.query,
        close: db.close,
        transaction: async (work) => {
          if (failures-- > 0) throw statementError(Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' }), 'transaction');
          return db.transaction(work);
        },
      };
      const log: string[] = [];
      const input = new FakeSource(records('topic-cpu', [{ ts: '20:53:00', server_id: 'a', cpu_pct: 1 }]));
      await new PostgresSink(flaky, input, TOPICS, { batchSize: 10, flushIntervalMs: 1000, untilIdleMs: 0, retryDelaysMs: [10], log: (l) => log.push(l) }).run();
      assert.match(log[0]!, /^writing batch 1 failed \(transaction \.\.\.: Connection terminated unexpectedly\); trying again in 10 ms$/);
      assert.equal(await count(db, 'server_metrics'), 1);
      assert.deepEqual(input.commits, [[{ topic: 'topic-cpu', partition: 0, offset: 1 }]]);

      const refusing: Database = { ...db, query: db.query, close: db.close, transaction: async () => Promise.reject(statementError(new Error('value too long'), 'INSERT')) };
      const never = new FakeSource(records('topic-cpu', [{ ts: '20:53:05', server_id: 'a', cpu_pct: 1 }]));
      await assert.rejects(new PostgresSink(refusing, never, TOPICS, { batchSize: 10, flushIntervalMs: 1000, untilIdleMs: 0, retryDelaysMs: [10] }).run(), /value too long/);
      assert.deepEqual(never.commits, []);
    });

    test('a batch of 10,000 metric messages is one statement under the parameter limit', async () => {
      const values = Array.from({ length: 10_000 }, (_, i) => ({ ts: new Date(Date.UTC(2022, 0, 1) + i * 1000).toISOString(), server_id: `s${i % 10}`, disk_io: i }));
      const input = new FakeSource(records('topic-disk', values), 10_000);
      const s = await sink(db, input, 10_000);
      assert.equal(s.totals.batches, 1);
      assert.equal(await count(db, 'server_metrics'), 10_000);
    });
  });
}
