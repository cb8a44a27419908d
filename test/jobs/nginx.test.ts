// `streamwatch job nginx` through the real CLI, on hand-computed inputs
// (SEMANTICS.md sections 4 and 6): thresholds exactly at 10/11 and 15/16,
// window edges, hop alignment, string and number fields, code-point key
// order, rejects with line numbers, and order independence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { cli, event, iso, runLogJob, shuffled } from './log-harness.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('ip-burst: 10 requests in 20 s are not reported, 11 are, in each of the 10 one-second-hop windows holding them all', async () => {
  const lines = [
    // 10.0.0.10: 10 requests, one a second: at most 10 in any window.
    ...range(10).map((i) => event({ ip: '10.0.0.10', t: i + 0.5 })),
    // 10.0.0.11: 11 requests at 0.5 .. 10.5 s, half with number fields.
    ...range(11).map((i) => event({ ip: '10.0.0.11', t: i + 0.5, numbers: i % 2 === 0 })),
  ];
  const run = await runLogJob(['nginx', '--detector', 'ip-burst'], lines, { incidents: true });
  assert.equal(run.code, 0, run.stderr);
  // Windows start on whole seconds (hop alignment): those from -9 s to 0 s hold 0.5 .. 10.5.
  assert.deepEqual(run.out, [
    'window_start,window_end,client_ip,count',
    ...range(10).map((i) => `${iso(i - 9)},${iso(i + 11)},10.0.0.11,11`),
  ]);
  assert.deepEqual(run.incidents, [
    'detector,key,alert,start,end,windows,peak',
    `ip-burst,10.0.0.11,count > 10,${iso(-9)},${iso(20)},10,11`,
  ]);
  assert.match(run.stderr, /read 21 lines, rejected 0, skipped 0, late 0, wrote 10 rows, 1 incidents/);
});

test('ip-burst window edges: an event at w+20 s is outside [w, w+20), one at w+19.999 s inside', async () => {
  const inside = [...range(10).map(() => event({ ip: 'a', t: 0 })), event({ ip: 'a', t: 19.999 })];
  const outside = [...range(10).map(() => event({ ip: 'b', t: 0 })), event({ ip: 'b', t: 20 })];
  const run = await runLogJob(['nginx', '--detector', 'ip-burst'], [...inside, ...outside]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.out, ['window_start,window_end,client_ip,count', `${iso(0)},${iso(20)},a,11`]);
});

test('ip-burst counts every request: repeated identical events are not de-duplicated', async () => {
  const same = event({ ip: '192.168.1.1', t: 5 });
  const run = await runLogJob(['nginx', '--detector', 'ip-burst'], range(11).map(() => same));
  assert.equal(run.out.length, 1 + 20);
  assert.equal(run.out[1], `${iso(-14)},${iso(6)},192.168.1.1,11`);
  assert.equal(run.out[20], `${iso(5)},${iso(25)},192.168.1.1,11`);
});

test('host-4xx: only 400-499 count; 15 in 30 s are not reported, 16 are', async () => {
  const lines = [
    ...range(15).map((i) => event({ host: 'fifteen.example', status: 404, t: i })),
    // 16 client errors at 0..15 s, from 400 to 499, with 399 and 500 in between that do not count.
    ...range(16).map((i) => event({ host: 'sixteen.example', status: i === 0 ? 400 : i === 15 ? 499 : 403, t: i, numbers: i % 3 === 0 })),
    event({ host: 'sixteen.example', status: 399, t: 1 }),
    event({ host: 'sixteen.example', status: 500, t: 2 }),
    // 8 + 8 errors 30 s apart: never 16 in one window.
    ...range(8).map(() => event({ host: 'apart.example', status: 429, t: 0 })),
    ...range(8).map(() => event({ host: 'apart.example', status: 429, t: 30 })),
  ];
  const run = await runLogJob(['nginx', '--detector', 'host-4xx'], lines, { incidents: true });
  assert.equal(run.code, 0, run.stderr);
  // Windows [w, w+30) with w from -14 to 0 hold 0..15 s.
  assert.deepEqual(run.out, ['window_start,window_end,host,count', ...range(15).map((i) => `${iso(i - 14)},${iso(i + 16)},sixteen.example,16`)]);
  assert.deepEqual(run.incidents.slice(1), [`host-4xx,sixteen.example,count > 15,${iso(-14)},${iso(30)},15,16`]);
  assert.match(run.stderr, /skipped 2,/);
});

test('country-success: 200-299 per country in tumbling minutes, always reported, rows by start then key in code-point order', async () => {
  const lines = [
    event({ country: 'US', status: 200, t: 0 }),
    event({ country: 'US', status: 299, t: 59.999 }),
    event({ country: 'US', status: 250, t: 60 }),
    event({ country: 'US', status: 300, t: 10 }),
    event({ country: 'US', status: 199, t: 10 }),
    event({ country: 'ae', status: '204', t: 30 }),
    event({ country: 'ZA', status: 201, t: 30, numbers: true }),
    event({ country: 'DE', status: 200, t: 119.5 }),
  ];
  const run = await runLogJob(['nginx', '--detector', 'country-success'], lines);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.out, [
    'window_start,window_end,country,count',
    `${iso(0)},${iso(60)},US,2`,
    `${iso(0)},${iso(60)},ZA,1`,
    `${iso(0)},${iso(60)},ae,1`,
    `${iso(60)},${iso(120)},DE,1`,
    `${iso(60)},${iso(120)},US,1`,
  ]);
});

test('host-latency: exact mean request time per host and minute, half up to 3 decimals', async () => {
  const lines = [
    event({ host: 'a', rt: '0.0005', t: 1 }),
    event({ host: 'a', rt: 0.001, t: 2, numbers: true }), // mean 0.00075 → 0.001
    event({ host: 'b', rt: '0.1', t: 3 }),
    event({ host: 'b', rt: '0.2', t: 4 }),
    event({ host: 'b', rt: 0.2, t: 5, numbers: true }), // 0.1666… → 0.167
    event({ host: 'c', rt: '10.005', t: 6 }),
    event({ host: 'c', rt: '10.006', t: 7 }), // 10.0055 → 10.006
    event({ host: 'd', rt: '0.28', t: 8 }),
    event({ host: 'd', rt: 0.28, t: 9, numbers: true }),
    event({ host: 'd', rt: '3', t: 60 }),
    event({ host: 'e', rt: '0', status: 500, t: 61 }),
  ];
  const run = await runLogJob(['nginx', '--detector', 'host-latency'], lines);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.out, [
    'window_start,window_end,host,avg_request_time',
    `${iso(0)},${iso(60)},a,0.001`,
    `${iso(0)},${iso(60)},b,0.167`,
    `${iso(0)},${iso(60)},c,10.006`,
    `${iso(0)},${iso(60)},d,0.28`,
    `${iso(60)},${iso(120)},d,3.0`,
    `${iso(60)},${iso(120)},e,0.0`,
  ]);
});

test('rejects: each bad line with its line number and reason; blank lines skipped; the job goes on', async () => {
  const lines = [
    event({ t: 1 }),
    '',
    event({ t: 2, status: 700 }),
    '{"client_ip":"1.2.3.4"',
    event({ t: 3, rt: '-1' }),
    'not a log line, "quoted"',
    event({ t: 4 }),
  ];
  const run = await runLogJob(['nginx', '--detector', 'country-success'], lines);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.rejects, [
    'source,line,reason,record',
    `in.log,3,status 700 is outside 100-599,${csv(lines[2]!)}`,
    `in.log,4,not valid JSON,${csv(lines[3]!)}`,
    `in.log,5,request_time -1 is negative,${csv(lines[4]!)}`,
    `in.log,6,not a JSON object nor an NGINX combined log line,${csv(lines[5]!)}`,
  ]);
  assert.deepEqual(run.out, ['window_start,window_end,country,count', `${iso(0)},${iso(60)},IR,2`]);
  assert.match(run.stderr, /read 6 lines, rejected 4/);
});

test('keys are UTF-8 text sorted in code-point order; a line that is not UTF-8 is rejected and copied byte for byte', async () => {
  const good = ['Ö', '\u{1d49c}', '\uff71', 'Z'].map((country, i) => event({ country, t: i }));
  const bad = Buffer.from([0x7b, 0x61, 0xff, 0xfe, 0x62, 0x7d]); // {a..b} with two bytes that are not UTF-8
  const input = Buffer.concat([Buffer.from(`${good.join('\n')}\n`), bad, Buffer.from('\n')]);
  const run = await runLogJob(['nginx', '--detector', 'country-success'], input);
  assert.equal(run.code, 0, run.stderr);
  // UTF-16 order would put U+1D49C (a surrogate pair) before U+FF71.
  assert.deepEqual(run.out.slice(1).map((r) => r.split(',')[2]), ['Z', 'Ö', '\uff71', '\u{1d49c}']);
  assert.match(run.rejects[1]!, /^in\.log,5,not valid UTF-8,/);
  assert.ok(run.rejectsBytes.includes(bad), 'the rejected line keeps its bytes');
});

function csv(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

const COMBINED = (ip: string, time: string, status: number, extra = '') =>
  `${ip} - - [${time}] "GET /index.html HTTP/1.1" ${status} 512 "-" "curl/8.0"${extra}`;

test('combined log lines: host from --server-name or the virtual host; lines without a request time rejected only by host-latency', async () => {
  const lines = [
    COMBINED('10.1.1.1', '03/Aug/2022:06:50:01 +0000', 200, ' 0.100'),
    COMBINED('10.1.1.1', '03/Aug/2022:09:20:02 +0230', 200, ' 0.200 shop.example'),
    COMBINED('10.1.1.1', '03/Aug/2022:06:50:03 +0000', 200),
    event({ ip: '10.1.1.1', host: 'web1', rt: '0.3', t: 4 }),
  ];
  const latency = await runLogJob(['nginx', '--detector', 'host-latency', '--server-name', 'web1'], lines);
  assert.equal(latency.code, 0, latency.stderr);
  assert.deepEqual(latency.out, ['window_start,window_end,host,avg_request_time', `${iso(0)},${iso(60)},shop.example,0.2`, `${iso(0)},${iso(60)},web1,0.2`]);
  assert.deepEqual(latency.rejects.map((r) => r.split(',').slice(1, 3).join(',')), ['line,reason', '3,no request time in the line']);
  const countries = await runLogJob(['nginx', '--detector', 'country-success'], lines);
  assert.deepEqual(countries.out.slice(1), [`${iso(0)},${iso(60)},--,3`, `${iso(0)},${iso(60)},IR,1`]);
  const noHost = await runLogJob(['nginx', '--detector', 'host-latency'], lines.slice(0, 1));
  assert.deepEqual(noHost.rejects.map((r) => r.split(',')[2]), ['reason', 'no virtual host in the line and no --server-name given']);
});

test('shuffled input gives the same rows and incidents, also when lines are later than the first pass allows (read twice)', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 600; i++) {
    const t = (i * 7919) % 120 + (i % 10) / 10;
    lines.push(event({ ip: `10.0.0.${i % 3}`, host: `h${i % 2}`, country: ['IR', 'US', 'DE'][i % 3], status: [200, 404, 403, 201, 500][i % 5], rt: `0.${i % 97}`, t, numbers: i % 4 === 0 }));
  }
  lines.sort((a, b) => Number(JSON.parse(a)['@timestamp']) - Number(JSON.parse(b)['@timestamp']));
  for (const detector of ['ip-burst', 'host-4xx', 'country-success', 'host-latency']) {
    const alerts = detector === 'ip-burst' || detector === 'host-4xx';
    const inOrder = await runLogJob(['nginx', '--detector', detector], lines, { incidents: alerts });
    const mixed = await runLogJob(['nginx', '--detector', detector], shuffled(lines), { incidents: alerts, env: { SW_BATCH_LATENESS: '1000' } });
    assert.equal(inOrder.code, 0, inOrder.stderr);
    assert.ok(inOrder.out.length > 2, `${detector} reports rows`);
    assert.deepEqual(mixed.out, inOrder.out, detector);
    assert.deepEqual(mixed.incidents, inOrder.incidents, detector);
    assert.match(mixed.stderr, /read twice/);
    assert.doesNotMatch(inOrder.stderr, /read twice/);
  }
});

test('usage errors exit 2 with one line; a missing input exits 1', async () => {
  const unknown = await runLogJob(['nginx', '--detector', 'ip-storm'], []);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^streamwatch: --detector: 'ip-storm' is not one of ip-burst, host-4xx, country-success, host-latency\n$/);
  const noIncidents = await runLogJob(['nginx', '--detector', 'country-success'], [], { incidents: true });
  assert.equal(noIncidents.code, 2);
  const missing = await cli(['job', 'nginx', '--detector', 'ip-burst', '--input', 'nowhere.log', '--out', 'never.csv'], tmpdir());
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read nowhere\.log: ENOENT/);
});
