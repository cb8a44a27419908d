// `streamwatch job lb-summary` through the real CLI, on hand-computed
// inputs (SEMANTICS.md section 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLogJob, shuffled } from './log-harness.ts';

const HEADER = 'window_start,window_end,get_success,get_failure,post_success,post_failure,other,avg_latency_ms';

test('5-minute summaries over all backends: success is status < 400, other methods, exact mean latency half up to 1 decimal', async () => {
  const lines = [
    '2024-05-01T10:00:00.000Z lb-1 server_1 GET /a 200 10',
    '2024-05-01T10:01:00.000Z lb-2 server_2 GET /a 404 20',
    '2024-05-01T10:02:00.000Z lb-1 server_3 POST /b 201 30',
    '2024-05-01T10:03:00.000Z lb-1 server_3 POST /b 500 40',
    '2024-05-01T10:04:00.000Z lb-1 server_4 PUT /c 200 50',
    '2024-05-01T12:04:59.999+02:00 lb-1 server_5 GET /d 399 15',
    // 10:05:00.000 opens the next window; `get` is not GET.
    '2024-05-01T10:05:00.000Z lb-1 server_1 get /a 200 0.2',
    '2024-05-01T10:09:59.999Z lb-1 server_1 DELETE /a 503 0.3',
    // Nothing from 10:10 to 10:15: that window is not reported.
    '2024-05-01T10:15:00.000Z\tlb-2  server_9 GET /z 302 0.05',
    '2024-05-01T10:16:00.000Z lb-2 server_9 POST /z 400 0.1',
  ];
  const run = await runLogJob(['lb-summary'], lines);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.out, [
    HEADER,
    // (10 + 20 + 30 + 40 + 50 + 15) / 6 = 27.5
    '2024-05-01T10:00:00.000Z,2024-05-01T10:05:00.000Z,2,1,1,1,1,27.5',
    // (0.2 + 0.3) / 2 = 0.25 → 0.3 (half up, not to even)
    '2024-05-01T10:05:00.000Z,2024-05-01T10:10:00.000Z,0,0,0,0,2,0.3',
    // (0.05 + 0.1) / 2 = 0.075 → 0.1
    '2024-05-01T10:15:00.000Z,2024-05-01T10:20:00.000Z,1,0,0,1,0,0.1',
  ]);
  assert.match(run.stderr, /read 10 lines, rejected 0, skipped 0, late 0, wrote 3 rows/);
});

test('rejects with line numbers and reasons', async () => {
  const lines = [
    '2024-05-01T10:00:00Z lb-1 server_1 GET /a 200 10',
    '2024-05-01T10:00:01Z lb-1 server_1 GET /a 200',
    '   ',
    '10:00:02 lb-1 server_1 GET /a 200 10',
    '2024-05-01T10:00:03Z lb-1 server_1 GET /a 200 -5',
    '2024-05-01T10:00:04Z lb-1 server_1 GET /a 2000 5',
    '2024-05-01T10:00:05Z lb-1 server_1 GET /a 200 30',
  ];
  const run = await runLogJob(['lb-summary'], lines);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.rejects, [
    'source,line,reason,record',
    `in.log,2,"expected 7 fields, found 6",${lines[1]}`,
    `in.log,4,time '10:00:02' does not parse,${lines[3]}`,
    `in.log,5,latency -5 is negative,${lines[4]}`,
    `in.log,6,status 2000 is outside 100-599,${lines[5]}`,
  ]);
  assert.deepEqual(run.out, [HEADER, '2024-05-01T10:00:00.000Z,2024-05-01T10:05:00.000Z,2,0,0,0,0,20.0']);
});

test('shuffled lines give the same summaries', async () => {
  const lines: string[] = [];
  const methods = ['GET', 'POST', 'PUT', 'GET', 'HEAD'];
  for (let i = 0; i < 700; i++) {
    const at = new Date(Date.UTC(2024, 4, 1, 10) + ((i * 104_729) % 3_600_000)).toISOString();
    lines.push(`${at} lb-${i % 2} server_${i % 7} ${methods[i % 5]} /p ${[200, 404, 500, 201, 302, 499][i % 6]} ${(i * 37) % 900}.${i % 10}`);
  }
  lines.sort();
  const inOrder = await runLogJob(['lb-summary'], lines);
  const mixed = await runLogJob(['lb-summary'], shuffled(lines), { env: { SW_BATCH_LATENESS: '0' } });
  assert.equal(inOrder.code, 0, inOrder.stderr);
  assert.equal(inOrder.out.length, 1 + 12);
  assert.deepEqual(mixed.out, inOrder.out);
  assert.match(mixed.stderr, /read twice/);
});
