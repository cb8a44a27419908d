// Samples from two readings: the captured VM readings (values worked out by
// hand from the files), then hand-made readings for counters that go
// backwards, interfaces that are missing or come and go, disks that appear,
// clamping and rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { computeSample, decimal2, parseReading, serverIdFromHostname, type ProcReading, type SampleResult } from '../../../src/io/collect/sample.ts';

function fixtureReading(dir: string, monoMs: number): ProcReading {
  const read = (name: string) => readFileSync(new URL(`fixtures/${dir}/${name}`, import.meta.url), 'utf8');
  const parsed = parseReading({ stat: read('stat'), meminfo: read('meminfo'), netDev: read('net/dev'), diskstats: read('diskstats') }, monoMs, 0);
  if (!parsed.ok) assert.fail(parsed.reason);
  return parsed.value;
}

function reading(over: Partial<ProcReading> = {}): ProcReading {
  return {
    monoMs: 0,
    wallMs: 0,
    cpu: { total: 1000, idle: 800 },
    mem: { totalKb: 1000, availableKb: 750 },
    net: new Map([['lo', { rxBytes: 0, txBytes: 0 }], ['eth0', { rxBytes: 0, txBytes: 0 }], ['wlan0', { rxBytes: 0, txBytes: 0 }]]),
    disks: new Map([['sda', { readsCompleted: 0, writesCompleted: 0 }]]),
    ...over,
  };
}

function values(result: SampleResult) {
  if (!result.ok) assert.fail(result.reason);
  return result.values;
}

function reason(result: SampleResult): string {
  if (result.ok) assert.fail(`expected a skip, got ${JSON.stringify(result.values)}`);
  return result.reason;
}

const ALL = { interfaces: null };

test('the captured VM readings, one second apart: values as worked out by hand', () => {
  const a = fixtureReading('vm-a', 0);
  const b = fixtureReading('vm-b', 1000);
  // cpu: ticks 141 + 0 + 6 + 55 + 0 + 0 + 2 + 0 = 204, of which 55 idle → 149 / 204 = 73.039 %
  // mem: (24683656 - 23623356) / 24683656 = 4.2956 %; the VM was quiet on eth0 and vda in that second.
  assert.deepEqual(values(computeSample(a, b, ALL)), { cpu_pct: '73.04', mem_pct: '4.3', net_in: '0.0', net_out: '0.0', disk_io: '0.0' });
});

test('rates per second over the time that really passed, KB of 1024 bytes, lo left out', () => {
  const prev = reading();
  const curr = reading({
    monoMs: 2000,
    cpu: { total: 1200, idle: 850 },
    net: new Map([['lo', { rxBytes: 1e9, txBytes: 1e9 }], ['eth0', { rxBytes: 4096, txBytes: 1024 }], ['wlan0', { rxBytes: 1024, txBytes: 0 }]]),
    disks: new Map([['sda', { readsCompleted: 30, writesCompleted: 11 }]]),
  });
  assert.deepEqual(values(computeSample(prev, curr, ALL)), { cpu_pct: '75.0', mem_pct: '25.0', net_in: '2.5', net_out: '0.5', disk_io: '20.5' });
  // --interfaces wlan0: only its bytes.
  assert.deepEqual(values(computeSample(prev, curr, { interfaces: ['wlan0'] })), { cpu_pct: '75.0', mem_pct: '25.0', net_in: '0.5', net_out: '0.0', disk_io: '20.5' });
  // --interfaces lo counts lo when asked for.
  assert.equal(values(computeSample(prev, curr, { interfaces: ['lo'] })).net_in, String(1e9 / 1024 / 2));
});

test('a counter that goes backwards (reboot, wrap) is a skipped sample with the reason, never a negative rate', () => {
  const prev = reading({ net: new Map([['eth0', { rxBytes: 4294967000, txBytes: 10 }]]), disks: new Map([['sda', { readsCompleted: 50, writesCompleted: 50 }]]) });
  const wrapped = reading({ monoMs: 1000, cpu: { total: 1100, idle: 850 }, net: new Map([['eth0', { rxBytes: 200, txBytes: 20 }]]), disks: prev.disks });
  assert.match(reason(computeSample(prev, wrapped, ALL)), /byte counters of interface eth0 went backwards \(rx 4294967000 → 200, tx 10 → 20\): counter wrap or reset/);
  const diskReset = reading({ monoMs: 1000, cpu: { total: 1100, idle: 850 }, net: prev.net, disks: new Map([['sda', { readsCompleted: 60, writesCompleted: 3 }]]) });
  assert.match(reason(computeSample(prev, diskReset, ALL)), /I\/O counters of disk sda went backwards \(reads 50 → 60, writes 50 → 3\)/);
  const rebooted = reading({ monoMs: 1000, cpu: { total: 40, idle: 30 } });
  assert.match(reason(computeSample(reading(), rebooted, ALL)), /cpu time went backwards \(1000 → 40 ticks\): reboot/);
});

test('no time or no cpu tick between the readings: skipped with a reason', () => {
  assert.match(reason(computeSample(reading(), reading(), ALL)), /no time elapsed/);
  assert.match(reason(computeSample(reading(), reading({ monoMs: 5 }), ALL)), /no cpu time elapsed/);
});

test('interfaces and disks that appear are counted from the next sample; ones that go away are noted', () => {
  const prev = reading({ net: new Map([['eth0', { rxBytes: 0, txBytes: 0 }], ['veth1', { rxBytes: 0, txBytes: 0 }]]), disks: new Map([['sda', { readsCompleted: 0, writesCompleted: 0 }]]) });
  const curr = reading({
    monoMs: 1000,
    cpu: { total: 1100, idle: 850 },
    net: new Map([['eth0', { rxBytes: 1024, txBytes: 0 }], ['wlan0', { rxBytes: 1e12, txBytes: 1e12 }]]),
    disks: new Map([['sda', { readsCompleted: 5, writesCompleted: 0 }], ['sdb', { readsCompleted: 1e9, writesCompleted: 0 }]]),
  });
  const result = computeSample(prev, curr, ALL);
  assert.deepEqual(values(result), { cpu_pct: '50.0', mem_pct: '25.0', net_in: '1.0', net_out: '0.0', disk_io: '5.0' });
  assert.deepEqual(result.notes, [
    'interface wlan0 appeared (counted from the next sample)',
    'interface veth1 went away',
    'disk sdb appeared (counted from the next sample)',
  ]);
  // Asked-for interfaces that do not exist: nothing to count, no error.
  assert.deepEqual(values(computeSample(prev, curr, { interfaces: ['eth9'] })), { cpu_pct: '50.0', mem_pct: '25.0', net_in: '0.0', net_out: '0.0', disk_io: '5.0' });
  assert.deepEqual(computeSample(prev, curr, { interfaces: ['eth9'] }).notes, ['disk sdb appeared (counted from the next sample)']);
});

test('cpu and mem stay in [0, 100] (iowait that decreases, MemAvailable above MemTotal)', () => {
  const prev = reading();
  const iowaitDown = reading({ monoMs: 1000, cpu: { total: 1100, idle: 750 }, mem: { totalKb: 1000, availableKb: 1200 } });
  const v = values(computeSample(prev, iowaitDown, ALL));
  assert.equal(v.cpu_pct, '100.0');
  assert.equal(v.mem_pct, '0.0');
  const idleJump = reading({ monoMs: 1000, cpu: { total: 1100, idle: 1000 }, mem: { totalKb: 1000, availableKb: 0 } });
  assert.deepEqual([values(computeSample(prev, idleJump, ALL)).cpu_pct, values(computeSample(prev, idleJump, ALL)).mem_pct], ['0.0', '100.0']);
});

test('decimal2: half up to 2 decimals, shortest text, never negative or not finite', () => {
  assert.equal(decimal2(73.039215), '73.04');
  assert.equal(decimal2(4.295554), '4.3');
  assert.equal(decimal2(100), '100.0');
  assert.equal(decimal2(0.004), '0.0');
  assert.equal(decimal2(0.125), '0.13');
  assert.equal(decimal2(123456789.999), '123456790.0');
  assert.equal(decimal2(-0.001), '0.0');
  assert.equal(decimal2(Number.NaN), '0.0');
});

test('serverIdFromHostname: allowed characters kept, others replaced, at most 128', () => {
  assert.equal(serverIdFromHostname('web-1.example.com'), 'web-1.example.com');
  assert.equal(serverIdFromHostname('my host/é😀'), 'my_host___');
  assert.equal(serverIdFromHostname('a'.repeat(300)), 'a'.repeat(128));
  assert.equal(serverIdFromHostname(''), 'localhost');
});
