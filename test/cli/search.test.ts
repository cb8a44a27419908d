// streamwatch search as users run it, on both database targets: a table by
// default, JSON lines with --json, filters combined, bad filters exit 2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresSink } from '../../src/io/sql/sink.ts';
import { parseTopicSpecs } from '../../src/io/sql/records.ts';
import { FakeSource, records } from '../io/sql/helpers/fake-source.ts';
import { runCli } from '../io/sql/helpers/cli.ts';
import { sqlTargets } from '../io/sql/helpers/targets.ts';

const now = Math.floor(Date.now() / 1000);
const EVENTS = [
  { client_ip: '10.0.0.1', method: 'GET', status: 404, request_time: 0.1, host: 'shop.example', country: 'DE', '@timestamp': now - 60, request: 'GET /missing HTTP/1.1' },
  { client_ip: '10.0.0.2', method: 'POST', status: '200', request_time: '0.25', host: 'shop.example', country: 'US', '@timestamp': now - 30 },
  { client_ip: '10.0.0.1', method: 'GET', status: 503, request_time: 1, host: 'api.example', country: 'DE', '@timestamp': now - 7200 },
];

test('search: a bad status filter is one line, exit status 2', async () => {
  const result = await runCli(['search', '--status', '4xy', '--data-dir', '/nonexistent/sw-search-test']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, "streamwatch: --status: '4xy' is not a status (404) or a class (4xx)\n");
});

for (const target of sqlTargets()) {
  describe(`search CLI on ${target.name}`, { skip: target.skip ?? false }, () => {
    before(async () => {
      await target.start();
      const db = await target.open();
      try {
        await new PostgresSink(db, new FakeSource(records('nginx-logs', EVENTS)), parseTopicSpecs('nginx-logs'), { batchSize: 100, flushIntervalMs: 1000, untilIdleMs: 0 }).run();
      } finally {
        await db.close();
      }
    });
    after(() => target.stop());

    test('table and JSON lines, filters combined', async () => {
      let result = await runCli(['search', '--since', '1h', ...target.cliArgs()]);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^TIME\s+STATUS\s+METHOD\s+HOST\s+CLIENT-IP\s+COUNTRY\s+REQUEST-TIME\s+REQUEST$/);
      assert.equal(lines.length, 3);
      assert.match(lines[1]!, /200\s+POST\s+shop\.example\s+10\.0\.0\.2\s+US\s+0\.25\s+-$/);
      assert.match(lines[2]!, /404\s+GET\s+shop\.example\s+10\.0\.0\.1\s+DE\s+0\.1\s+GET \/missing HTTP\/1\.1$/);
      assert.equal(result.stderr, 'streamwatch search: 2 events\n');

      result = await runCli(['search', '--ip', '10.0.0.1', '--status', '4xx,5xx', '--json', ...target.cliArgs()]);
      assert.equal(result.code, 0, result.stderr);
      const hits = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { status: number; host: string; ts: string });
      assert.deepEqual(hits.map((h) => [h.status, h.host]), [[404, 'shop.example'], [503, 'api.example']]);
      assert.equal(hits[0]!.ts, new Date((now - 60) * 1000).toISOString());
    });
  });
}
