// Black-box tests of `streamwatch job net-disk` (SEMANTICS.md sections 1-3, 6)
// on small inputs whose expected rows are computed by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMBINED_HEADER, WINDOWS_OF_205300, csvText, runJob, shuffled, smallDataset, windowRows } from './harness.ts';
import { runReferenceJob } from '../support/reference-metrics.ts';

/** A combined row whose cpu/mem columns are valid. */
const n = (ts: string, id: string, netIn: string, disk: string, netOut = '1'): string => `${ts},${id},50,50,${netIn},${netOut},${disk}`;
const combined = (...rows: string[]): Record<string, string> => ({ 'in.csv': csvText([COMBINED_HEADER, ...rows]) });
const INPUT = ['--input', 'in.csv'];

const NET = 'Possible DDoS';
const DISK = 'Disk thrash suspected';
const BOTH = 'Network flood + Disk thrash suspected';

test('net-disk: maxima rounded half up to 2 decimals, printed shortest with one fractional digit', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT,
    files: combined(
      n('20:53:00', 'server_1', '100.5', '1.005'),
      n('20:53:05', 'server_1', '100.499', '0.5'),
      n('20:53:00', 'server_2', '0.004', '0.005'),
      n('20:53:00', 'server_3', '1234567.891', '60'),
    ),
  });
  assert.equal(result.header?.join(','), 'server_id,window_start,window_end,max_net_in,max_disk_io,alert');
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['100.5', '1.01', '']), // max(100.5, 100.499); 1.005 -> 1.01
    ...windowRows('server_2', WINDOWS_OF_205300, ['0.0', '0.01', '']), // 0.004 -> 0.0; 0.005 -> 0.01
    ...windowRows('server_3', WINDOWS_OF_205300, ['1234567.89', '60.0', NET]),
  ]);
});

test('net-disk: exact decimals of any length and size (no binary floats, no 64-bit overflow)', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT, trimLeading: true,
    files: combined(
      n('20:53:00', 'server_1', '9007199254740993.005', '0.00499999999999999999'), // 2^53 + 1, .005 -> .01; just below .005
      n('20:53:00', 'server_2', '123456789012345678901234567890.125', '4149.7949999999999999'),
      n('20:53:01', 'server_2', '123456789012345678901234567890.124', '1925.4750000000000001'),
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '20:53:00', '20:53:30', '9007199254740993.01', '0.0', NET],
    ['server_2', '20:53:00', '20:53:30', '123456789012345678901234567890.13', '4149.79', BOTH],
  ]);
});

test('net-disk: thresholds compare the rounded maxima, strictly greater, and give the four alert texts', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT,
    files: combined(
      n('20:53:00', 'server_1', '4149.79', '1925.47'), // exactly on both: no alert
      n('20:53:00', 'server_2', '4149.80', '1925.47'), // net only
      n('20:53:00', 'server_3', '4149.79', '1925.48'), // disk only
      n('20:53:00', 'server_4', '4149.8', '1925.48'), // both
      n('20:53:00', 'server_5', '4149.794', '1925.474'), // round to the thresholds: no alert
      n('20:53:00', 'server_6', '4149.795', '1925.475'), // round to 4149.8 / 1925.48: both
    ),
  });
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['4149.79', '1925.47', '']),
    ...windowRows('server_2', WINDOWS_OF_205300, ['4149.8', '1925.47', NET]),
    ...windowRows('server_3', WINDOWS_OF_205300, ['4149.79', '1925.48', DISK]),
    ...windowRows('server_4', WINDOWS_OF_205300, ['4149.8', '1925.48', BOTH]),
    ...windowRows('server_5', WINDOWS_OF_205300, ['4149.79', '1925.47', '']),
    ...windowRows('server_6', WINDOWS_OF_205300, ['4149.8', '1925.48', BOTH]),
  ]);
});

test('net-disk: --net-threshold and --disk-threshold replace the defaults', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT, extraArgs: ['--net-threshold', '100', '--disk-threshold', '200.25'],
    files: combined(
      n('20:53:00', 'server_1', '100', '200.26'), // 100.0 > 100 no; 200.26 > 200.25 yes
      n('20:53:00', 'server_2', '100.01', '200.25'),
    ),
  });
  assert.deepEqual(result.rows, [
    ...windowRows('server_1', WINDOWS_OF_205300, ['100.0', '200.26', DISK]),
    ...windowRows('server_2', WINDOWS_OF_205300, ['100.01', '200.25', NET]),
  ]);
});

test('net-disk: the maximum of each window; out-of-order rows', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT,
    files: combined(
      n('20:53:20', 'server_1', '10', '300'),
      n('20:53:00', 'server_1', '30', '100'),
      n('20:53:10', 'server_1', '20', '200'),
    ),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '20:52:40', '20:53:10', '30.0', '100.0', ''], // {:00}
    ['server_1', '20:52:50', '20:53:20', '30.0', '200.0', ''], // {:00, :10}
    ['server_1', '20:53:00', '20:53:30', '30.0', '300.0', ''], // {:00, :10, :20}
    ['server_1', '20:53:10', '20:53:40', '20.0', '300.0', ''], // {:10, :20}
    ['server_1', '20:53:20', '20:53:50', '10.0', '300.0', ''], // {:20}
  ]);
});

test('net-disk: per-topic inputs, inner join and duplicates per topic', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: ['--net', 'net.csv', '--disk', 'disk.csv'],
    files: {
      'net.csv': csvText([
        'ts,server_id,net_in,net_out',
        '20:53:00,server_1,5000,1', // replaced below
        '20:53:05,server_1,9000,1', // no disk at :05: counts for nothing
        '20:53:00,server_1,10,2',
        '20:53:00,server_2,10,2', // no disk for server_2
      ]),
      'disk.csv': csvText(['ts,server_id,disk_io', '20:53:00,server_1,3000', '20:53:10,server_1,9000', '20:53:00,server_1,20']),
    },
  });
  // joined: (server_1, 20:53:00) = (10, 20)
  assert.deepEqual(result.rows, windowRows('server_1', WINDOWS_OF_205300, ['10.0', '20.0', '']));
});

test('net-disk: a later combined record replaces the earlier one, both metrics', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT,
    files: combined(n('20:53:00', 'server_1', '5000', '3000'), n('20:53:00', 'server_1', '1', '2')),
  });
  assert.deepEqual(result.rows, windowRows('server_1', WINDOWS_OF_205300, ['1.0', '2.0', '']));
});

test('net-disk: incidents, peak is net_in for the net alerts and disk_io for disk thrash', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT,
    files: combined(
      n('20:53:00', 'server_1', '5000', '2000'), // flood, 3 windows
      n('20:53:10', 'server_1', '6000', '1000'), // windows :52:50 .. :53:10: {5000,6000}/{2000,1000} still flood;
      //                                          20:53:10 {6000, 1000}: DDoS only
      n('20:53:00', 'server_2', '4500', '0'), // DDoS, peak 4500.0
      n('20:53:00', 'server_10', '10', '3000'), // disk thrash, peak 3000.0 (not 10)
    ),
  });
  // server_1 windows: 20:52:40 {A} 5000/2000 flood; 20:52:50 {A,B} 6000/2000 flood; 20:53:00 {A,B} flood; 20:53:10 {B} 6000/1000 DDoS
  assert.deepEqual(result.incidents, [
    ['net-disk', 'server_1', BOTH, '20:52:40', '20:53:30', '3', '6000.0'],
    ['net-disk', 'server_1', NET, '20:53:10', '20:53:40', '1', '6000.0'],
    ['net-disk', 'server_2', NET, '20:52:40', '20:53:30', '3', '4500.0'],
    ['net-disk', 'server_10', DISK, '20:52:40', '20:53:30', '3', '3000.0'],
  ]);
  assert.equal(result.stats?.incidents, 4, result.run.stderr);
});

test('net-disk: midnight crossing and --trim-leading', async () => {
  const files = combined(n('23:59:55', 'server_1', '10', '1'), n('00:00:05', 'server_1', '20', '2'));
  const result = await runJob({ job: 'net-disk', inputArgs: INPUT, files });
  assert.deepEqual(result.rows, [
    ['server_1', '23:59:30', '00:00:00', '10.0', '1.0', ''], // {-5}
    ['server_1', '23:59:40', '00:00:10', '20.0', '2.0', ''], // {-5, 5}
    ['server_1', '23:59:50', '00:00:20', '20.0', '2.0', ''],
    ['server_1', '00:00:00', '00:00:30', '20.0', '2.0', ''], // {5}
  ]);
  const trimmed = await runJob({ job: 'net-disk', inputArgs: INPUT, files, trimLeading: true });
  assert.deepEqual(trimmed.rows, result.rows.slice(2)); // first event 23:59:55 -> keep from 23:59:50
});

test('net-disk: ISO input prints ISO UTC with milliseconds', async () => {
  const result = await runJob({
    job: 'net-disk', inputArgs: INPUT, trimLeading: true,
    files: combined(n('2022-08-03T06:51:45.999Z', 'server_1', '1', '2'), n('2022-08-03T06:51:50.001Z', 'server_1', '3', '1')),
  });
  assert.deepEqual(result.rows, [
    ['server_1', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:10.000Z', '3.0', '2.0', ''],
    ['server_1', '2022-08-03T06:51:50.000Z', '2022-08-03T06:52:20.000Z', '3.0', '1.0', ''],
  ]);
});

test('net-disk: shuffled and per-topic copies of a dataset give the same rows as the reference', async () => {
  const rows = smallDataset();
  const net = ['ts,server_id,net_in,net_out'];
  const disk = ['ts,server_id,disk_io'];
  for (const row of rows) {
    const [ts, id, , , netIn, netOut, diskIo] = row.split(',');
    net.push(`${ts},${id},${netIn},${netOut}`);
    disk.push(`${ts},${id},${diskIo}`);
  }
  const expected = runReferenceJob('net-disk', { kind: 'combined', input: { source: 'in.csv', text: csvText([COMBINED_HEADER, ...rows]) } });
  const mixed = await runJob({ job: 'net-disk', inputArgs: INPUT, files: combined(...shuffled(rows, 11)) });
  const topics = await runJob({
    job: 'net-disk', inputArgs: ['--net', 'net.csv', '--disk', 'disk.csv'],
    files: { 'net.csv': csvText(shuffled(net.slice(1), 3).toSpliced(0, 0, net[0] as string)), 'disk.csv': csvText(disk) },
  });
  assert.deepEqual(mixed.rows, expected.rows);
  assert.deepEqual(mixed.incidents, expected.incidents);
  assert.deepEqual(topics.rows, expected.rows);
  assert.deepEqual(topics.incidents, expected.incidents);
});
