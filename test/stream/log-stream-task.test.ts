// The log stream task (four NGINX goals at once; lb-summary over every
// partition) as a worker runs it, without a broker: records of three
// partitions interleaved in any order, checkpoints every few records, and
// crashes (kill -9: the state since the last checkpoint is lost, reading
// resumes at its offsets, a re-computed row already written is not written
// again) give the rows and incidents of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIso } from '../../src/engine/time.ts';
import { defaultLbOptions, lbLines } from '../../src/io/generators/lb.ts';
import { defaultNginxOptions, nginxEvents } from '../../src/io/generators/nginx.ts';
import { lbStreamJob, nginxStreamJob } from '../../src/io/stream/log-detect.ts';
import { LogStreamTask, type LogStreamJob, type LogTaskCheckpoint } from '../../src/jobs/log-stream-task.ts';
import type { InputRecord } from '../../src/jobs/stream-task.ts';

/** Lines spread over three partitions as a keyed producer would, in order within each. */
function partitioned(topic: string, lines: readonly string[]): InputRecord[][] {
  const parts: InputRecord[][] = [[], [], []];
  lines.forEach((line, i) => {
    const p = (i * 7 + (i >> 3)) % 3;
    parts[p]!.push({ topic, partition: p, offset: parts[p]!.length, value: line });
  });
  return parts;
}

interface Outcome {
  rows: string[];
  incidents: string[];
  rejects: number;
}

/** Runs one task over the partitions, reading them in `order`, checkpointing every `every` records and crashing at the given steps. */
function run<E>(job: LogStreamJob<E>, lateness: number, parts: InputRecord[][], order: readonly number[], every: number, crashes: readonly number[]): Outcome {
  const rows = new Map<string, string>();
  const incidents = new Map<string, string>();
  let rejects = 0;
  const make = () => new LogStreamTask(job, 0, [0, 1, 2], { lateness, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (goal, r) => {
      const id = `${job.goals[goal]!.pane.name}|${r.key}|${r.start}`;
      const text = `${id}|${r.end}|${r.count}|${String(r.value)}|${r.categories.join(' ')}`;
      // What the runner does with outputs after a restore: a row already written is not written again, and must be the same row.
      if (rows.has(id)) assert.equal(rows.get(id), text, `re-computed row ${id} differs`);
      rows.set(id, text);
    },
    incident: (_goal, i, state) => {
      if (state !== 'closed') return;
      const id = `${i.detector}|${i.key}|${i.alert}|${i.start}`;
      const text = `${id}|${formatIso(i.end)}|${i.windows}|${String(i.peakUnits)}`;
      if (incidents.has(id)) assert.equal(incidents.get(id), text);
      incidents.set(id, text);
    },
    reject: () => rejects++,
  });
  let task = make();
  task.start(0);
  let saved: LogTaskCheckpoint | null = null;
  const next = [0, 0, 0];
  let step = 0;
  const read = (p: number) => {
    task.process(parts[p]![next[p]!]!, 0);
    next[p]!++;
  };
  for (const p of order) {
    if (next[p]! >= parts[p]!.length) continue;
    if (crashes.includes(step) && saved !== null) {
      task = make();
      task.restore(JSON.parse(JSON.stringify(saved)) as LogTaskCheckpoint, 0);
      task.start(0);
      for (let q = 0; q < 3; q++) next[q] = task.resumeOffset(job.topic, q) ?? 0;
    }
    read(p);
    // the runner ticks once per batch of records
    if (step % 5 === 4) task.tick(0);
    if (step % every === every - 1) saved = task.checkpoint();
    step++;
  }
  for (let p = 0; p < 3; p++) while (next[p]! < parts[p]!.length) read(p);
  task.tick(0);
  task.finish();
  return { rows: [...rows.values()].sort(), incidents: [...incidents.values()].sort(), rejects };
}

/** An interleaving of the partitions: mostly one partition at a time, as fetches deliver them. */
function interleaving(parts: InputRecord[][], pattern: readonly number[]): number[] {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const order: number[] = [];
  for (let i = 0; order.length < total * 2; i++) {
    const p = pattern[i % pattern.length]! % 3;
    for (let k = 0; k < 1 + (pattern[(i + 1) % pattern.length]! % 40); k++) order.push(p);
  }
  return order;
}

const nginx = nginxStreamJob(['ip-burst', 'host-4xx', 'country-success', 'host-latency'], null);
const nginxParts = partitioned(nginx.topic, [...nginxEvents({ ...defaultNginxOptions, events: 15_000 })].map((e) => e.line));
const nginxWhole = run(nginx, 10_000, nginxParts, interleaving(nginxParts, [0, 1, 2]), 1_000_000, []);

test('nginx task: every goal reports, nothing is rejected', () => {
  for (const goal of ['ip-burst', 'host-4xx', 'country-success', 'host-latency']) assert.ok(nginxWhole.rows.filter((r) => r.startsWith(`${goal}|`)).length > 5, goal);
  assert.ok(nginxWhole.incidents.length > 3);
  assert.equal(nginxWhole.rejects, 0);
});

test('property: nginx task, any interleaving of the partitions, checkpoints and crashes at random points: the rows and incidents of an uninterrupted run', () => {
  fc.assert(fc.property(fc.array(fc.nat(5), { minLength: 3, maxLength: 20 }), fc.array(fc.nat(14_999), { minLength: 1, maxLength: 3 }), fc.integer({ min: 50, max: 3000 }), (pattern, crashes, every) => {
    const got = run(nginx, 10_000, nginxParts, interleaving(nginxParts, pattern), every, crashes);
    assert.deepEqual(got.rows, nginxWhole.rows);
    assert.deepEqual(got.incidents, nginxWhole.incidents);
    assert.equal(got.rejects, 0);
  }), { numRuns: 15 });
});

test('property: lb-summary task over three partitions, crashes at random points: the summaries of an uninterrupted run', () => {
  const lb = lbStreamJob();
  const parts = partitioned(lb.topic, [...lbLines({ ...defaultLbOptions, lines: 30_000 })]);
  const whole = run(lb, 10 * 60_000, parts, interleaving(parts, [2, 0, 1]), 1_000_000, []);
  assert.ok(whole.rows.length >= 5);
  fc.assert(fc.property(fc.array(fc.nat(5), { minLength: 3, maxLength: 20 }), fc.array(fc.nat(29_999), { minLength: 1, maxLength: 3 }), fc.integer({ min: 50, max: 3000 }), (pattern, crashes, every) => {
    const got = run(lb, 10 * 60_000, parts, interleaving(parts, pattern), every, crashes);
    assert.deepEqual(got.rows, whole.rows);
  }), { numRuns: 10 });
});

test('a message late for some goals only counts for the others; the dead letter names the goals that missed it', () => {
  const rejects: string[] = [];
  const rows: string[] = [];
  const task = new LogStreamTask(nginx, 0, [0], { lateness: 0, idleTimeout: Number.POSITIVE_INFINITY }, {
    row: (goal, r) => rows.push(`${nginx.goals[goal]!.pane.name} ${r.key} ${formatIso(r.start)} ${r.count}`),
    incident: () => {},
    reject: (_record, reason) => rejects.push(reason),
  });
  task.start(0);
  const T0 = 1_659_509_400;
  const event = (s: number, ip: string) => JSON.stringify({ client_ip: ip, host: 'h.example', country: 'US', status: 200, request_time: '0.1', '@timestamp': String(T0 + s) });
  task.process({ topic: nginx.topic, partition: 0, offset: 0, value: event(0, 'a') }, 0);
  task.process({ topic: nginx.topic, partition: 0, offset: 1, value: event(65, 'b') }, 0);
  task.tick(0);
  // 15 s behind: its minute [T0, T0+60) is closed, its last 20-second ip-burst window [T0+50, T0+70) is not
  task.process({ topic: nginx.topic, partition: 0, offset: 2, value: event(50, 'c') }, 0);
  assert.equal(task.counters.late, 1);
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0], `late: event time ${formatIso((T0 + 50) * 1000)} is behind the watermark ${formatIso((T0 + 65) * 1000)} for all of its windows of country-success, host-latency`);
  // ip-burst counted c; the closed minute of country-success did not
  assert.ok(task.checkpoint().detectors['ip-burst']!.windows.keys.some((k) => k.key === 'c'));
  task.finish();
  assert.ok(rows.includes(`country-success US ${formatIso(T0 * 1000)} 1`), rows.join('\n'));
});
