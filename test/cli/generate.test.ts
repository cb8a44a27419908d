// `streamwatch generate metrics` as a user runs it: the real CLI in a child
// process. Checks the row count, determinism by seed, validity of every row
// (SEMANTICS.md section 1), that each of the six alerts of section 3 fires in
// some 30-second window, per-topic output, and usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'streamwatch-generate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function streamwatch(...args: string[]) {
  const result = spawnSync(node, ['bin/streamwatch.js', ...args], { cwd: root, encoding: 'latin1', maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function generate(name: string, ...args: string[]): string {
  const file = join(dir, name);
  const run = streamwatch('generate', 'metrics', '--out', file, ...args);
  assert.equal(run.status, 0, run.stderr);
  return readFileSync(file, 'latin1');
}

const HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';
const defaults = generate('defaults.csv');

interface Row { seconds: number; server: string; cpu: number; mem: number; netIn: number; diskIo: number }

/** Parses and validates the combined CSV as SEMANTICS.md section 1 says; values in hundredths. */
function parseValid(text: string): Row[] {
  const lines = text.split('\n');
  assert.equal(lines[0], HEADER);
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  const rows: Row[] = [];
  let day = 0;
  let latest = -1;
  for (const [index, line] of lines.slice(1).entries()) {
    const fields = line.split(',');
    const where = `line ${index + 2}: ${line}`;
    assert.equal(fields.length, 7, where);
    const [ts, server, ...numbers] = fields as [string, string, ...string[]];
    const time = /^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$/.exec(ts);
    assert.ok(time, where);
    assert.match(server, /^[A-Za-z0-9_.:-]{1,128}$/, where);
    assert.ok(numbers.every((n) => /^\d+\.\d\d$/.test(n)), where);
    const [cpu, mem, netIn, netOut, diskIo] = numbers.map((n) => Math.round(Number(n) * 100)) as [number, number, number, number, number];
    assert.ok(cpu <= 10000 && mem <= 10000 && netIn >= 0 && netOut >= 0 && diskIo >= 0, where);
    // The spec's midnight rule: more than 12 hours earlier than the latest time means the next day.
    let seconds = Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]) + day * 86400;
    if (seconds < latest - 43200) {
      day++;
      seconds += 86400;
    }
    latest = Math.max(latest, seconds);
    rows.push({ seconds, server, cpu, mem, netIn, diskIo });
  }
  return rows;
}

/** How many 30-s windows (10-s slide) per server raise each alert of SEMANTICS.md section 3. */
function alertCounts(rows: Row[]): Map<string, number> {
  const windows = new Map<string, { n: number; cpu: number; mem: number; net: number; disk: number }>();
  for (const row of rows) {
    const first = Math.floor(row.seconds / 10) * 10;
    for (const start of [first - 20, first - 10, first]) {
      const key = `${row.server}@${start}`;
      const w = windows.get(key) ?? { n: 0, cpu: 0, mem: 0, net: 0, disk: 0 };
      w.n++;
      w.cpu += row.cpu;
      w.mem += row.mem;
      w.net = Math.max(w.net, row.netIn);
      w.disk = Math.max(w.disk, row.diskIo);
      windows.set(key, w);
    }
  }
  // Mean in hundredths, rounded half up: floor((2 * sum + n) / (2 * n)).
  const mean = (sum: number, n: number) => Math.floor((2 * sum + n) / (2 * n));
  const counts = new Map<string, number>();
  const count = (alert: string) => counts.set(alert, (counts.get(alert) ?? 0) + 1);
  for (const w of windows.values()) {
    const cpuHigh = mean(w.cpu, w.n) > 8345;
    const memHigh = mean(w.mem, w.n) > 7892;
    if (cpuHigh && memHigh) count('High CPU + Memory stress');
    else if (cpuHigh) count('CPU spike suspected');
    else if (memHigh) count('Memory saturation suspected');
    const netHigh = w.net > 414979;
    const diskHigh = w.disk > 192547;
    if (netHigh && diskHigh) count('Network flood + Disk thrash suspected');
    else if (netHigh) count('Possible DDoS');
    else if (diskHigh) count('Disk thrash suspected');
  }
  return counts;
}

test('defaults: 28,800 valid rows, 20 servers x 1,440 steps from 20:53:00', () => {
  const rows = parseValid(defaults);
  assert.equal(rows.length, 28_800);
  assert.equal(new Set(rows.map((r) => r.server)).size, 20);
  assert.deepEqual(defaults.split('\n').slice(1, 3).map((l) => l.split(',').slice(0, 2).join(',')), ['20:53:00,server_1', '20:53:00,server_2']);
  assert.match(defaults.split('\n').at(-2)!, /^22:52:55,server_20,/);
});

test('each of the six alerts fires in several 30-second windows', () => {
  const counts = alertCounts(parseValid(defaults));
  for (const alert of [
    'High CPU + Memory stress', 'CPU spike suspected', 'Memory saturation suspected',
    'Network flood + Disk thrash suspected', 'Possible DDoS', 'Disk thrash suspected',
  ]) {
    assert.ok((counts.get(alert) ?? 0) >= 10, `${alert}: ${counts.get(alert) ?? 0} windows`);
  }
});

test('same seed gives identical bytes; another seed other bytes', () => {
  assert.equal(generate('again.csv'), defaults);
  assert.notEqual(generate('seed2.csv', '--seed', '2'), defaults);
});

test('--out - writes the same bytes to standard output', () => {
  const run = streamwatch('generate', 'metrics', '--out', '-', '--servers', '3', '--duration', '60');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, generate('small.csv', '--servers', '3', '--duration', '60'));
  assert.equal(run.stdout.split('\n').length, 1 + 3 * 12 + 1);
});

test('a reader that goes away (| head) stops the generator quietly with status 0', async () => {
  // 10 M rows would take seconds; the generator must stop at the first failed write instead.
  const child = spawn(node, ['bin/streamwatch.js', 'generate', 'metrics', '--out', '-', '--servers', '1000', '--duration', '50000'], { cwd: root });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(first.toString('latin1'), /^ts,server_id,/);
  child.stdout.destroy();
  const [status] = (await once(child, 'close')) as [number | null];
  assert.equal(status, 0, stderr);
  const written = Number(/wrote (\d+) rows/.exec(stderr)?.[1]);
  assert.ok(written < 1_000_000, `stopped early: ${stderr}`);
  assert.doesNotMatch(stderr, /Error|\n\s+at /);
});

test('a replay that crosses midnight wraps to 00:00:00 and stays valid', () => {
  const text = generate('midnight.csv', '--servers', '4', '--start', '23:30:00', '--duration', '3600', '--cadence', '10');
  const rows = parseValid(text);
  assert.equal(rows.length, 4 * 360);
  assert.ok(text.includes('\n00:00:00,server_1,'));
  assert.equal(rows.at(-1)!.seconds, 23 * 3600 + 30 * 60 + 3590);
});

test('--format per-topic writes the four topic files with the same rows', () => {
  const out = join(dir, 'topics');
  const run = streamwatch('generate', 'metrics', '--format', 'per-topic', '--out', out, '--servers', '3', '--duration', '600');
  assert.equal(run.status, 0, run.stderr);
  const combined = generate('topics.csv', '--servers', '3', '--duration', '600').trim().split('\n').slice(1).map((l) => l.split(','));
  const columns = { 'topic-cpu': [2], 'topic-mem': [3], 'topic-net': [4, 5], 'topic-disk': [6] } as const;
  const headers = { 'topic-cpu': 'cpu_pct', 'topic-mem': 'mem_pct', 'topic-net': 'net_in,net_out', 'topic-disk': 'disk_io' } as const;
  for (const [topic, indexes] of Object.entries(columns)) {
    const text = readFileSync(join(out, `${topic}.csv`), 'latin1');
    const expected = combined.map((r) => [r[0], r[1], ...indexes.map((i) => r[i])].join(','));
    assert.equal(text, `ts,server_id,${headers[topic as keyof typeof headers]}\n${expected.join('\n')}\n`, topic);
  }
});

test('bad usage exits with status 2 and one line on stderr', () => {
  for (const args of [
    ['generate', 'metrics'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--servers', '0'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--servers', 'ten'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--cadence', '2.5'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--start', '24:00:00'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--duration', '3', '--cadence', '5'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--seed', '-1'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--format', 'parquet'],
    ['generate', 'metrics', '--out', '-', '--format', 'per-topic'],
    ['generate', 'metrics', '--out', join(dir, 'x.csv'), '--bogus'],
    ['generate', 'weather', '--out', join(dir, 'x.csv')],
  ]) {
    const run = streamwatch(...args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^streamwatch: /);
  }
});

test('an output that cannot be written exits with status 1 and one line', () => {
  const run = streamwatch('generate', 'metrics', '--out', join(dir, 'missing-dir', 'x.csv'));
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^streamwatch: cannot write .*ENOENT \[SW_ERR_OUTPUT\]\n$/);
});

test('--help describes the options and exits 0', () => {
  const run = streamwatch('generate', 'metrics', '--help');
  assert.equal(run.status, 0);
  assert.match(run.stdout, /--servers N/);
  assert.match(streamwatch('generate', '--help').stdout, /metrics/);
});
