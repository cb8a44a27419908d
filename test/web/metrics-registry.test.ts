// The registry's text exposition, checked by hand and by Prometheus's own
// parser (`promtool check metrics`, Debian package prometheus).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MetricsRegistry } from '../../src/web/metrics-registry.ts';
import { brokerRequestHook, createPipelineMetrics, recordLag } from '../../src/web/pipeline-metrics.ts';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

function busyPipeline(): ReturnType<typeof createPipelineMetrics> {
  const metrics = createPipelineMetrics(new MetricsRegistry());
  metrics.inputRecords.inc({ topic: 'topic-cpu' }, 1200);
  metrics.inputRecords.inc({ topic: 'topic-mem' }, 1199);
  metrics.outputRecords.inc({ topic: 'alerts-cpu-mem' }, 40);
  metrics.lateRecords.inc({ job: 'cpu-mem' }, 2);
  metrics.rejectedRecords.inc({ job: 'cpu-mem' });
  for (const s of [0.0004, 0.02, 0.3, 4, 45]) metrics.windowEmitLatency.observe({ job: 'cpu-mem' }, s);
  recordLag(metrics, [
    { group: 'detect-cpu-mem', topic: 'topic-cpu', partition: 0, lag: 12 },
    { group: 'detect-cpu-mem', topic: 'topic-mem', partition: 0, lag: 0 },
  ]);
  const hook = brokerRequestHook(metrics);
  hook('Produce', 0.002, false);
  hook('Fetch', 0.5, false);
  hook('OffsetCommit', 0.001, true);
  metrics.alertNotifications.inc({ target: 'webhook', outcome: 'sent' });
  metrics.openIncidents.set({ detector: 'cpu-mem' }, 3);
  metrics.sseClients.set(undefined, 2);
  return metrics;
}

test('exposition: HELP and TYPE per metric, cumulative histogram buckets, escaped label values', () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter({ name: 'streamwatch_test_requests_total', help: 'Requests.\nSecond line with a \\ backslash.', labelNames: ['path'] });
  requests.inc({ path: 'a"b\\c\nd' }, 2);
  const latency = registry.histogram({ name: 'streamwatch_test_seconds', help: 'Latency.', buckets: [0.1, 1] });
  latency.observe(undefined, 0.05);
  latency.observe(undefined, 0.5);
  latency.observe(undefined, 7);
  const text = registry.expose();
  assert.equal(
    text,
    [
      '# HELP streamwatch_test_requests_total Requests.\\nSecond line with a \\\\ backslash.',
      '# TYPE streamwatch_test_requests_total counter',
      'streamwatch_test_requests_total{path="a\\"b\\\\c\\nd"} 2',
      '# HELP streamwatch_test_seconds Latency.',
      '# TYPE streamwatch_test_seconds histogram',
      'streamwatch_test_seconds_bucket{le="0.1"} 1',
      'streamwatch_test_seconds_bucket{le="1"} 2',
      'streamwatch_test_seconds_bucket{le="+Inf"} 3',
      'streamwatch_test_seconds_sum 7.55',
      'streamwatch_test_seconds_count 3',
      '',
    ].join('\n'),
  );
});

test('registry refuses what Prometheus would reject or misread', () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter({ name: 'streamwatch_requests', help: 'x' }), /_total/);
  assert.throws(() => registry.gauge({ name: 'bad-name', help: 'x' }), /invalid metric name/);
  assert.throws(() => registry.gauge({ name: 'streamwatch_x', help: 'x', labelNames: ['le'] }), /invalid label/);
  const gauge = registry.gauge({ name: 'streamwatch_x', help: 'x', labelNames: ['topic'] });
  assert.throws(() => registry.gauge({ name: 'streamwatch_x', help: 'x' }), /already registered/);
  assert.throws(() => gauge.set({ topic: 'a', other: 'b' } as unknown as { topic: string }, 1), /unknown label/);
  const counter = registry.counter({ name: 'streamwatch_y_total', help: 'y' });
  assert.throws(() => counter.inc(undefined, -1), /only goes up/);
});

test('collectors refresh gauges at scrape time; a failing one does not break /metrics', () => {
  const metrics = createPipelineMetrics();
  let clients = 0;
  metrics.registry.onCollect(() => metrics.sseClients.set(undefined, ++clients));
  metrics.registry.onCollect(() => {
    throw new Error('lag source down');
  });
  assert.match(metrics.registry.expose(), /^streamwatch_dashboard_clients 1$/m);
  assert.match(metrics.registry.expose(), /^streamwatch_dashboard_clients 2$/m);
});

test('the standard pipeline metrics use Prometheus names and the de-facto lag name', () => {
  const text = busyPipeline().registry.expose();
  assert.match(text, /^kafka_consumergroup_lag\{consumergroup="detect-cpu-mem",topic="topic-cpu",partition="0"\} 12$/m);
  assert.match(text, /^streamwatch_input_records_total\{topic="topic-cpu"\} 1200$/m);
  assert.match(text, /^streamwatch_window_emit_latency_seconds_bucket\{job="cpu-mem",le="\+Inf"\} 5$/m);
  assert.match(text, /^streamwatch_broker_request_errors_total\{api="OffsetCommit"\} 1$/m);
  for (const line of text.split('\n').filter((l) => l.startsWith('# TYPE'))) {
    const [, , name, type] = line.split(' ');
    assert.ok(name === 'kafka_consumergroup_lag' || name!.startsWith('streamwatch_'), name);
    if (type === 'counter') assert.ok(name!.endsWith('_total'), name);
  }
});

test('promtool check metrics accepts the exposition', { skip: PROMTOOL ? false : 'promtool is not installed (apt-get install prometheus): exposition not checked by Prometheus' }, () => {
  const text = busyPipeline().registry.expose();
  const result = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.error, undefined);
  // promtool prints lint findings (naming, units) and exits non-zero on any problem.
  assert.equal(`${result.stdout}${result.stderr}`.trim(), '');
  assert.equal(result.status, 0);
});
