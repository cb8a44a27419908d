// Black-box tests of `streamwatch job cpu-mem` (SEMANTICS.md sections 1-3, 6)
// on small inputs whose expected rows are computed by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMBINED_HEADER, WINDOWS_OF_205300, csvText, runJob, shuffled, smallDataset, windowRows } from './harness.ts';
import { runReferenceJob } from '../support/reference-metrics.ts';

/** A combined row whose net/disk columns are valid zeros. */
const m = (ts: string, id: string, cpu: string, mem: string): string => `${ts},${id},${cpu},${mem},0,0,0`;
const combined = (...rows: string[]): Record<string, string> => ({ 'in.csv': csvText([COMBINED_HEADER, ...rows]) });
const INPUT = ['--input', 'in.csv'];

const CPU = 'CPU spike suspected';
const MEM = 'Memory saturation suspected';
const BOTH = 'High CPU + Memory stress';

test('cpu-mem: means are exact decimals rounded half up (10.005 and 10.005 give 10.01)', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('20:53:00', 'server_1', '10.005', '0.005'),
      m('20:53:05', 'server_1', '10.005', '0.005'),
      m('20:53:00', 'server_2', '0.004', '0.005'),
      m('20:53:00', 'server_3', '1.005', '2.675'), // binary floats say 1.00 and 2.67
      m('20:53:00', 'server_4', '1.5', '0'),
      m('20:53:01', 'server_4', '1.505', '0'),
      m('20:53:02', 'server_4', '1.51', '0.02'),
    ),
  });
  assert.equal(result.header?.join(','), 'server_id,window_start,window_end,avg_cpu,avg_mem,alert');
  assert.deepEqual(result.rows, [
    // (10.005 + 10.005) / 2 = 10.005 -> 10.01; (0.005 + 0.005) / 2 = 0.005 -> 0.01
    ...windowRows('server_1', WINDOWS_OF_205300, ['10.01', '0.01', '']),
    // 0.004 -> 0.0; 0.005 -> 0.01
    ...windowRows('server_2', WINDOWS_OF_205300, ['0.0', '0.01', '']),
    // 1.005 -> 1.01; 2.675 -> 2.68
    ...windowRows('server_3', WINDOWS_OF_205300, ['1.01', '2.68', '']),
    // (1.5 + 1.505 + 1.51) / 3 = 4.515 / 3 = 1.505 -> 1.51; 0.02 / 3 = 0.00666.. -> 0.01
    ...windowRows('server_4', WINDOWS_OF_205300, ['1.51', '0.01', '']),
  ]);
});

test('cpu-mem: exact decimals of any length (no binary floats)', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT, trimLeading: true,
    files: combined(
      m('20:53:00', 'server_1', '83.4549999999999999999', '78.92500000000000000001'), // 83.45 (no alert), 78.93 (alert)
      m('20:53:00', 'server_2', '10.000000000000000000005', '0.1'),
      m('20:53:01', 'server_2', '10.00000000000000000000499', '0.2'), // cpu mean 10.0000000000000000000049.. -> 10.0
      m('20:53:00', 'server_3', '0.1', '0.3'),
      m('20:53:01', 'server_3', '0.2', '0.3'),
      m('20:53:02', 'server_3', '0.3', '0.3'), // 0.6 / 3 = 0.2 exactly; 0.9 / 3 = 0.3
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '20:53:00', '20:53:30', '83.45', '78.93', MEM],
    ['server_2', '20:53:00', '20:53:30', '10.0', '0.15', ''],
    ['server_3', '20:53:00', '20:53:30', '0.2', '0.3', ''],
  ]);
});

test('cpu-mem: thresholds compare the rounded means, strictly greater, and give the four alert texts', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('20:53:00', 'server_1', '83.45', '78.92'), // exactly on both thresholds: no alert
      m('20:53:00', 'server_2', '83.46', '78.92'), // cpu only
      m('20:53:00', 'server_3', '83.45', '78.93'), // mem only
      m('20:53:00', 'server_4', '83.46', '78.93'), // both
      m('20:53:00', 'server_5', '83.44', '78.91'), // mean (83.44 + 83.46) / 2 = 83.45: no alert
      m('20:53:05', 'server_5', '83.46', '78.93'), //   mem (78.91 + 78.93) / 2 = 78.92: no alert
      m('20:53:00', 'server_6', '83.454', '78.924'), // rounds to 83.45 / 78.92: no alert, though above
      m('20:53:00', 'server_7', '83.455', '78.925'), // rounds to 83.46 / 78.93: both
    ),
  });
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['83.45', '78.92', '']),
    ...windowRows('server_2', WINDOWS_OF_205300, ['83.46', '78.92', CPU]),
    ...windowRows('server_3', WINDOWS_OF_205300, ['83.45', '78.93', MEM]),
    ...windowRows('server_4', WINDOWS_OF_205300, ['83.46', '78.93', BOTH]),
    ...windowRows('server_5', WINDOWS_OF_205300, ['83.45', '78.92', '']),
    ...windowRows('server_6', WINDOWS_OF_205300, ['83.45', '78.92', '']),
    ...windowRows('server_7', WINDOWS_OF_205300, ['83.46', '78.93', BOTH]),
  ]);
});

test('cpu-mem: --cpu-threshold and --mem-threshold replace the defaults', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT, extraArgs: ['--cpu-threshold', '50', '--mem-threshold', '60.5'],
    files: combined(
      m('20:53:00', 'server_1', '50', '60.51'), // 50.0 > 50 no; 60.51 > 60.5 yes
      m('20:53:00', 'server_2', '50.01', '60.5'), // cpu only
      m('20:53:00', 'server_3', '90', '10'), // 90 > 50: cpu only (83.45 is no longer the threshold)
    ),
  });
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['50.0', '60.51', MEM]),
    ...windowRows('server_2', WINDOWS_OF_205300, ['50.01', '60.5', CPU]),
    ...windowRows('server_3', WINDOWS_OF_205300, ['90.0', '10.0', CPU]),
  ]);
});

test('cpu-mem: an instant with cpu but no mem (or mem but no cpu) counts for neither average', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'],
    files: {
      'cpu.csv': csvText(['ts,server_id,cpu_pct', '20:53:00,server_1,10', '20:53:05,server_1,20', '20:53:00,server_2,99']),
      'mem.csv': csvText(['ts,server_id,mem_pct', '20:53:00,server_1,30', '20:53:10,server_1,40', '20:53:30,server_3,99']),
    },
  });
  // Joined: only (server_1, 20:53:00) = (10, 30). 20:53:05 has no mem, 20:53:10 no cpu,
  // server_2 has no mem at all, server_3 no cpu: no rows for them, no window at 20:53:10.
  assert.deepEqual(result.rows, windowRows('server_1', WINDOWS_OF_205300, ['10.0', '30.0', '']));
});

test('cpu-mem: a later record for the same (server, instant) replaces the earlier one; a rejected one does not', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('20:53:00', 'server_1', '10', '10'),
      m('20:53:05', 'server_2', '1', '1'),
      m('20:53:00', 'server_1', '20', '40'), // replaces (10, 10)
      m('20:53:00', 'server_1', '101', '50'), // rejected: cpu > 100, replaces nothing
      m('20:53:05', 'server_2', '3', '5'), // replaces (1, 1)
      m('20:53:05', 'server_2', '3', '5'), // an exact redelivery changes nothing
    ),
  });
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['20.0', '40.0', '']), // not (10+20)/2
    ...windowRows('server_2', WINDOWS_OF_205300, ['3.0', '5.0', '']),
  ]);
  assert.deepEqual(result.rejects, [['in.csv', 5, '20:53:00,server_1,101,50,0,0,0']]);
});

test('cpu-mem: duplicates in the per-topic inputs, each topic on its own', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'],
    files: {
      'cpu.csv': csvText(['ts,server_id,cpu_pct', '20:53:00,server_1,10', '20:53:00,server_1,30']),
      'mem.csv': csvText(['ts,server_id,mem_pct', '20:53:00,server_1,70', '20:53:00,server_1,50', '20:53:00,server_1,50']),
    },
  });
  // cpu 30 replaces 10; mem 50 replaces 70 (and its redelivery changes nothing)
  assert.deepEqual(result.rows, windowRows('server_1', WINDOWS_OF_205300, ['30.0', '50.0', '']));
});

test('cpu-mem: out-of-order rows are placed in every window they belong to', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('20:53:20', 'server_1', '30', '3'),
      m('20:53:00', 'server_1', '10', '1'),
      m('20:53:10', 'server_1', '20', '2'),
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '20:52:40', '20:53:10', '10.0', '1.0', ''], // {:00}
    ['server_1', '20:52:50', '20:53:20', '15.0', '1.5', ''], // {:00, :10}
    ['server_1', '20:53:00', '20:53:30', '20.0', '2.0', ''], // {:00, :10, :20}
    ['server_1', '20:53:10', '20:53:40', '25.0', '2.5', ''], // {:10, :20}
    ['server_1', '20:53:20', '20:53:50', '30.0', '3.0', ''], // {:20}
  ]);
});

test('cpu-mem: a shuffled copy of a dataset gives the same rows (and the reference\'s)', async () => {
  const rows = smallDataset();
  const ordered = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files: combined(...rows) });
  const mixed = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files: combined(...shuffled(rows, 7)) });
  const expected = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'in.csv', text: csvText([COMBINED_HEADER, ...rows]) } });
  assert.equal(ordered.rows.length, 3 * 14); // 20:53:00 .. 20:54:55: windows 20:52:40 .. 20:54:50
  assert.deepEqual(ordered.rows, expected.rows);
  assert.deepEqual(mixed.rows, ordered.rows);
  assert.deepEqual(mixed.incidents, ordered.incidents);
});

test('cpu-mem: a replay crossing midnight puts 00:00:xx on the next day', async () => {
  const files = combined(
    m('23:59:50', 'server_1', '10', '1'),
    m('23:59:55', 'server_1', '20', '2'),
    m('00:00:00', 'server_1', '30', '3'),
    m('00:00:05', 'server_1', '40', '4'),
    m('00:00:10', 'server_1', '50', '5'),
    m('00:00:20', 'server_1', '60', '6'),
  );
  const result = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files });
  // seconds from midnight: -10, -5, 0, 5, 10, 20
  assert.deepEqual(result.rows, [
    ['server_1', '23:59:30', '00:00:00', '15.0', '1.5', ''], // {-10, -5}
    ['server_1', '23:59:40', '00:00:10', '25.0', '2.5', ''], // {-10, -5, 0, 5}
    ['server_1', '23:59:50', '00:00:20', '30.0', '3.0', ''], // {-10 .. 10}: 150 / 5
    ['server_1', '00:00:00', '00:00:30', '45.0', '4.5', ''], // {0, 5, 10, 20}: 180 / 4
    ['server_1', '00:00:10', '00:00:40', '55.0', '5.5', ''], // {10, 20}
    ['server_1', '00:00:20', '00:00:50', '60.0', '6.0', ''], // {20}
  ]);
  const trimmed = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files, trimLeading: true });
  assert.deepEqual(trimmed.rows, result.rows.slice(2), 'first event 23:59:50: the windows at 23:59:30 and 23:59:40 go');
});

test('cpu-mem: a time of day more than 12 h (not exactly 12 h) before the latest one is on the next day', async () => {
  // 08:00:00 is 12 h 00 min 01 s before 20:00:01: the next day, so its windows come after 20:00:01's
  const later = await runJob({
    job: 'cpu-mem', inputArgs: INPUT, trimLeading: true,
    files: combined(m('20:00:01', 'server_1', '10', '10'), m('08:00:00', 'server_1', '20', '20')),
  });
  assert.deepEqual(later.rows.map((r) => [r[1], r[3]]), [
    ['20:00:00', '10.0'], ['07:59:40', '20.0'], ['07:59:50', '20.0'], ['08:00:00', '20.0'],
  ]);
  // 08:00:00 is exactly 12 h before 20:00:00: the same day, before it (trimmed from 08:00:00 on)
  const same = await runJob({
    job: 'cpu-mem', inputArgs: INPUT, trimLeading: true,
    files: combined(m('20:00:00', 'server_1', '10', '10'), m('08:00:00', 'server_1', '20', '20')),
  });
  assert.deepEqual(same.rows.map((r) => [r[1], r[3]]), [
    ['08:00:00', '20.0'], ['19:59:40', '10.0'], ['19:59:50', '10.0'], ['20:00:00', '10.0'],
  ]);
});

test('cpu-mem: per-topic inputs crossing midnight, each file on its own', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'],
    files: {
      'cpu.csv': csvText(['ts,server_id,cpu_pct', '23:59:55,server_1,10', '00:00:05,server_1,20']),
      'mem.csv': csvText(['ts,server_id,mem_pct', '23:59:55,server_1,30', '00:00:05,server_1,40']),
    },
  });
  assert.deepEqual(result.rows, [
    ['server_1', '23:59:30', '00:00:00', '10.0', '30.0', ''],
    ['server_1', '23:59:40', '00:00:10', '15.0', '35.0', ''],
    ['server_1', '23:59:50', '00:00:20', '15.0', '35.0', ''],
    ['server_1', '00:00:00', '00:00:30', '20.0', '40.0', ''],
  ]);
});

test('cpu-mem: the header server_id,timestamp,cpu_pct,mem_pct, and columns in any order', async () => {
  const variant = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: { 'in.csv': csvText(['server_id,timestamp,cpu_pct,mem_pct', 'server_1,20:53:00,84,80', 'server_1,20:53:05,86,82']) },
  });
  // (84 + 86) / 2 = 85 > 83.45, (80 + 82) / 2 = 81 > 78.92
  assert.deepEqual(variant.rows, windowRows('server_1', WINDOWS_OF_205300, ['85.0', '81.0', BOTH]));
  const reordered = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: { 'in.csv': csvText(['mem_pct,disk_io,cpu_pct,net_out,ts,net_in,server_id', '80,1,84,1,20:53:00,1,server_1', '82,1,86,1,20:53:05,1,server_1']) },
  });
  assert.deepEqual(reordered.rows, variant.rows);
});

test('cpu-mem: ISO 8601 input (Z and offsets) prints ISO UTC with milliseconds', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('2022-08-03T06:51:40Z', 'server_1', '10', '20'),
      m('2022-08-03T08:51:52.250+02:00', 'server_1', '30', '40'), // = 06:51:52.250Z
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '2022-08-03T06:51:20.000Z', '2022-08-03T06:51:50.000Z', '10.0', '20.0', ''], // {:40}
    ['server_1', '2022-08-03T06:51:30.000Z', '2022-08-03T06:52:00.000Z', '20.0', '30.0', ''], // {:40, :52.25}
    ['server_1', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:10.000Z', '20.0', '30.0', ''],
    ['server_1', '2022-08-03T06:51:50.000Z', '2022-08-03T06:52:20.000Z', '30.0', '40.0', ''], // {:52.25}
  ]);
});

test('cpu-mem: epoch-seconds input (fractions allowed) prints ISO UTC with milliseconds', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      m('1659509500', 'server_1', '10', '20'), // 2022-08-03T06:51:40Z
      m('1659509512.5', 'server_1', '30', '40'), // 06:51:52.5
      m('1659509500.000', 'server_1', '11', '21'), // the same instant as the first row: replaces it
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '2022-08-03T06:51:20.000Z', '2022-08-03T06:51:50.000Z', '11.0', '21.0', ''],
    ['server_1', '2022-08-03T06:51:30.000Z', '2022-08-03T06:52:00.000Z', '20.5', '30.5', ''],
    ['server_1', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:10.000Z', '20.5', '30.5', ''],
    ['server_1', '2022-08-03T06:51:50.000Z', '2022-08-03T06:52:20.000Z', '30.0', '40.0', ''],
  ]);
});

test('cpu-mem: per-topic ISO cpu file joins an epoch mem file on the same instants', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'],
    files: {
      'cpu.csv': csvText(['ts,server_id,cpu_pct', '2022-08-03T06:51:41Z,server_1,50']),
      'mem.csv': csvText(['ts,server_id,mem_pct', '1659509501,server_1,60']), // = 2022-08-03T06:51:41Z
    },
  });
  assert.deepEqual(result.rows, [
    ['server_1', '2022-08-03T06:51:20.000Z', '2022-08-03T06:51:50.000Z', '50.0', '60.0', ''],
    ['server_1', '2022-08-03T06:51:30.000Z', '2022-08-03T06:52:00.000Z', '50.0', '60.0', ''],
    ['server_1', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:10.000Z', '50.0', '60.0', ''],
  ]);
});

test('cpu-mem: --trim-leading drops, per server, the windows starting before its first event', async () => {
  const rows: string[] = [];
  for (let s = 0; s <= 60; s += 5) rows.push(m(`20:5${3 + Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`, 'server_1', '10', '10'));
  rows.push(m('20:53:07', 'server_2', '10', '10')); // first event 20:53:07 -> rounded down 20:53:00
  rows.push(m('20:53:00', 'server_3', '-1', '10')); // rejected: does not make 20:53:00 server_3's first event
  rows.push(m('20:53:25', 'server_3', '10', '10'));
  const plain = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files: combined(...rows) });
  const trimmed = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files: combined(...rows), trimLeading: true });
  const starts = (result: { rows: string[][] }, id: string): string[] => result.rows.filter((r) => r[0] === id).map((r) => r[1] as string);
  // 5-s data 20:53:00 .. 20:54:00: windows 20:52:40 .. 20:54:00
  assert.deepEqual(starts(plain, 'server_1'), ['20:52:40', '20:52:50', '20:53:00', '20:53:10', '20:53:20', '20:53:30', '20:53:40', '20:53:50', '20:54:00']);
  assert.deepEqual(starts(trimmed, 'server_1'), ['20:53:00', '20:53:10', '20:53:20', '20:53:30', '20:53:40', '20:53:50', '20:54:00']);
  assert.deepEqual(starts(plain, 'server_2'), ['20:52:40', '20:52:50', '20:53:00']);
  assert.deepEqual(starts(trimmed, 'server_2'), ['20:53:00']);
  assert.deepEqual(starts(plain, 'server_3'), ['20:53:00', '20:53:10', '20:53:20']);
  assert.deepEqual(starts(trimmed, 'server_3'), ['20:53:20']);
});

test('cpu-mem: --trim-leading on per-topic input counts the first joined instant', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'], trimLeading: true,
    files: {
      'cpu.csv': csvText(['ts,server_id,cpu_pct', '20:53:00,server_1,10', '20:53:20,server_1,20', '20:53:30,server_1,30']),
      'mem.csv': csvText(['ts,server_id,mem_pct', '20:53:20,server_1,40', '20:53:30,server_1,50']),
    },
  });
  // joined: 20:53:20 (20, 40) and 20:53:30 (30, 50); first joined instant 20:53:20
  assert.deepEqual(result.rows, [
    ['server_1', '20:53:20', '20:53:50', '25.0', '45.0', ''],
    ['server_1', '20:53:30', '20:54:00', '30.0', '50.0', ''],
  ]);
});

test('cpu-mem: servers in natural order (server_2 before server_10), then window start', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT, trimLeading: true,
    files: combined(
      m('20:53:10', 'server_10', '1', '1'),
      m('20:53:00', 'server_10', '1', '1'),
      m('20:53:00', 'server_2', '1', '1'),
      m('20:53:00', 'server_1', '1', '1'),
      m('20:53:00', 'server_9', '1', '1'),
      m('20:53:00', 'db-20', '1', '1'),
      m('20:53:00', 'db-3', '1', '1'),
    ),
  });
  assert.deepEqual(result.rows.map((r) => `${r[0]}@${r[1]}`), [
    'db-3@20:53:00', 'db-20@20:53:00', 'server_1@20:53:00', 'server_2@20:53:00', 'server_9@20:53:00',
    'server_10@20:53:00', 'server_10@20:53:10',
  ]);
});

test('cpu-mem: per-topic input (as consumers write it) gives the same rows as the combined file', async () => {
  const rows = smallDataset();
  const cpu = ['ts,server_id,cpu_pct'];
  const mem = ['ts,server_id,mem_pct'];
  for (const row of rows) {
    const [ts, id, c, mm] = row.split(',');
    cpu.push(`${ts},${id},${c}`);
    mem.push(`${ts},${id},${mm}`);
  }
  const fromCombined = await runJob({ job: 'cpu-mem', inputArgs: INPUT, files: combined(...rows), trimLeading: true });
  const fromTopics = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'cpu.csv', '--mem', 'mem.csv'], trimLeading: true,
    files: { 'cpu.csv': csvText(cpu), 'mem.csv': csvText(mem) },
  });
  assert.equal(fromCombined.rows.length, 3 * 12); // trimmed: windows 20:53:00 .. 20:54:50
  assert.deepEqual(fromTopics.rows, fromCombined.rows);
  assert.deepEqual(fromTopics.incidents, fromCombined.incidents);
});

test('cpu-mem: incidents group overlapping and touching windows per alert, a gap splits, peak is the crossing metric', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(
      // server_1, touching: 20:53:00 -> windows :52:40, :52:50, :53:00; 20:53:50 -> :53:30, :53:40, :53:50.
      // [20:53:00, 20:53:30) touches [20:53:30, 20:54:00): one incident of 6 windows.
      m('20:53:00', 'server_1', '90', '0'),
      m('20:53:50', 'server_1', '95', '0'),
      // server_2, a gap: 20:53:00 -> up to [20:53:00, 20:53:30); 20:54:00 -> from [20:53:40, ...): two incidents.
      m('20:53:00', 'server_2', '90', '0'),
      m('20:54:00', 'server_2', '95', '0'),
      // server_3, alert texts interleaved. A = :00 (84, 60), B = :10 (96, 100), C = :20 (90, 0):
      //   20:52:40 {A}      cpu 84.0 mem 60.0   -> CPU
      //   20:52:50 {A,B}    cpu 90.0 mem 80.0   -> BOTH
      //   20:53:00 {A,B,C}  cpu 90.0 mem 53.33  -> CPU
      //   20:53:10 {B,C}    cpu 93.0 mem 50.0   -> CPU
      //   20:53:20 {C}      cpu 90.0 mem 0.0    -> CPU
      // CPU windows 20:52:40 and 20:53:00 overlap ([..., 20:53:10) and [20:53:00, ...)): one incident of 4, peak 93.0.
      m('20:53:00', 'server_3', '84', '60'),
      m('20:53:10', 'server_3', '96', '100'),
      m('20:53:20', 'server_3', '90', '0'),
      // server_4, memory only: peak is the mem value, not the cpu one
      m('20:53:00', 'server_4', '10', '80'),
    ),
  });
  assert.deepEqual(result.incidents, [
    ['cpu-mem', 'server_1', CPU, '20:52:40', '20:54:20', '6', '95.0'],
    ['cpu-mem', 'server_2', CPU, '20:52:40', '20:53:30', '3', '90.0'],
    ['cpu-mem', 'server_2', CPU, '20:53:40', '20:54:30', '3', '95.0'],
    ['cpu-mem', 'server_3', CPU, '20:52:40', '20:53:50', '4', '93.0'],
    ['cpu-mem', 'server_3', BOTH, '20:52:50', '20:53:20', '1', '90.0'],
    ['cpu-mem', 'server_4', MEM, '20:52:40', '20:53:30', '3', '80.0'],
  ]);
  assert.deepEqual(result.rows.filter((r) => r[0] === 'server_3').map((r) => [r[1], r[3], r[4], r[5]]), [
    ['20:52:40', '84.0', '60.0', CPU],
    ['20:52:50', '90.0', '80.0', BOTH],
    ['20:53:00', '90.0', '53.33', CPU],
    ['20:53:10', '93.0', '50.0', CPU],
    ['20:53:20', '90.0', '0.0', CPU],
  ]);
  assert.equal(result.stats?.incidents, 6, `stats line: ${result.run.stderr}`);
});

test('cpu-mem: the final stderr line counts rows read, rejected, late and written', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: INPUT,
    files: combined(m('20:53:00', 'server_1', '1', '1'), m('20:53:00', 'server_2', 'x', '1'), '', m('20:53:00', 'server_3', '1', '1')),
  });
  assert.deepEqual(result.stats, { read: 3, rejected: 1, late: 0, wrote: 6, incidents: 0 }, result.run.stderr);
});
