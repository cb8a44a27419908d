// runCollector in process on a fixture proc directory that the test rewrites
// between intervals (from the onSample/onSkip hooks, so each interval sees a
// known state): counters that stand still, go forward, go backwards, a file
// that disappears; and a clean stop from an AbortSignal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollector, type CollectedSample } from '../../../src/io/collect/collector.ts';
import { StreamwatchError } from '../../../src/errors.ts';

interface State {
  cpu: [user: number, idle: number];
  memAvailableKb: number;
  eth0: [rx: number, tx: number];
  sda: [reads: number, writes: number];
}

function writeProc(dir: string, s: State): void {
  mkdirSync(join(dir, 'net'), { recursive: true });
  writeFileSync(join(dir, 'stat'), `cpu  ${s.cpu[0]} 0 0 ${s.cpu[1]} 0 0 0 0 0 0\ncpu0 ${s.cpu[0]} 0 0 ${s.cpu[1]} 0 0 0 0 0 0\nintr 0\n`);
  writeFileSync(join(dir, 'meminfo'), `MemTotal:       2000 kB\nMemFree:         100 kB\nMemAvailable:   ${s.memAvailableKb} kB\n`);
  writeFileSync(join(dir, 'net/dev'), [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    `    lo: 999999 1 0 0 0 0 0 0 999999 1 0 0 0 0 0 0`,
    `  eth0: ${s.eth0[0]} 1 0 0 0 0 0 0 ${s.eth0[1]} 1 0 0 0 0 0 0`,
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'diskstats'), `   8       0 sda ${s.sda[0]} 0 0 0 ${s.sda[1]} 0 0 0 0 0 0 0 0 0 0\n   8       1 sda1 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0\n   7       0 loop0 5 0 0 0 5 0 0 0 0 0 0 0 0 0 0\n`);
}

function tempProc(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamwatch-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('counters standing still, going forward, going backwards, a file missing: skips with reasons, then samples again', async (t) => {
  const dir = tempProc(t);
  const start: State = { cpu: [100, 900], memAvailableKb: 1500, eth0: [1_000_000, 500_000], sda: [10, 10] };
  writeProc(dir, start);
  // What the directory holds after each interval's sample or skip.
  const next: Array<() => void> = [
    () => writeProc(dir, { ...start, cpu: [130, 910], eth0: [1_100_000, 600_000], sda: [20, 15] }), // forward
    () => writeProc(dir, { ...start, cpu: [160, 920], eth0: [5_000, 700_000], sda: [30, 20] }), // eth0 rx backwards (driver reloaded)
    () => rmSync(join(dir, 'stat')), // unreadable: the baseline stays
    () => writeProc(dir, { cpu: [180, 980], memAvailableKb: 500, eth0: [15_000, 800_000], sda: [40, 20] }), // forward from the last good reading
  ];
  const samples: CollectedSample[] = [];
  const skips: string[] = [];
  const logs: string[] = [];
  const step = () => next.shift()?.();
  const summary = await runCollector({
    intervalMs: 50,
    serverId: 'fixture-host',
    procRoot: dir,
    count: 5,
    now: () => Date.parse('2026-11-23T20:00:00.000Z') + samples.length + skips.length,
    log: (line) => logs.push(line),
    onSample: (sample) => {
      samples.push(sample);
      step();
    },
    onSkip: (reason) => {
      skips.push(reason);
      step();
    },
  });
  assert.deepEqual(summary, { serverId: 'fixture-host', samples: 2, skipped: 3, rejected: 0, messages: 0 });
  assert.equal(skips.length, 3);
  assert.match(skips[0]!, /no cpu time elapsed/);
  assert.match(skips[1]!, /byte counters of interface eth0 went backwards \(rx 1100000 → 5000, tx 600000 → 700000\): counter wrap or reset; sample skipped, counting again from this reading/);
  assert.match(skips[2]!, /cannot read .*stat/);
  assert.ok(logs.some((l) => l.includes('skipped a sample: byte counters of interface eth0 went backwards')), logs.join('\n'));

  // Rates depend on the time that passed; cpu and mem do not.
  assert.deepEqual(samples.map((s) => [s.values.cpu_pct, s.values.mem_pct]), [['75.0', '25.0'], ['25.0', '75.0']]);
  for (const s of samples) {
    for (const v of [s.values.net_in, s.values.net_out, s.values.disk_io]) assert.ok(Number(v) > 0, `${s.row}: rates are positive`);
    assert.equal(s.serverId, 'fixture-host');
    assert.equal(s.row, `${s.ts},fixture-host,${s.values.cpu_pct},${s.values.mem_pct},${s.values.net_in},${s.values.net_out},${s.values.disk_io}`);
  }
  // The injected wall clock: the second reading of the first sample was taken after one skip.
  assert.equal(samples[0]!.ts, '2026-11-23T20:00:00.001Z');
});

test('an AbortSignal stops it between intervals; a summary comes back', async (t) => {
  const dir = tempProc(t);
  let user = 100;
  writeProc(dir, { cpu: [user, 900], memAvailableKb: 1000, eth0: [0, 0], sda: [0, 0] });
  const controller = new AbortController();
  const samples: CollectedSample[] = [];
  const summary = await runCollector({
    intervalMs: 50,
    serverId: 'h',
    procRoot: dir,
    signal: controller.signal,
    onSample: (sample) => {
      samples.push(sample);
      if (samples.length === 2) controller.abort();
    },
    onSkip: () => {
      user += 10;
      writeProc(dir, { cpu: [user, 900], memAvailableKb: 1000, eth0: [0, 0], sda: [0, 0] });
    },
  });
  // Counters move only after a skip: skip, sample, skip, sample, then the abort ends the run.
  assert.deepEqual(summary, { serverId: 'h', samples: 2, skipped: 2, rejected: 0, messages: 0 });
});

test('a proc directory without the files fails at once with a clear error', async (t) => {
  const dir = tempProc(t);
  await assert.rejects(runCollector({ intervalMs: 50, serverId: 'h', procRoot: dir, count: 1 }), (error: unknown) => {
    assert.ok(error instanceof StreamwatchError);
    assert.equal(error.code, 'SW_ERR_INPUT_NOT_FOUND');
    // The four files are read at once: whichever is found missing first is named.
    assert.match(error.message, /collect needs Linux \/proc: cannot read .*(stat|meminfo|net\/dev|diskstats)/);
    return true;
  });
});

test('an aborted signal before the start returns at once with nothing collected', async (t) => {
  const dir = tempProc(t);
  writeProc(dir, { cpu: [1, 1], memAvailableKb: 1000, eth0: [0, 0], sda: [0, 0] });
  const summary = await runCollector({ intervalMs: 60_000, serverId: 'h', procRoot: dir, signal: AbortSignal.abort() });
  assert.deepEqual(summary, { serverId: 'h', samples: 0, skipped: 0, rejected: 0, messages: 0 });
});

test('durationMs: the intervals that end within it, at least one', async (t) => {
  const dir = tempProc(t);
  writeProc(dir, { cpu: [1, 1], memAvailableKb: 1000, eth0: [0, 0], sda: [0, 0] });
  const summary = await runCollector({ intervalMs: 50, serverId: 'h', procRoot: dir, durationMs: 500 });
  // Ticks at 50, 100, ... 500 ms (some may be passed over on a busy machine); 550 is beyond the duration.
  const intervals = summary.samples + summary.skipped;
  assert.ok(intervals >= 1 && intervals <= 10, JSON.stringify(summary));
});
