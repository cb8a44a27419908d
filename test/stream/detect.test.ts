// `streamwatch detect` on the embedded broker: the rows equal the batch
// job's rows for the same data, with and without --trim-leading; and after
// kill -9 twice, the outputs equal an uninterrupted run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaAdmin } from '../../src/kafka/index.ts';
import { readRange } from '../../src/kafka/read-range.ts';
import { cli, csvRows, produceMetrics, withBrokerIn, withTempDir } from './helpers.ts';

async function batch(dir: string, job: string, input: string, trim: boolean): Promise<string[]> {
  const out = join(dir, `batch-${job}-${trim}.csv`);
  const { done } = cli(['job', job, '--input', input, '--out', out, ...(trim ? ['--trim-leading'] : [])]);
  assert.equal((await done).code, 0);
  return csvRows(out);
}

test('detect cpu-mem and net-disk write exactly the batch rows (with and without --trim-leading)', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'metrics.csv');
    assert.equal((await cli(['generate', 'metrics', '--out', data, '--servers', '5', '--duration', '600']).done).code, 0);
    await withBrokerIn(dir, async (brokers) => {
      await produceMetrics(brokers, data);
      for (const [job, trim] of [['cpu-mem', true], ['net-disk', false]] as const) {
        const out = join(dir, `stream-${job}.csv`);
        const run = await cli(['detect', job, '-b', brokers, '--group', `g-${job}`, '--out', out, '--until-idle', '2', ...(trim ? ['--trim-leading'] : [])]).done;
        assert.equal(run.code, 0, run.stderr);
        const expected = await batch(dir, job, data, trim);
        assert.ok(expected.length > 100);
        assert.deepEqual(csvRows(out), expected);
      }
    });
  });
});

test('detect: kill -9 twice during a run, restart, outputs equal an uninterrupted run', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'metrics.csv');
    assert.equal((await cli(['generate', 'metrics', '--out', data, '--servers', '6', '--duration', '1800']).done).code, 0);
    // The data arrives in three parts; a worker is killed after each of the first two.
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    const parts = [1, 2, 3].map((i) => {
      const path = join(dir, `part-${i}.csv`);
      const rows = lines.slice(1 + Math.floor(((i - 1) * (lines.length - 1)) / 3), 1 + Math.floor((i * (lines.length - 1)) / 3));
      writeFileSync(path, [lines[0], ...rows].join('\n'));
      return path;
    });
    await withBrokerIn(dir, async (brokers) => {
      const out = join(dir, 'killed.csv');
      const incidents = join(dir, 'killed-incidents.csv');
      const args = ['detect', 'cpu-mem', '-b', brokers, '--group', 'killed', '--out', out, '--incidents', incidents, '--until-idle', '3', '--checkpoint-interval', '300ms'];
      const logs: string[] = [];
      for (const part of parts.slice(0, 2)) {
        await produceMetrics(brokers, part);
        const before = lineCount(out);
        const { child, done } = cli(args);
        await waitFor(() => lineCount(out) > before + 20, 30_000);
        child.kill('SIGKILL');
        const exit = await done;
        assert.equal(exit.signal, 'SIGKILL', `worker ended before the kill: ${exit.stderr}`);
        logs.push(exit.stderr);
      }
      await produceMetrics(brokers, parts[2]!);
      const last = await cli(args).done;
      assert.equal(last.code, 0, last.stderr);
      logs.push(last.stderr);
      // the later runs resumed from checkpoints written before the kills
      assert.match(logs.slice(1).join('\n'), /resumed from checkpoint/, logs.join('\n---\n'));

      const whole = join(dir, 'whole.csv');
      const wholeIncidents = join(dir, 'whole-incidents.csv');
      const first = await cli(['detect', 'cpu-mem', '-b', brokers, '--group', 'uninterrupted', '--out', whole, '--incidents', wholeIncidents, '--until-idle', '2']).done;
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(csvRows(out), csvRows(whole));
      assert.deepEqual(csvRows(incidents), csvRows(wholeIncidents));

      // the output topic holds each row once per group that wrote it
      const admin = await KafkaAdmin.connect({ brokers: [brokers] });
      const ends = await admin.listOffsets(['alerts-cpu-mem'], 'latest');
      await admin.close();
      const counts = new Map<string, number>();
      for (const [key, end] of ends) {
        for (const r of await readRange({ brokers: [brokers] }, 'alerts-cpu-mem', Number(key.split(':')[1]), 0, end)) {
          const v = JSON.parse(r.value!.toString()) as { server_id: string; window_start: string };
          const id = `${v.server_id}|${v.window_start}`;
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
      }
      assert.equal(counts.size, csvRows(whole).length);
      const twice = [...counts].filter(([, n]) => n !== 2);
      assert.deepEqual(twice, [], 'rows that are not exactly once per group in alerts-cpu-mem');
    });
  });
});

function lineCount(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
