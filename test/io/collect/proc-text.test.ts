// Parsers of /proc text: files captured on the development VM (fixtures/vm-a,
// vm-b) and hand-made lines for the cases a VM does not show (partitions,
// old kernels, malformed text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isWholeDisk, parseCpuStat, parseDiskstats, parseMeminfo, parseNetDev } from '../../../src/io/collect/proc-text.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

function ok<T>(result: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!result.ok) assert.fail(result.reason);
  return result.value;
}

test('stat: the aggregate cpu line, guest time not counted twice', () => {
  // cpu  1054356 17572 370066 2352521 26378 0 5549 50056 0 0
  assert.deepEqual(ok(parseCpuStat(fixture('vm-a/stat'))), {
    total: 1054356 + 17572 + 370066 + 2352521 + 26378 + 0 + 5549 + 50056,
    idle: 2352521 + 26378,
  });
  assert.deepEqual(ok(parseCpuStat('cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4\n')), { total: 360, idle: 90 });
  // Kernels before 2.6 have four fields only.
  assert.deepEqual(ok(parseCpuStat('cpu 1 2 3 4\n')), { total: 10, idle: 4 });
});

test('stat: no cpu line or a malformed one is a reason, not a throw', () => {
  assert.match((parseCpuStat('intr 1 2 3\n') as { reason: string }).reason, /no aggregate 'cpu' line/);
  assert.match((parseCpuStat('cpu0 1 2 3 4\n') as { reason: string }).reason, /no aggregate 'cpu' line/);
  assert.match((parseCpuStat('cpu  1 2 x 4\n') as { reason: string }).reason, /malformed cpu line 'cpu  1 2 x 4'/);
  assert.match((parseCpuStat('cpu  1 2 3\n') as { reason: string }).reason, /malformed/);
  assert.match((parseCpuStat('cpu  1 -2 3 4\n') as { reason: string }).reason, /malformed/);
  assert.equal(parseCpuStat('').ok, false);
});

test('meminfo: MemTotal and MemAvailable; MemFree + Buffers + Cached on kernels without MemAvailable', () => {
  assert.deepEqual(ok(parseMeminfo(fixture('vm-b/meminfo'))), { totalKb: 24683656, availableKb: 23623356 });
  assert.deepEqual(ok(parseMeminfo('MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  20 kB\nCached:  30 kB\n')), { totalKb: 1000, availableKb: 150 });
  assert.match((parseMeminfo('MemFree: 100 kB\n') as { reason: string }).reason, /no MemTotal/);
  assert.match((parseMeminfo('MemTotal: 0 kB\nMemAvailable: 0 kB\n') as { reason: string }).reason, /no MemTotal/);
  assert.match((parseMeminfo('MemTotal: 10 kB\n') as { reason: string }).reason, /neither MemAvailable nor MemFree/);
});

test('net/dev: bytes in and out per interface, lo included (the caller chooses)', () => {
  const interfaces = ok(parseNetDev(fixture('vm-a/net/dev')));
  assert.deepEqual([...interfaces.keys()], ['lo', 'ifb0', 'ifb1', 'eth0']);
  assert.deepEqual(interfaces.get('eth0'), { rxBytes: 1008676587, txBytes: 3144631 });
  // A name glued to its first number, as the kernel prints long counters.
  const glued = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\nenp0s31f6:12345678901 2 0 0 0 0 0 0 987 3 0 0 0 0 0 0\n';
  assert.deepEqual(ok(parseNetDev(glued)).get('enp0s31f6'), { rxBytes: 12345678901, txBytes: 987 });
});

test('net/dev: missing headers or a short line is a reason', () => {
  assert.match((parseNetDev('lo: 1 2 3\n') as { reason: string }).reason, /missing header lines/);
  const header = 'Inter-| Receive | Transmit\n face |bytes|bytes\n';
  assert.match((parseNetDev(`${header}eth0: 1 2 3\n`) as { reason: string }).reason, /malformed line 'eth0: 1 2 3'/);
  assert.match((parseNetDev(`${header}1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`) as { reason: string }).reason, /malformed/);
  assert.deepEqual(ok(parseNetDev(header)).size, 0);
});

test('diskstats: whole disks only (the VM: vda; loop and zram left out)', () => {
  const disks = ok(parseDiskstats(fixture('vm-a/diskstats')));
  assert.deepEqual([...disks.keys()], ['vda']);
  assert.deepEqual(disks.get('vda'), { readsCompleted: 1061834, writesCompleted: 1294896 });
});

test('diskstats: partitions, ram, device-mapper and md devices are left out; 14, 18 and 20 field lines read', () => {
  const line = (name: string, reads: number, writes: number, extra = 0) =>
    `   8       0 ${name} ${reads} 0 0 0 ${writes} 0 0 0 0 0 0${' 0'.repeat(extra)}`;
  const text = [
    line('sda', 100, 200, 6), line('sda1', 60, 150, 6), line('sda12', 40, 50, 6),
    line('nvme0n1', 7, 8, 4), line('nvme0n1p1', 7, 8, 4),
    line('mmcblk0', 1, 2), line('mmcblk0p2', 1, 2), line('mmcblk0boot0', 0, 0),
    line('sr0', 3, 0), line('loop7', 9, 9), line('ram0', 9, 9), line('zram0', 9, 9), line('dm-0', 9, 9), line('md127', 9, 9),
  ].join('\n') + '\n';
  const disks = ok(parseDiskstats(text));
  assert.deepEqual([...disks.keys()], ['sda', 'nvme0n1', 'mmcblk0', 'mmcblk0boot0', 'sr0']);
  assert.deepEqual(disks.get('sda'), { readsCompleted: 100, writesCompleted: 200 });
  assert.deepEqual(disks.get('nvme0n1'), { readsCompleted: 7, writesCompleted: 8 });
});

test('isWholeDisk: a name ending in digits is a partition only when its disk is listed', () => {
  const devices = new Map([['sda', 0], ['nvme0n1', 0], ['vdb', 0]]);
  assert.equal(isWholeDisk('sda', devices), true);
  assert.equal(isWholeDisk('sda3', devices), false);
  assert.equal(isWholeDisk('nvme0n1', devices), true);
  assert.equal(isWholeDisk('nvme0n1p3', devices), false);
  assert.equal(isWholeDisk('nvme1n1', devices), true, 'another namespace, not a partition');
  assert.equal(isWholeDisk('vdb1', devices), false);
  assert.equal(isWholeDisk('vdc1', devices), true, 'its disk is not listed');
  assert.equal(isWholeDisk('loop0', devices), false);
});

test('diskstats: a malformed line is a reason', () => {
  assert.match((parseDiskstats('   8 0 sda 1 2 3\n') as { reason: string }).reason, /malformed line '8 0 sda 1 2 3'/);
  assert.match((parseDiskstats('   8 0 sda x 0 0 0 1 0 0 0 0 0 0\n') as { reason: string }).reason, /malformed/);
  assert.equal(ok(parseDiskstats('')).size, 0);
});
