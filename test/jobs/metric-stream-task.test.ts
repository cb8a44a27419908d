// The streaming task against the batch job on the same data, and checkpoint /
// restore at random points (what a worker does after kill -9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { formatUnits } from '../../src/engine/decimal.ts';
import { formatInstant } from '../../src/engine/time.ts';
import { runMetricBatch } from '../../src/io/metric-batch.ts';
import { MetricStreamTask, type InputRecord, type TaskCheckpoint } from '../../src/jobs/metric-stream-task.ts';
import { CPU_MEM, NET_DISK, SIDES, defaultThresholds, type MetricPairJob } from '../../src/jobs/metric-pairs.ts';

interface Row { server: string; ts: string; values: Record<string, string> }

function dataset(seed: number, servers: number, steps: number): Row[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const rows: Row[] = [];
  for (let step = 0; step < steps; step++) {
    const t = 23 * 3600 + 59 * 60 + step * 5; // crosses midnight
    const ts = new Date(t * 1000 % 86_400_000).toISOString().slice(11, 19);
    for (let k = 1; k <= servers; k++) {
      if (rand() < 0.05) continue; // missing rows: joins with a half missing
      const hot = rand() < 0.2;
      rows.push({
        server: `server_${k}`,
        ts,
        values: {
          cpu_pct: (hot ? 80 + rand() * 20 : rand() * 80).toFixed(rand() < 0.5 ? 2 : 3),
          mem_pct: (hot ? 75 + rand() * 25 : rand() * 70).toFixed(2),
          net_in: (hot ? 4000 + rand() * 500 : rand() * 3000).toFixed(2),
          net_out: (rand() * 3000).toFixed(2),
          disk_io: (hot ? 1900 + rand() * 100 : rand() * 1500).toFixed(2),
        },
      });
    }
  }
  return rows;
}

function partitionOf(server: string): number {
  let h = 0;
  for (const c of server) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 3;
}

/** The messages the producer would write, per topic partition, in order. */
function messages(rows: Row[], job: MetricPairJob): Map<number, InputRecord[][]> {
  const byTask = new Map<number, InputRecord[][]>();
  for (const row of rows) {
    const p = partitionOf(row.server);
    if (!byTask.has(p)) byTask.set(p, [[], []]);
    job.sides.forEach((side, i) => {
      const list = byTask.get(p)![i]!;
      const fields = side.fields.map((f) => `"${f}":${row.values[f]}`).join(',');
      list.push({ topic: side.topic, partition: p, offset: list.length, value: `{"ts":"${row.ts}","server_id":"${row.server}",${fields}}` });
    });
  }
  return byTask;
}

function rowText(job: MetricPairJob, r: { key: string; start: number; end: number; value0: number | bigint; value1: number | bigint; alert: string }): string {
  return [r.key, formatInstant(r.start, 'time-of-day'), formatInstant(r.end, 'time-of-day'), formatUnits(r.value0, job.digits), formatUnits(r.value1, job.digits), r.alert].join(',');
}

/** Runs one task over its two inputs, interleaved by `order` (0 = next from input 0). */
function runTask(job: MetricPairJob, task: number, inputs: InputRecord[][], order: number[], trimLeading: boolean, crashAt: number[]): string[] {
  const emitted = new Map<string, string>();
  const makeTask = () => new MetricStreamTask(job, task, { thresholds: defaultThresholds(job), trimLeading, lateness: 10_000, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (r) => {
      const id = `${r.key}|${r.start}`;
      const text = rowText(job, r);
      // What a restarted worker does with its output: a row already written is not written twice.
      if (emitted.has(id)) assert.equal(emitted.get(id), text, `re-emitted row ${id} differs`);
      emitted.set(id, text);
    },
    incident: () => {},
    reject: () => {},
  });
  // As the worker does: the task's input partitions hold the watermark back from the start.
  let t = makeTask();
  t.start(0);
  let saved: TaskCheckpoint | null = null;
  const next = [0, 0];
  let step = 0;
  for (const which of order) {
    const input = inputs[which]!;
    if (next[which]! >= input.length) continue;
    if (crashAt.includes(step) && saved) {
      // kill -9: everything since the checkpoint is lost, reading resumes at its offsets
      t = makeTask();
      t.restore(JSON.parse(JSON.stringify(saved)), 0);
      t.start(0);
      inputs.forEach((inp, i) => { next[i] = t.resumeOffset(inp[0]?.topic ?? '') ?? 0; });
    }
    t.process(input[next[which]!]!, 0);
    next[which]!++;
    t.tick(0);
    if (step % 7 === 3) saved = t.checkpoint();
    step++;
  }
  for (let i = 0; i < 2; i++) while (next[i]! < inputs[i]!.length) { t.process(inputs[i]![next[i]!]!, 0); next[i]!++; }
  t.finish();
  return [...emitted.values()];
}

async function batchRows(job: MetricPairJob, rows: Row[], trimLeading: boolean): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sw-task-'));
  try {
    const header = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';
    writeFileSync(join(dir, 'in.csv'), [header, ...rows.map((r) => [r.ts, r.server, r.values.cpu_pct, r.values.mem_pct, r.values.net_in, r.values.net_out, r.values.disk_io].join(','))].join('\n'));
    await runMetricBatch({ job, inputs: [{ path: join(dir, 'in.csv'), sides: [job.sides[0], job.sides[1]] }], out: join(dir, 'out.csv'), thresholds: defaultThresholds(job), trimLeading });
    return readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n').slice(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const job of [CPU_MEM, NET_DISK]) {
  for (const trimLeading of [false, true]) {
    test(`${job.name}${trimLeading ? ' --trim-leading' : ''}: streaming tasks over co-partitioned topics give exactly the batch rows`, async () => {
      const rows = dataset(7, 7, 60);
      const expected = await batchRows(job, rows, trimLeading);
      const got: string[] = [];
      for (const [task, inputs] of messages(rows, job)) {
        // interleave the two topics unevenly, as fetches do
        const order = inputs.flatMap((inp, i) => inp.map(() => i)).sort((a, b) => a - b);
        const mixed = order.map((_, i) => (i % 5 < 3 ? 0 : 1));
        got.push(...runTask(job, task, inputs, [...mixed, ...order], trimLeading, []));
      }
      assert.deepEqual(got.sort(), [...expected].sort());
      assert.ok(expected.length > 100);
    });
  }
}

test('property: checkpoint and restore at random points gives the rows of an uninterrupted run', async () => {
  const rows = dataset(11, 4, 40);
  const expected = [...await batchRows(CPU_MEM, rows, true)].sort();
  await fc.assert(fc.asyncProperty(fc.array(fc.nat(300), { maxLength: 3 }), fc.array(fc.boolean(), { minLength: 50, maxLength: 50 }), async (crashes, pattern) => {
    const got: string[] = [];
    for (const [task, inputs] of messages(rows, CPU_MEM)) {
      const total = inputs[0]!.length + inputs[1]!.length;
      const order = Array.from({ length: total * 2 }, (_, i) => (pattern[i % pattern.length] ? 1 : 0));
      got.push(...runTask(CPU_MEM, task, inputs, order, true, crashes));
    }
    assert.deepEqual(got.sort(), expected);
  }), { numRuns: 100 });
});

test('bad messages are rejected with a reason; late ones too', () => {
  const rejects: string[] = [];
  const t = new MetricStreamTask(CPU_MEM, 0, { thresholds: defaultThresholds(CPU_MEM), trimLeading: false, lateness: 10_000, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: () => {}, incident: () => {}, reject: (_r, reason) => rejects.push(reason),
  });
  const rec = (topic: string, offset: number, value: string) => ({ topic, partition: 0, offset, value });
  t.process(rec(SIDES.cpu.topic, 0, 'not json'), 0);
  t.process(rec(SIDES.cpu.topic, 1, '{"ts":"10:00:00","server_id":"a b","cpu_pct":1}'), 0);
  t.process(rec(SIDES.cpu.topic, 2, '{"ts":"10:00:00","server_id":"a","cpu_pct":101}'), 0);
  t.process(rec(SIDES.mem.topic, 0, '{"ts":"10:05:00","server_id":"a","mem_pct":1}'), 0);
  t.process(rec(SIDES.cpu.topic, 3, '{"ts":"10:05:00","server_id":"a","cpu_pct":1}'), 0);
  t.tick(0);
  t.process(rec(SIDES.mem.topic, 1, '{"ts":"10:00:00","server_id":"a","mem_pct":1}'), 0);
  assert.equal(rejects.length, 4);
  assert.match(rejects[0]!, /not JSON/);
  assert.match(rejects[1]!, /server_id/);
  assert.match(rejects[2]!, /cpu_pct is above 100/);
  assert.match(rejects[3]!, /^late/);
  assert.equal(t.counters.late, 1);
});
