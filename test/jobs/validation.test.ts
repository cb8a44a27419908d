// Black-box tests of input validation (SEMANTICS.md section 1), the rejects
// file, the statistics line, and exit statuses of the batch jobs (CLI.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMBINED_HEADER, WINDOWS_OF_205300, csvText, runCli, runJob, windowRows, withTempDir } from './harness.ts';
import { parseCsv } from '../support/reference-metrics.ts';

const LONG_ID = 's'.repeat(129);
const MAX_ID = 'S'.repeat(128);

/** Every malformed kind of section 1, with its 1-based line number (header = line 1). */
const MALFORMED = [
  COMBINED_HEADER, //                                      1
  '20:53:00,server_1,10,20,30,40,50', //                   2 ok
  '', //                                                   3 blank: skipped, not rejected
  '20:53:00,server_2,10,20,30,40', //                      4 a field missing
  '20:53:00,server_2,10,20,30,40,50,60', //                5 a field extra
  'xx:yy:zz,server_2,10,20,30,40,50', //                   6 time does not parse
  '25:00:00,server_2,10,20,30,40,50', //                   7 no such time of day
  ',server_2,10,20,30,40,50', //                           8 empty time
  '20:53:00,,10,20,30,40,50', //                           9 empty server_id
  `20:53:00,${LONG_ID},10,20,30,40,50`, //                 10 server_id of 129 characters
  '20:53:00,server/2,10,20,30,40,50', //                   11 character outside A-Z a-z 0-9 _ . : -
  '20:53:00,server_é,10,20,30,40,50', //                   12 non-ASCII character
  '20:53:00,server_2,abc,20,30,40,50', //                  13 not a number
  '20:53:00,server_2,10,,30,40,50', //                     14 empty number
  '20:53:00,server_2,NaN,20,30,40,50', //                  15 not finite
  '20:53:00,server_2,10,Infinity,30,40,50', //             16
  '20:53:00,server_2,10,20,-Infinity,40,50', //            17
  '20:53:00,server_2,100.01,20,30,40,50', //               18 cpu above 100
  '20:53:00,server_2,-0.01,20,30,40,50', //                19 cpu below 0
  '20:53:00,server_2,10,100.01,30,40,50', //               20 mem above 100
  '20:53:00,server_2,10,-0.01,30,40,50', //                21 mem below 0
  '20:53:00,server_2,10,20,-0.01,40,50', //                22 negative net_in
  '20:53:00,server_2,10,20,30,-0.01,50', //                23 negative net_out
  '20:53:00,server_2,10,20,30,40,-0.01', //                24 negative disk_io
  '', //                                                   25 blank
  `20:53:05,${MAX_ID},100,0,0,0,0`, //                     26 ok: 128 characters, 100 and 0 are in range
  '20:53:05,a.B:c-9_z,0.0,100.00,0,0,0', //                27 ok: every allowed kind of character
];
const REJECTED_LINES = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];

test('malformed rows of every kind go to the rejects file with their line numbers; blank lines are skipped', async () => {
  for (const job of ['cpu-mem', 'net-disk'] as const) {
    // The combined row is validated whole: cpu-mem rejects a negative net_in too.
    const result = await runJob({ job, inputArgs: ['--input', 'metrics.csv'], files: { 'metrics.csv': csvText(MALFORMED) } });
    assert.deepEqual(result.rejects, REJECTED_LINES.map((line) => ['metrics.csv', line, MALFORMED[line - 1]]), job);
    assert.deepEqual(result.rows.map((r) => r[0]), [
      MAX_ID, MAX_ID, MAX_ID, 'a.B:c-9_z', 'a.B:c-9_z', 'a.B:c-9_z', 'server_1', 'server_1', 'server_1',
    ].sort(), job);
    assert.deepEqual(result.stats, { read: 24, rejected: 21, late: 0, wrote: 9, incidents: job === 'cpu-mem' ? 2 : 0 }, result.run.stderr);
  }
});

test('cpu-mem rows of the malformed file: only the valid lines are aggregated', async () => {
  const result = await runJob({ job: 'cpu-mem', inputArgs: ['--input', 'metrics.csv'], files: { 'metrics.csv': csvText(MALFORMED) } });
  // natural order compares the text before a trailing number: 'SSS..S' < 'a.B:c-' < 'server_' (code units)
  assert.deepEqual(result.rows, [
    ...windowRows(MAX_ID, WINDOWS_OF_205300, ['100.0', '0.0', 'CPU spike suspected']),
    ...windowRows('a.B:c-9_z', WINDOWS_OF_205300, ['0.0', '100.0', 'Memory saturation suspected']),
    ...windowRows('server_1', WINDOWS_OF_205300, ['10.0', '20.0', '']),
  ]);
});

test('per-topic inputs: each file\'s rejects carry its own path and line numbers', async () => {
  const result = await runJob({
    job: 'cpu-mem', inputArgs: ['--cpu', 'in/cpu.csv', '--mem', 'in/mem.csv'],
    files: {
      'in/cpu.csv': csvText(['ts,server_id,cpu_pct', '20:53:00,server_1,50', '', '20:53:05,server_1,101', '20:53:05,server_1']),
      'in/mem.csv': csvText(['ts,server_id,mem_pct', '20:53:00,server_1,-1', '20:53:00,server_1,60', 'noon,server_1,1']),
    },
  });
  assert.deepEqual(result.rejects, [
    ['in/cpu.csv', 4, '20:53:05,server_1,101'],
    ['in/cpu.csv', 5, '20:53:05,server_1'],
    ['in/mem.csv', 2, '20:53:00,server_1,-1'],
    ['in/mem.csv', 4, 'noon,server_1,1'],
  ]);
  assert.deepEqual(result.rows, windowRows('server_1', WINDOWS_OF_205300, ['50.0', '60.0', '']));
});

test('an input whose every row is rejected gives a header-only output and exit 0', async () => {
  const result = await runJob({ job: 'cpu-mem', inputArgs: ['--input', 'in.csv'], files: { 'in.csv': csvText([COMBINED_HEADER, '20:53:00,x,101,0,0,0,0']) } });
  assert.deepEqual(result.header, ['server_id', 'window_start', 'window_end', 'avg_cpu', 'avg_mem', 'alert']);
  assert.deepEqual(result.rows, []);
  assert.deepEqual(result.incidents, []);
  assert.equal(result.rejects.length, 1);
});

function assertOneClearLine(stderr: string, label: string): void {
  assert.ok(!/\n\s+at /.test(stderr), `${label}: no stack trace on stderr:\n${stderr}`);
  assert.ok(!/internal error/i.test(stderr), `${label}: not an internal error:\n${stderr}`);
  assert.equal(stderr.trim().split('\n').length, 1, `${label}: one line on stderr:\n${stderr}`);
}

test('a header without a column the job needs: exit 1, one line on stderr', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'short.csv'), csvText(['server_id,timestamp,cpu_pct,mem_pct', 'server_1,20:53:00,1,1']));
    await writeFile(join(dir, 'nots.csv'), csvText(['server_id,cpu_pct,mem_pct', 'server_1,1,1']));
    await writeFile(join(dir, 'cpu.csv'), csvText(['ts,server_id,mem_pct', '20:53:00,server_1,1']));
    await writeFile(join(dir, 'mem.csv'), csvText(['ts,server_id,mem_pct', '20:53:00,server_1,1']));
    const cases = [
      ['job', 'net-disk', '--input', 'short.csv', '--out', 'o1.csv'], // no net_in, disk_io
      ['job', 'cpu-mem', '--input', 'nots.csv', '--out', 'o2.csv'], // no ts
      ['job', 'cpu-mem', '--cpu', 'cpu.csv', '--mem', 'mem.csv', '--out', 'o3.csv'], // cpu file without cpu_pct
    ];
    const runs = await Promise.all(cases.map(async (args) => ({ args, run: await runCli(args, dir) })));
    for (const { args, run } of runs) {
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      assertOneClearLine(run.stderr, args.join(' '));
    }
  });
});

test('an empty input file (no header at all) lacks every needed column: exit 1, one line on stderr', async () => {
  // SEMANTICS.md 1: "A consumer that stores a topic as CSV writes the same fields in that order,
  // with a header"; the job convention: "A header missing a column the job needs -> exit 1".
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'empty.csv'), '');
    const run = await runCli(['job', 'cpu-mem', '--input', 'empty.csv', '--out', 'out.csv'], dir);
    assert.equal(run.code, 1, run.stderr);
    assertOneClearLine(run.stderr, 'empty input');
  });
});

test('a missing or unreadable input file: exit 1, one line on stderr', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'adir'));
    const runs = await Promise.all([
      ['job', 'cpu-mem', '--input', 'nope.csv', '--out', 'out.csv'],
      ['job', 'net-disk', '--net', 'nope.csv', '--disk', 'nope2.csv', '--out', 'out.csv'],
      ['job', 'cpu-mem', '--input', 'adir', '--out', 'out.csv'], // a directory is not a readable file
    ].map(async (args) => ({ args, run: await runCli(args, dir) })));
    for (const { args, run } of runs) {
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      assertOneClearLine(run.stderr, args.join(' '));
    }
  });
});

test('bad usage exits 2 with no stack trace', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'in.csv'), csvText([COMBINED_HEADER, '20:53:00,server_1,1,1,1,1,1']));
    await writeFile(join(dir, 'cpu.csv'), csvText(['ts,server_id,cpu_pct', '20:53:00,server_1,1']));
    const cases = [
      ['job', 'cpu-mem', '--input', 'in.csv', '--out', 'out.csv', '--bogus'], // unknown flag
      ['job', 'cpu-mem', '--input', 'in.csv'], // missing --out
      ['job', 'cpu-mem', '--input', 'in.csv', '--cpu', 'cpu.csv', '--mem', 'cpu.csv', '--out', 'out.csv'], // both
      ['job', 'cpu-mem', '--cpu', 'cpu.csv', '--out', 'out.csv'], // --cpu without --mem
      ['job', 'cpu-mem', '--out', 'out.csv'], // no input at all
      ['job', 'net-disk', '--cpu', 'cpu.csv', '--mem', 'cpu.csv', '--out', 'out.csv'], // the other job's flags
      ['job', 'net-disk', '--input', 'in.csv', '--out', 'out.csv', '--cpu-threshold', '5'],
      ['job', 'cpu-mem', '--input', 'in.csv', '--out', 'out.csv', '--cpu-threshold', 'abc'], // not a number
    ];
    const runs = await Promise.all(cases.map(async (args) => ({ args, run: await runCli(args, dir) })));
    for (const { args, run } of runs) {
      assert.equal(run.code, 2, `${args.join(' ')}: exit ${run.code}: ${run.stderr}`);
      assert.ok(run.stderr.trim().length > 0, `${args.join(' ')}: says what went wrong`);
      assert.ok(!/\n\s+at /.test(run.stderr), `${args.join(' ')}: no stack trace:\n${run.stderr}`);
    }
    assert.ok(!existsSync(join(dir, 'out.csv')), 'bad usage writes no output');
  });
});

test('an output path that is a symbolic link is written through, not replaced', async () => {
  // Replacing the path (write a temporary file, rename it over the output) turns a symlink
  // into a regular file, and, run as root, `--out /dev/null` or `--out /dev/stdout` into one.
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'in.csv'), csvText([COMBINED_HEADER, '20:53:00,server_1,1,2,3,4,5']));
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real/out.csv'), 'old\n');
    await symlink('real/out.csv', join(dir, 'out-link.csv'));
    const run = await runCli(['job', 'cpu-mem', '--input', 'in.csv', '--out', 'out-link.csv'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await lstat(join(dir, 'out-link.csv'))).isSymbolicLink(), 'out-link.csv is still a symbolic link');
    const rows = parseCsv(await readFile(join(dir, 'real/out.csv'), 'utf8'));
    assert.equal(rows.length, 1 + 3, 'the link\'s target holds the header and the 3 window rows');
  });
});

test('--help describes each job and exits 0', async () => {
  await withTempDir(async (dir) => {
    for (const job of ['cpu-mem', 'net-disk']) {
      const run = await runCli(['job', job, '--help'], dir);
      assert.ok(!existsSync(join(dir, 'out.csv')));
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout + run.stderr, /--trim-leading/);
    }
  });
});
