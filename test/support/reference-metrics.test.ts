// Hand-computed checks of the reference implementation itself, so that the
// black-box comparisons in test/jobs/ stand on something tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DayResolver, NS_PER_SECOND, ReferenceInputError, exceedsThreshold, formatCsvLine, formatHundredths,
  formatInstant, groupIncidents, maxHundredths, meanHundredths, naturalCompare, parseCsv, parseDecimal,
  parseMetricsCsv, parseTime, runReferenceJob,
} from './reference-metrics.ts';
import type { Decimal, ReferenceWindow } from './reference-metrics.ts';

const d = (text: string): Decimal => {
  const value = parseDecimal(text);
  assert.ok(value, text);
  return value;
};
const seconds = (n: number): bigint => BigInt(n) * NS_PER_SECOND;
const hms = (text: string): bigint => {
  const [h, m, s] = text.split(':').map(Number) as [number, number, number];
  return seconds(h * 3600 + m * 60 + s);
};

test('parseDecimal accepts plain decimals and refuses NaN, Infinity, empty and garbage', () => {
  assert.deepEqual(parseDecimal('10.005'), { units: 10005n, scale: 3 });
  assert.deepEqual(parseDecimal('-0.01'), { units: -1n, scale: 2 });
  assert.deepEqual(parseDecimal('100'), { units: 100n, scale: 0 });
  assert.deepEqual(parseDecimal('1e2'), { units: 100n, scale: 0 });
  for (const bad of ['NaN', 'Infinity', '-Infinity', '', 'abc', '1.2.3', '0x10', ' 5', '.', '-']) {
    assert.equal(parseDecimal(bad), undefined, bad);
  }
});

test('mean is exact and rounds half away from zero: 10.005 and 10.005 give 10.01', () => {
  // (10.005 + 10.005) / 2 = 10.005 -> 10.01 (a binary float would say 10.00)
  assert.equal(meanHundredths([d('10.005'), d('10.005')]), 1001n);
  assert.equal(meanHundredths([d('0.005')]), 1n); // 0.005 -> 0.01
  assert.equal(meanHundredths([d('0.004')]), 0n); // 0.004 -> 0.00
  assert.equal(meanHundredths([d('1'), d('2')]), 150n); // 1.5
  assert.equal(meanHundredths([d('83.449'), d('83.451')]), 8345n); // 166.9 / 2 = 83.45
  assert.equal(meanHundredths([d('0'), d('0'), d('0.01')]), 0n); // 0.00333.. -> 0.00
  assert.equal(meanHundredths([d('0.02'), d('0'), d('0')]), 1n); // 0.00666.. -> 0.01
  assert.equal(meanHundredths([d('1.5'), d('1.505'), d('1.51')]), 151n); // 4.515 / 3 = 1.505 -> 1.51
});

test('max rounds half up: 1.005 -> 1.01, 1.004 -> 1.0', () => {
  assert.equal(maxHundredths([d('0.5'), d('1.005'), d('1.0049')]), 101n);
  assert.equal(maxHundredths([d('1.004'), d('0.999')]), 100n);
  assert.equal(maxHundredths([d('4149.795')]), 414980n);
});

test('numbers print as the shortest decimal with at least one fractional digit', () => {
  assert.equal(formatHundredths(4532n), '45.32');
  assert.equal(formatHundredths(5790n), '57.9');
  assert.equal(formatHundredths(6000n), '60.0');
  assert.equal(formatHundredths(0n), '0.0');
  assert.equal(formatHundredths(5n), '0.05');
  assert.equal(formatHundredths(10000n), '100.0');
  assert.equal(formatHundredths(123456789n), '1234567.89');
});

test('thresholds compare the rounded value, strictly greater', () => {
  assert.equal(exceedsThreshold(8345n, d('83.45')), false);
  assert.equal(exceedsThreshold(8346n, d('83.45')), true);
  assert.equal(exceedsThreshold(8345n, d('83.449')), true);
  assert.equal(exceedsThreshold(8000n, d('80')), false);
});

test('parseTime: time of day, ISO with Z or an offset, epoch seconds', () => {
  assert.deepEqual(parseTime('20:53:00'), { kind: 'time-of-day', nanosOfDay: seconds(20 * 3600 + 53 * 60) });
  assert.deepEqual(parseTime('00:00:00'), { kind: 'time-of-day', nanosOfDay: 0n });
  for (const bad of ['24:00:00', '12:60:00', '12:00:60', 'xx:yy:zz', '', '20:53', 'now', '2022-02-30T00:00:00Z', '2022-08-03T06:51:40']) {
    assert.equal(parseTime(bad), undefined, bad);
  }
  // 2022-08-03T06:51:40Z is epoch 1659509500.
  const instant = { kind: 'absolute', epochNanos: seconds(1659509500) };
  assert.deepEqual(parseTime('2022-08-03T06:51:40Z'), instant);
  assert.deepEqual(parseTime('2022-08-03T08:51:40+02:00'), instant);
  assert.deepEqual(parseTime('2022-08-03T01:51:40-0500'), instant);
  assert.deepEqual(parseTime('1659509500'), instant);
  assert.deepEqual(parseTime('1659509500.25'), { kind: 'absolute', epochNanos: seconds(1659509500) + 250_000_000n });
  assert.deepEqual(parseTime('2022-08-03T06:51:40.123Z'), { kind: 'absolute', epochNanos: seconds(1659509500) + 123_000_000n });
});

test('formatInstant: HH:MM:SS modulo 24 h, ISO with milliseconds', () => {
  assert.equal(formatInstant(hms('20:52:40'), 'time-of-day'), '20:52:40');
  assert.equal(formatInstant(seconds(86400 + 20), 'time-of-day'), '00:00:20');
  assert.equal(formatInstant(seconds(-10), 'time-of-day'), '23:59:50');
  assert.equal(formatInstant(seconds(1659509500), 'absolute'), '2022-08-03T06:51:40.000Z');
});

test('DayResolver: a time of day more than 12 h before the latest is on the next day', () => {
  const resolver = new DayResolver();
  const feed = (text: string): bigint => {
    const instant = resolver.resolve(hms(text));
    resolver.accept(instant);
    return instant;
  };
  assert.equal(feed('23:59:50'), hms('23:59:50'));
  assert.equal(feed('23:59:40'), hms('23:59:40')); // 10 s earlier: same day
  assert.equal(feed('00:00:05'), seconds(86405)); // 23 h 59 m 45 s earlier: next day
  assert.equal(feed('23:59:55'), hms('23:59:55')); // interpretation: within 12 h of the latest, the previous day
  assert.equal(feed('11:59:00'), hms('11:59:00') + seconds(86400)); // 11 h 58 m after 00:00:06 of day 1: day 1
  assert.equal(feed('00:00:06'), seconds(86406)); // 11 h 58 m 54 s before the latest (11:59:00): same day
  // exactly 12 h earlier than the latest is not "more than 12 hours earlier"
  const other = new DayResolver();
  other.accept(other.resolve(hms('12:00:00')));
  assert.equal(other.resolve(hms('00:00:00')), 0n);
});

test('natural order: text before the trailing number, then the number', () => {
  const keys = ['server_10', 'web', 'server_2', 'db-3', 'server_1', 'server_', 'db-20'];
  assert.deepEqual([...keys].sort(naturalCompare), ['db-3', 'db-20', 'server_', 'server_1', 'server_2', 'server_10', 'web']);
});

test('parseMetricsCsv rejects every malformed kind with its line number; blank lines are skipped', () => {
  const text = [
    'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io', // 1
    '20:53:00,server_1,1,2,3,4,5', // 2 ok
    '', // 3 blank
    '20:53:00,server_1,1,2,3,4', // 4 missing field
    '20:53:00,server_1,1,2,3,4,5,6', // 5 extra field
    '25:00:00,server_1,1,2,3,4,5', // 6 bad time
    '20:53:00,,1,2,3,4,5', // 7 empty id
    `20:53:00,${'s'.repeat(129)},1,2,3,4,5`, // 8 too long id
    '20:53:00,server/1,1,2,3,4,5', // 9 bad character
    '20:53:00,server_1,abc,2,3,4,5', // 10 not a number
    '20:53:00,server_1,NaN,2,3,4,5', // 11
    '20:53:00,server_1,1,Infinity,3,4,5', // 12
    '20:53:00,server_1,100.01,2,3,4,5', // 13 cpu > 100
    '20:53:00,server_1,1,-0.01,3,4,5', // 14 mem < 0
    '20:53:00,server_1,1,2,-1,4,5', // 15 net_in < 0
    '20:53:00,server_1,1,2,3,-1,5', // 16 net_out < 0
    '20:53:00,server_1,1,2,3,4,-1', // 17 disk_io < 0
    `20:53:05,${'s'.repeat(128)},100,0,0,0,0`, // 18 ok: 128 characters, bounds included
    '20:53:05,a.b:c-D_9,1,,3,4,5', // 19 empty number
    '', // 20 blank
  ].join('\n') + '\n';
  const parsed = parseMetricsCsv({ source: 'in.csv', text }, ['cpu_pct', 'mem_pct']);
  assert.equal(parsed.read, 17); // lines 2 and 4..19
  assert.deepEqual(parsed.rows.map((r) => r.line), [2, 18]);
  assert.deepEqual(parsed.rejects.map((r) => r.line), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19]);
  assert.equal(parsed.rejects[0]?.record, '20:53:00,server_1,1,2,3,4');
  assert.ok(parsed.rejects.every((r) => r.source === 'in.csv' && r.reason.length > 0));
  assert.equal(parsed.timeKind, 'time-of-day');
});

test('parseMetricsCsv finds columns by name, timestamp is an alias of ts, a missing needed column is an error', () => {
  const parsed = parseMetricsCsv({ source: 'x', text: 'server_id,timestamp,cpu_pct,mem_pct\nserver_1,20:53:00,1.5,2\n' }, ['cpu_pct', 'mem_pct']);
  assert.equal(parsed.rows.length, 1);
  assert.equal(parsed.rows[0]?.serverId, 'server_1');
  assert.equal(parsed.rows[0]?.instant, hms('20:53:00'));
  assert.throws(() => parseMetricsCsv({ source: 'x', text: 'server_id,timestamp,cpu_pct,mem_pct\n' }, ['net_in', 'disk_io']), ReferenceInputError);
  assert.throws(() => parseMetricsCsv({ source: 'x', text: 'server_id,cpu_pct,mem_pct\n' }, ['cpu_pct', 'mem_pct']), ReferenceInputError);
});

const SMALL = [
  'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io',
  '20:53:00,server_1,80,70,100,1,10',
  '20:53:05,server_1,90,90,5000,1,2000',
  '20:53:10,server_1,10.005,10.005,1,1,1',
].join('\n') + '\n';

test('cpu-mem on a small combined input, hand-computed', () => {
  const result = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'in.csv', text: SMALL } });
  assert.deepEqual(result.header, ['server_id', 'window_start', 'window_end', 'avg_cpu', 'avg_mem', 'alert']);
  assert.deepEqual(result.rows, [
    // 20:52:40 holds :00 and :05: cpu (80+90)/2 = 85 > 83.45, mem (70+90)/2 = 80 > 78.92
    ['server_1', '20:52:40', '20:53:10', '85.0', '80.0', 'High CPU + Memory stress'],
    // :00, :05, :10: cpu 180.005/3 = 60.0016.. -> 60.0; mem 170.005/3 = 56.6683.. -> 56.67
    ['server_1', '20:52:50', '20:53:20', '60.0', '56.67', ''],
    ['server_1', '20:53:00', '20:53:30', '60.0', '56.67', ''],
    // :10 alone: 10.005 -> 10.01
    ['server_1', '20:53:10', '20:53:40', '10.01', '10.01', ''],
  ]);
  assert.deepEqual(result.incidents, [['cpu-mem', 'server_1', 'High CPU + Memory stress', '20:52:40', '20:53:10', '1', '85.0']]);
  assert.equal(result.read, 3);
  assert.deepEqual(result.rejects, []);

  // --trim-leading: the first event 20:53:00 drops the windows at 20:52:40 and 20:52:50.
  const trimmed = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'in.csv', text: SMALL } }, { trimLeading: true });
  assert.deepEqual(trimmed.rows.map((r) => r[1]), ['20:53:00', '20:53:10']);
  assert.deepEqual(trimmed.incidents, []);

  // thresholds 60 / 56.67: 60.0 > 60 is false, 56.67 > 56.67 is false; 85 and 80 alert both
  const custom = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'in.csv', text: SMALL } }, { thresholds: ['59.99', '56.67'] });
  assert.deepEqual(custom.rows.map((r) => r[5]), ['High CPU + Memory stress', 'CPU spike suspected', 'CPU spike suspected', '']);
  assert.deepEqual(custom.incidents, [
    ['cpu-mem', 'server_1', 'High CPU + Memory stress', '20:52:40', '20:53:10', '1', '85.0'],
    ['cpu-mem', 'server_1', 'CPU spike suspected', '20:52:50', '20:53:30', '2', '60.0'],
  ]);
});

test('net-disk on a small combined input, hand-computed', () => {
  const result = runReferenceJob('net-disk', { kind: 'combined', input: { source: 'in.csv', text: SMALL } });
  const flood = 'Network flood + Disk thrash suspected';
  assert.deepEqual(result.rows, [
    ['server_1', '20:52:40', '20:53:10', '5000.0', '2000.0', flood],
    ['server_1', '20:52:50', '20:53:20', '5000.0', '2000.0', flood],
    ['server_1', '20:53:00', '20:53:30', '5000.0', '2000.0', flood],
    ['server_1', '20:53:10', '20:53:40', '1.0', '1.0', ''],
  ]);
  // three overlapping windows, peak = the highest net_in
  assert.deepEqual(result.incidents, [['net-disk', 'server_1', flood, '20:52:40', '20:53:30', '3', '5000.0']]);
});

test('per-topic inputs: inner join, later duplicates replace earlier ones, each file has its own rejects', () => {
  const cpu = 'ts,server_id,cpu_pct\n00:00:00,s_2,10\n00:00:05,s_2,20\n00:00:00,s_2,30\n00:00:10,s_2,bad\n';
  const mem = 'ts,server_id,mem_pct\n00:00:00,s_2,50\n00:00:10,s_2,60\n';
  const result = runReferenceJob('cpu-mem', { kind: 'topics', first: { source: 'cpu.csv', text: cpu }, second: { source: 'mem.csv', text: mem } });
  // joined: 00:00:00 (30 replaces 10, 50). 00:00:05 has no mem, 00:00:10 no (valid) cpu.
  assert.deepEqual(result.rows, [
    ['s_2', '23:59:40', '00:00:10', '30.0', '50.0', ''],
    ['s_2', '23:59:50', '00:00:20', '30.0', '50.0', ''],
    ['s_2', '00:00:00', '00:00:30', '30.0', '50.0', ''],
  ]);
  assert.deepEqual(result.rejects.map((r) => [r.source, r.line, r.record]), [['cpu.csv', 5, '00:00:10,s_2,bad']]);
  assert.equal(result.read, 6);
});

test('midnight crossing: 23:59:50 then 00:00:05 are 15 s apart, windows ordered across midnight', () => {
  const text = 'ts,server_id,cpu_pct,mem_pct\n23:59:50,a1,10,10\n00:00:05,a1,20,20\n';
  const result = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'x', text } });
  // 23:59:50 is in the windows at 23:59:30, :40, :50; 00:00:05 (next day) in 23:59:40, :50, 00:00:00.
  assert.deepEqual(result.rows.map((r) => [r[1], r[2], r[3]]), [
    ['23:59:30', '00:00:00', '10.0'],
    ['23:59:40', '00:00:10', '15.0'], // (10 + 20) / 2
    ['23:59:50', '00:00:20', '15.0'],
    ['00:00:00', '00:00:30', '20.0'],
  ]);
});

test('absolute instants print as ISO UTC with milliseconds', () => {
  // 06:51:45.5 is in the windows at 06:51:20, :30, :40; 1659509510 = 06:51:50 in :30, :40, :50.
  const text = 'ts,server_id,cpu_pct,mem_pct\n2022-08-03T06:51:45.5Z,a,1,2\n1659509510,a,3,4\n';
  const result = runReferenceJob('cpu-mem', { kind: 'combined', input: { source: 'x', text } });
  assert.deepEqual(result.rows, [
    ['a', '2022-08-03T06:51:20.000Z', '2022-08-03T06:51:50.000Z', '1.0', '2.0', ''],
    ['a', '2022-08-03T06:51:30.000Z', '2022-08-03T06:52:00.000Z', '2.0', '3.0', ''],
    ['a', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:10.000Z', '2.0', '3.0', ''],
    ['a', '2022-08-03T06:51:50.000Z', '2022-08-03T06:52:20.000Z', '3.0', '4.0', ''],
  ]);
});

test('incidents: overlapping and touching windows group, a gap splits, peak is the crossing metric', () => {
  const w = (start: number, alert: string, first = 9000n, second = 100n): ReferenceWindow =>
    ({ serverId: 'k', start: seconds(start), first, second, alert });
  const cpu = 'CPU spike suspected';
  const memAlert = 'Memory saturation suspected';
  const incidents = groupIncidents('cpu-mem', [
    w(0, cpu, 9000n), w(30, cpu, 9100n), // touch: [0,30) and [30,60)
    w(10, memAlert, 0n, 8000n), w(20, memAlert, 0n, 8100n), // overlap
    w(100, cpu, 8500n), // gap: [100,130) does not touch [30,60)
  ]);
  assert.deepEqual(incidents.map((i) => [i.alert, i.start, i.end, i.windows, i.peak]), [
    [cpu, 0n, seconds(60), 2, 9100n],
    [memAlert, seconds(10), seconds(50), 2, 8100n],
    [cpu, seconds(100), seconds(130), 1, 8500n],
  ]);
});

test('RFC 4180 helpers: quote only when needed, parse quoted fields back', () => {
  const line = formatCsvLine(['in.csv', '4', 'bad "x"', '20:53:00,server_1']);
  assert.equal(line, 'in.csv,4,"bad ""x""","20:53:00,server_1"');
  assert.deepEqual(parseCsv(`a,b\r\n${line}\n,\n`), [['a', 'b'], ['in.csv', '4', 'bad "x"', '20:53:00,server_1'], ['', '']]);
  assert.deepEqual(parseCsv('x\n"multi\nline"'), [['x'], ['multi\nline']]);
});
