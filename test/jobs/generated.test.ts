// The default generated dataset (20 servers, 5-s cadence, 2 h from
// 20:53:00 = 28,800 rows) through both batch jobs with --trim-leading:
// exactly 720 rows per server (14,400 in all), equal to the reference
// implementation's rows and incidents; the per-topic files and a shuffled
// copy give the same output as the combined file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSameRows, csvText, parseStats, runCli, shuffled, withTempDir } from './harness.ts';
import { INCIDENTS_HEADER, parseCsv, runReferenceJob } from '../support/reference-metrics.ts';
import type { JobName } from '../support/reference-metrics.ts';

const JOBS: readonly { job: JobName; topics: readonly [string, string]; flags: readonly [string, string] }[] = [
  { job: 'cpu-mem', topics: ['topic-cpu.csv', 'topic-mem.csv'], flags: ['--cpu', '--mem'] },
  { job: 'net-disk', topics: ['topic-net.csv', 'topic-disk.csv'], flags: ['--net', '--disk'] },
];

async function readCsv(path: string): Promise<string[][]> {
  return parseCsv(await readFile(path, 'utf8'));
}

function countPerServer(rows: readonly string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row[0] as string, (counts.get(row[0] as string) ?? 0) + 1);
  return counts;
}

test('generated default dataset: 720 rows per server in both jobs with --trim-leading, equal to the reference', async () => {
  await withTempDir(async (dir) => {
    const generated = await runCli(['generate', 'metrics', '--out', 'metrics.csv'], dir);
    assert.equal(generated.code, 0, generated.stderr);
    const perTopic = await runCli(['generate', 'metrics', '--out', 'topics', '--format', 'per-topic'], dir);
    assert.equal(perTopic.code, 0, perTopic.stderr);
    const text = await readFile(join(dir, 'metrics.csv'), 'utf8');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 1 + 28_800);
    // A shuffled copy (the job must give the same rows whatever the row order)
    await writeFile(join(dir, 'shuffled.csv'), csvText([lines[0] as string, ...shuffled(lines.slice(1), 2026)]));

    // Both jobs and all three input forms (6 processes on 2 cores).
    const runs = await Promise.all(JOBS.flatMap(({ job, topics, flags }) => [
      runCli(['job', job, '--input', 'metrics.csv', '--out', `${job}.csv`, '--incidents', `${job}-incidents.csv`,
        '--rejects', `${job}-rejects.csv`, '--trim-leading'], dir),
      runCli(['job', job, flags[0], `topics/${topics[0]}`, flags[1], `topics/${topics[1]}`, '--out', `${job}-topics.csv`,
        '--incidents', `${job}-topics-incidents.csv`, '--trim-leading'], dir),
      runCli(['job', job, '--input', 'shuffled.csv', '--out', `${job}-shuffled.csv`, '--incidents', `${job}-shuffled-incidents.csv`,
        '--trim-leading'], dir),
    ]));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);

    for (const [index, { job }] of JOBS.entries()) {
      const combinedRun = runs[3 * index] as { stderr: string };
      const expected = runReferenceJob(job, { kind: 'combined', input: { source: 'metrics.csv', text } }, { trimLeading: true });
      const out = await readCsv(join(dir, `${job}.csv`));
      const rows = out.slice(1);
      assert.deepEqual(out[0], [...expected.header], `${job}: header`);
      const counts = countPerServer(rows);
      assert.equal(counts.size, 20, `${job}: 20 servers`);
      for (const [server, count] of counts) assert.equal(count, 720, `${job}: rows of ${server}`);
      assert.equal(rows.length, 14_400);
      assertSameRows(rows, expected.rows, `${job}: rows equal the reference's`);

      const incidents = await readCsv(join(dir, `${job}-incidents.csv`));
      assert.deepEqual(incidents[0], [...INCIDENTS_HEADER]);
      assertSameRows(incidents.slice(1), expected.incidents, `${job}: incidents equal the reference's`);
      assert.ok(expected.incidents.length > 0, 'the generated dataset has anomaly episodes');
      for (const alert of new Set(expected.windows.map((w) => w.alert))) {
        assert.ok(rows.some((r) => r[5] === alert), `${job}: some window says '${alert}'`);
      }
      assert.equal(new Set(rows.map((r) => r[5])).size, 4, `${job}: every alert kind and the empty one appear`);

      const rejects = (await readCsv(join(dir, `${job}-rejects.csv`))).slice(1);
      assert.deepEqual(expected.rejects, []);
      assert.deepEqual(rejects, [], `${job}: no rejects`);
      assert.deepEqual(parseStats(combinedRun.stderr), { read: 28_800, rejected: 0, late: 0, wrote: 14_400, incidents: expected.incidents.length }, combinedRun.stderr);

      const fromTopics = await readCsv(join(dir, `${job}-topics.csv`));
      assertSameRows(fromTopics, out, `${job}: per-topic files give the same rows as the combined file`);
      assertSameRows(await readCsv(join(dir, `${job}-topics-incidents.csv`)), incidents, `${job}: and the same incidents`);
      assertSameRows(await readCsv(join(dir, `${job}-shuffled.csv`)), out, `${job}: a shuffled copy gives the same rows`);
      assertSameRows(await readCsv(join(dir, `${job}-shuffled-incidents.csv`)), incidents, `${job}: and the same incidents`);
    }
  });
});

test('generated dataset crossing midnight equals the reference, with and without --trim-leading, and shuffled', async () => {
  await withTempDir(async (dir) => {
    const generated = await runCli(['generate', 'metrics', '--out', 'night.csv', '--servers', '3', '--start', '23:40:00',
      '--duration', '1800', '--cadence', '3', '--seed', '7'], dir);
    assert.equal(generated.code, 0, generated.stderr);
    const text = await readFile(join(dir, 'night.csv'), 'utf8');
    // Shuffled on each side of midnight, every row before midnight first: out of order, yet each
    // time of day is unambiguous (within 12 h of the latest, or more than 12 h before it).
    const [header, ...rows] = text.trimEnd().split('\n');
    const before = rows.filter((r) => r.startsWith('23:'));
    const after = rows.filter((r) => !r.startsWith('23:'));
    await writeFile(join(dir, 'night-shuffled.csv'), csvText([header as string, ...shuffled(before, 1), ...shuffled(after, 2)]));
    const runs = await Promise.all([
      ...[false, true].flatMap((trim) => JOBS.map(({ job }) =>
        runCli(['job', job, '--input', 'night.csv', '--out', `${job}-${trim}.csv`, '--incidents', `${job}-${trim}-i.csv`,
          ...(trim ? ['--trim-leading'] : [])], dir))),
      ...JOBS.map(({ job }) => runCli(['job', job, '--input', 'night-shuffled.csv', '--out', `${job}-shuffled.csv`,
        '--incidents', `${job}-shuffled-i.csv`], dir)),
    ]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    for (const { job } of JOBS) {
      assertSameRows(await readCsv(join(dir, `${job}-shuffled.csv`)), await readCsv(join(dir, `${job}-false.csv`)), `${job}: shuffled night`);
      assertSameRows(await readCsv(join(dir, `${job}-shuffled-i.csv`)), await readCsv(join(dir, `${job}-false-i.csv`)), `${job}: shuffled night incidents`);
    }
    for (const trim of [false, true]) {
      for (const { job } of JOBS) {
        const expected = runReferenceJob(job, { kind: 'combined', input: { source: 'night.csv', text } }, { trimLeading: trim });
        const rows = (await readCsv(join(dir, `${job}-${trim}.csv`))).slice(1);
        assertSameRows(rows, expected.rows, `${job} trim=${trim}`);
        assertSameRows((await readCsv(join(dir, `${job}-${trim}-i.csv`))).slice(1), expected.incidents, `${job} trim=${trim}: incidents`);
        assert.ok(rows.some((r) => r[1] === '23:59:50') && rows.some((r) => r[1] === '00:00:00'), 'crosses midnight');
      }
    }
  });
});
