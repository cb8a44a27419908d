// `streamwatch detect` on the embedded broker: the rows equal the batch
// job's rows for the same data, with and without --trim-leading; and after
// kill -9 twice, the outputs equal an uninterrupted run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaAdmin } from '../../src/kafka/index.ts';
import { readRange } from '../../src/kafka/read-range.ts';
import { cli, csvRows, lineCount, produceMetrics, waitFor, withBrokerIn, withTempDir } from './helpers.ts';

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
      for (const [i, part] of parts.slice(0, 2).entries()) {
        await produceMetrics(brokers, part);
        const before = lineCount(out);
        const { child, done } = cli(args);
        await waitFor(() => lineCount(out) > before + 20, 30_000);
        // the first kill lands after a checkpoint, the second right after the output was synced
        await new Promise((r) => setTimeout(r, i === 0 ? 700 : 0));
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


test('detect: two workers in one group, one joins and one leaves mid-run: the output topic holds every row once, as one worker writes them', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'metrics.csv');
    assert.equal((await cli(['generate', 'metrics', '--out', data, '--servers', '12', '--duration', '1800']).done).code, 0);
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    const half = Math.floor((lines.length - 1) / 2);
    const first = join(dir, 'first.csv');
    const second = join(dir, 'second.csv');
    writeFileSync(first, lines.slice(0, 1 + half).join('\n'));
    writeFileSync(second, [lines[0], ...lines.slice(1 + half)].join('\n'));
    await withBrokerIn(dir, async (brokers) => {
      await produceMetrics(brokers, first, 4);
      const common = ['detect', 'net-disk', '-b', brokers, '--group', 'pair', '--checkpoint-interval', '300ms'];
      const tasksLines = (text: string) => text.split('\n').filter((l) => l.includes('tasks: '));
      const a = cli([...common, '--out', join(dir, 'a.csv'), '--until-idle', '10']);
      await waitFor(() => lineCount(join(dir, 'a.csv')) > 20, 30_000);
      // B joins: A hands half of the tasks over
      const b = cli([...common, '--out', join(dir, 'b.csv')]);
      await waitFor(() => tasksLines(a.stderr()).length >= 2 && tasksLines(b.stderr()).length >= 1, 30_000, () => `for the rebalance:\nA: ${a.stderr()}\nB: ${b.stderr()}`);
      await produceMetrics(brokers, second, 4);
      await waitFor(() => lineCount(join(dir, 'b.csv')) > 20, 30_000, () => `for B's rows:\nA: ${a.stderr()}\nB: ${b.stderr()}`);
      // B leaves: A takes its tasks back and finishes the run
      b.child.kill('SIGTERM');
      const bExit = await b.done;
      assert.equal(bExit.code, 0, bExit.stderr);
      const aExit = await a.done;
      assert.equal(aExit.code, 0, aExit.stderr);
      const history = tasksLines(aExit.stderr).map((l) => l.replace(/.*tasks: /, ''));
      assert.equal(history.length, 3, aExit.stderr);
      assert.equal(history[0], '0, 1, 2, 3');
      assert.equal(history[1]!.split(', ').length, 2, 'A kept half of the tasks while B was there');
      assert.equal(history[2], '0, 1, 2, 3');

      const single = join(dir, 'single.csv');
      const one = await cli(['detect', 'net-disk', '-b', brokers, '--group', 'single', '--out', single, '--until-idle', '2']).done;
      assert.equal(one.code, 0, one.stderr);

      const admin = await KafkaAdmin.connect({ brokers: [brokers] });
      const ends = await admin.listOffsets(['alerts-net-disk'], 'latest');
      await admin.close();
      const counts = new Map<string, number>();
      for (const [key, end] of ends) {
        for (const r of await readRange({ brokers: [brokers] }, 'alerts-net-disk', Number(key.split(':')[1]), 0, end)) {
          const v = JSON.parse(r.value!.toString()) as { server_id: string; window_start: string; window_end: string; max_net_in: number; max_disk_io: number; alert: string };
          const row = [v.server_id, v.window_start, v.window_end, v.max_net_in, v.max_disk_io, v.alert].join(',');
          counts.set(row, (counts.get(row) ?? 0) + 1);
        }
      }
      // the pair wrote each row once and the single worker once: twice in all, and the same rows
      assert.deepEqual([...counts].filter(([, n]) => n !== 2).map(([row, n]) => `${n}x ${row}`), []);
      assert.equal(counts.size, csvRows(single).length);
    });
  });
});

test('detect --metrics-port: the worker serves its own /metrics with the window emit-latency histogram', async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, 'metrics.csv');
    assert.equal((await cli(['generate', 'metrics', '--out', data, '--servers', '3', '--duration', '300']).done).code, 0);
    await withBrokerIn(dir, async (brokers) => {
      await produceMetrics(brokers, data);
      // Long enough idle wait to read the metrics while the worker is still up.
      const worker = cli(['detect', 'cpu-mem', '-b', brokers, '--group', 'metrics', '--until-idle', '8', '--metrics-port', '0']);
      let text = '';
      const deadline = Date.now() + 40_000;
      for (;;) {
        const url = /metrics at (http:\S+)/.exec(worker.stderr())?.[1];
        if (url) {
          text = await (await fetch(url)).text();
          if (/^streamwatch_window_emit_latency_seconds_count\{job="cpu-mem"\} [1-9]/m.test(text)) break;
        }
        if (Date.now() > deadline) assert.fail(`no emit latency observed: ${text || worker.stderr()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(text, /^streamwatch_window_emit_latency_seconds_bucket\{job="cpu-mem",le="\+Inf"\} \d+$/m);
      const exit = await worker.done;
      assert.equal(exit.code, 0, exit.stderr);
    });
  });
});
