// `--threads 2` (the default for large inputs) reads and parses the input in
// a worker thread while the main thread windows it. These tests hold it to
// the single-threaded job byte for byte on inputs that take every path of
// the reader: quoted and multi-line records, CRLF, blank lines, values kept
// exact (huge or very precise), every kind of reject, rows out of order
// beyond the batch lateness (the second, exact pass), midnight, per-topic
// inputs; and check its errors and the 16 MB default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { COMBINED_HEADER, csvText, runCli, withTempDir } from './harness.ts';

const ROWS = [
  '23:59:40,server_1,10.5,20.25,100,50,7',
  '23:59:45,server_2,90.125,85.5,5000.5,1,2000',
  '"23:59:45","server_1","11.5",21,100.000001,50,8',
  '23:59:50,server_1,12,22,123456789012345678,1,9\r',
  '',
  '   ',
  '23:59:50,server_2,91,86,4000,1,1999.999999',
  '23:59:55,server_1,13.004,23.005,100,50,10',
  '23:59:55,server_1,13.006,23.015,100,50,11',
  '00:00:00,server_1,101,50,0,0,0',
  '00:00:00,server_2,-1,50,0,0,0',
  '00:00:05,bad id,1,1,1,1,1',
  '00:00:05,server_1,1,1,1,1',
  '00:00:05,server_1,nan,1,1,1,1',
  '25:00:00,server_1,1,1,1,1,1',
  '00:00:05,server_1,"1,5",1,1,1,1',
  '00:00:10,server_3,"multi',
  'line",1,1,1,1,1',
  '00:00:10,server_1,14,24,100,50,12',
  '00:00:15,server_2,92,87,4100,1,1900',
  '00:05:00,server_1,15,25,100,50,13',
  '00:00:20,server_1,16,26,100,50,14',
  '00:00:20,server_2,93,88,4200,1,1950',
  '+00:00:25,server_1,1,1,1,1,1',
  '00:05:05,server_2,94,89,4300,1,1800',
];

async function runBoth(dir: string, args: string[]): Promise<void> {
  const outputs: string[][] = [];
  const summaries: string[] = [];
  for (const threads of ['1', '2']) {
    const run = await runCli([...args, '--out', `out-${threads}.csv`, '--rejects', `rejects-${threads}.csv`, '--incidents', `incidents-${threads}.csv`, '--threads', threads], dir);
    assert.equal(run.code, 0, run.stderr);
    summaries.push(run.stderr.replace(/ in [\d.]+ s, peak memory \d+ MB, \d threads?/, ''));
    assert.match(run.stderr, new RegExp(`, ${threads} threads?`));
    outputs.push(await Promise.all(['out', 'rejects', 'incidents'].map((name) => readFile(join(dir, `${name}-${threads}.csv`), 'latin1'))));
  }
  assert.equal(summaries[1], summaries[0]);
  assert.deepEqual(outputs[1], outputs[0]);
}

test('--threads 2 writes exactly what --threads 1 writes: combined input with every kind of record, both jobs', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'in.csv'), csvText([COMBINED_HEADER, ...ROWS]), 'latin1');
    for (const job of ['cpu-mem', 'net-disk']) {
      await runBoth(dir, ['job', job, '--input', 'in.csv']);
      await runBoth(dir, ['job', job, '--input', 'in.csv', '--trim-leading']);
    }
  });
});

test('--threads 2 equals --threads 1 when rows come later than the batch lateness (the exact second pass)', async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    // More rows than one batch holds, so the watermark moves before the end.
    for (let s = 0; s < 15_000; s += 5) for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']) lines.push(`${fmt(s)},${id},${(s * 7) % 100}.5,${(s * 3) % 100},1,1,1`);
    // A block of rows from the start, moved to the end: hours late.
    const moved = lines.splice(0, 30);
    await writeFile(join(dir, 'in.csv'), csvText([COMBINED_HEADER, ...lines, ...moved]));
    await runBoth(dir, ['job', 'cpu-mem', '--input', 'in.csv']);
    const run = await runCli(['job', 'cpu-mem', '--input', 'in.csv', '--out', 'o.csv', '--threads', '2'], dir);
    assert.match(run.stderr, /read twice/);
  });
});

test('--threads 2 equals --threads 1 on per-topic inputs (several files read in step)', async () => {
  await withTempDir(async (dir) => {
    const cpu: string[] = ['ts,server_id,cpu_pct'];
    const mem: string[] = ['timestamp,server_id,mem_pct'];
    for (let s = 0; s < 300; s += 5) {
      for (const id of ['s1', 's2']) {
        if (s % 35 !== 0) cpu.push(`${fmt(s)},${id},${(s * 13) % 100}.25`);
        if (s % 55 !== 0) mem.push(`${fmt(s)},${id},${(s * 17) % 100}`);
      }
    }
    mem.push('00:00:05,s1,oops');
    await writeFile(join(dir, 'cpu.csv'), csvText(cpu));
    await writeFile(join(dir, 'mem.csv'), csvText(mem));
    await runBoth(dir, ['job', 'cpu-mem', '--cpu', 'cpu.csv', '--mem', 'mem.csv', '--trim-leading']);
  });
});

test('--threads 2: a missing column or file is the same clear error as with one thread; --threads 3 is a usage error', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'in.csv'), csvText(['ts,server_id,cpu_pct', '00:00:00,a,1']));
    const one = await runCli(['job', 'cpu-mem', '--input', 'in.csv', '--out', 'o.csv', '--threads', '1'], dir);
    const two = await runCli(['job', 'cpu-mem', '--input', 'in.csv', '--out', 'o.csv', '--threads', '2'], dir);
    assert.equal(one.code, 1);
    assert.equal(two.code, 1);
    assert.equal(two.stderr, one.stderr);
    assert.match(two.stderr, /lacks mem_pct/);
    const missing = await runCli(['job', 'cpu-mem', '--input', 'nope.csv', '--out', 'o.csv', '--threads', '2'], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read nope\.csv/);
    const usage = await runCli(['job', 'cpu-mem', '--input', 'in.csv', '--out', 'o.csv', '--threads', '3'], dir);
    assert.equal(usage.code, 2);
  });
});

test('an input of 16 MB or more is read by a second thread by default (on 2 cores or more); a small one is not', async () => {
  await withTempDir(async (dir) => {
    const gen = await runCli(['generate', 'metrics', '--out', 'big.csv', '--servers', '1000', '--duration', '1650'], dir);
    assert.equal(gen.code, 0, gen.stderr);
    const big = await runCli(['job', 'cpu-mem', '--input', 'big.csv', '--out', 'o.csv'], dir);
    assert.equal(big.code, 0, big.stderr);
    // Two threads given two cores to run them on.
    assert.match(big.stderr, availableParallelism() >= 2 ? /read 330000 rows.*, 2 threads/ : /read 330000 rows.*, 1 thread\b/);
    await writeFile(join(dir, 'small.csv'), csvText([COMBINED_HEADER, ...ROWS.slice(0, 3)]));
    const small = await runCli(['job', 'cpu-mem', '--input', 'small.csv', '--out', 'o.csv'], dir);
    assert.match(small.stderr, /, 1 thread\b/);
  });
});

function fmt(second: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(second / 3600))}:${pad(Math.floor(second / 60) % 60)}:${pad(second % 60)}`;
}
