// The log explorer's backend: query text -> the storage's SearchFilter ->
// its parameterised SQL (src/io/sql/search.ts) -> table rows on /api/search.
// The session here records the statement and answers like the database;
// running that SQL on PGlite and PostgreSQL is the storage tests' part (a
// PGlite start costs ~20 s on the shared test machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlParam, SqlResult, SqlSession } from '../../src/io/sql/database.ts';
import { FeedHub } from '../../src/web/feed.ts';
import { databaseSearch, LOG_COLUMNS } from '../../src/web/log-search.ts';
import { startDashboard } from '../../src/web/server.ts';

test('log explorer: the query becomes the storage\'s parameterised search; hits become rows; bad queries are 400', async () => {
  const statements: Array<{ text: string; params: readonly SqlParam[] }> = [];
  const session: SqlSession = {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []): Promise<SqlResult<Row>> {
      statements.push({ text, params });
      const row = { ts: new Date('2022-08-03T06:51:53.000Z'), host: 'api_38.digikala.com', client_ip: '31.56.96.51', country: 'IR', method: 'GET', status: 429, request_time: '1.20', server: 's_v3', request: 'GET /search?q=phone HTTP/1.1', event_id: 'e3' };
      return { rows: [row as unknown as Row], rowCount: 1 };
    },
  };
  const server = await startDashboard({ hub: new FeedHub(), port: 0, search: databaseSearch(session) });
  try {
    const response = await fetch(`${server.url}/api/search?q=${encodeURIComponent('status:4xx host:api_38.digikala.com phone')}&limit=20`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      columns: LOG_COLUMNS,
      rows: [['2022-08-03T06:51:53.000Z', 429, 'GET', 'api_38.digikala.com', '31.56.96.51', 'IR', '1.20', 'GET /search?q=phone HTTP/1.1']],
    });
    const [statement] = statements;
    assert.match(statement!.text, /FROM nginx_events WHERE host = \$1 AND \(status BETWEEN \$2 AND \$3\) AND raw ILIKE \$4/);
    // User text travels only as parameters.
    assert.deepEqual(statement!.params, ['api_38.digikala.com', 400, 499, '%phone%', 20]);
    const bad = await fetch(`${server.url}/api/search?q=status:7xx`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /7xx/);
    assert.equal(statements.length, 1);
  } finally {
    await server.close();
  }
});
