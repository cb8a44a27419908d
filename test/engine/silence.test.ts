import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SilenceTracker, type SilenceEvent } from '../../src/engine/silence.ts';
import { MetricStreamTask } from '../../src/jobs/metric-stream-task.ts';
import { CPU_MEM, defaultThresholds } from '../../src/jobs/metric-pairs.ts';

test('a key silent for the configured event time opens an incident, closed when it reports again', () => {
  const events: SilenceEvent[] = [];
  const t = new SilenceTracker(60_000);
  const emit = (e: SilenceEvent) => events.push(e);
  t.observe('a', 0, emit);
  t.observe('b', 0, emit);
  t.advanceTo(59_999, emit);
  assert.equal(events.length, 0);
  t.observe('a', 50_000, emit);
  t.advanceTo(60_000, emit);
  assert.deepEqual(events, [{ key: 'b', lastSeen: 0, at: 60_000, state: 'opened' }]);
  t.advanceTo(200_000, emit); // once, not at every step
  assert.equal(events.filter((e) => e.key === 'b').length, 1);
  t.observe('b', 210_000, emit);
  assert.deepEqual(events.at(-2), { key: 'a', lastSeen: 50_000, at: 200_000, state: 'opened' });
  assert.deepEqual(events.at(-1), { key: 'b', lastSeen: 0, at: 210_000, state: 'closed' });
  const restored = new SilenceTracker(60_000);
  restored.restore(JSON.parse(JSON.stringify(t.snapshot())));
  const after: SilenceEvent[] = [];
  restored.observe('a', 300_000, (e) => after.push(e));
  assert.deepEqual(after, [{ key: 'a', lastSeen: 50_000, at: 300_000, state: 'closed' }]);
});

test('streaming task: silence is reported once the watermark moves on with wall time while the input is idle', () => {
  const incidents: string[] = [];
  const task = new MetricStreamTask(CPU_MEM, 0, { thresholds: defaultThresholds(CPU_MEM), trimLeading: false, lateness: 10_000, idleTimeout: 5_000, silenceAfter: 60_000 }, {
    row: () => {}, reject: () => {}, incident: (i, state) => incidents.push(`${state} ${i.key} ${i.alert}`),
  });
  const msg = (topic: string, offset: number, field: string, ts: string) => ({ topic, partition: 0, offset, value: `{"ts":"${ts}","server_id":"s1",${field}}` });
  task.process(msg('topic-cpu', 0, '"cpu_pct":1', '10:00:00'), 0);
  task.process(msg('topic-mem', 0, '"mem_pct":1', '10:00:00'), 0);
  task.tick(1_000);
  assert.deepEqual(incidents, []);
  task.setLogEnd('topic-cpu', 1);
  task.setLogEnd('topic-mem', 1);
  // idle for 5 s of wall time, then event time advances with wall time: 10 s lateness + 60 s silence
  task.tick(5_000 + 70_000);
  assert.deepEqual(incidents, ['opened s1 Server silent']);
});
