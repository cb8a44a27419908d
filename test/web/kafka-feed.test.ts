// The standalone dashboard's Kafka feed against the embedded broker: history
// read back at start fills the hub, new records arrive live, lag of the
// pipeline's groups is measured, and only live incidents are notified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupConsumer, KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts';
import { FeedHub, type IncidentEvent } from '../../src/web/feed.ts';
import { startKafkaFeed } from '../../src/web/kafka-feed.ts';
import { createPipelineMetrics } from '../../src/web/pipeline-metrics.ts';
import { withBroker } from '../broker/helpers/broker.ts';

async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const incident = (key: string, state: string): string =>
  JSON.stringify({ detector: 'cpu-mem', key, alert: 'CPU spike suspected', start: '20:53:00', end: '20:53:30', windows: 1, peak: 90.5, state });

test('kafka feed: history, live records, lag, and notifications for live incidents only', { timeout: 45_000 }, async () => {
  await withBroker(async (broker) => {
    const brokers = [broker.address];
    const admin = await KafkaAdmin.connect({ brokers });
    const producer = await KafkaProducer.connect({ brokers });
    const abort = new AbortController();
    const hub = new FeedHub();
    const metrics = createPipelineMetrics();
    const notified: IncidentEvent[] = [];
    try {
      await admin.ensureTopics(['topic-cpu', 'incidents', 'streamwatch-rejects'], 1);
      await producer.send('streamwatch-rejects', null, JSON.stringify({ source: 'topic-mem:0', topic: 'topic-mem', partition: 0, offset: 3, reason: 'late: event time 20:00:00 is behind the watermark', value: '{}' }));
      await producer.send('streamwatch-rejects', null, JSON.stringify({ source: 'nginx-logs:1', topic: 'nginx-logs', partition: 1, offset: 9, reason: 'status 700 is outside 100-599', value: '{}' }));
      for (let s = 0; s < 6; s++) await producer.send('topic-cpu', 'server_1', JSON.stringify({ ts: `20:53:0${s}`, server_id: 'server_1', cpu_pct: 10 + s }));
      await producer.send('incidents', 'server_1', incident('server_1', 'opened'));
      await producer.flush();

      const feed = startKafkaFeed({ brokers, feed: hub, metrics, healthIntervalMs: 300, signal: abort.signal, onLiveIncident: (e) => notified.push(e) });
      await eventually(() => (hub.series('server_1')?.points.t.length ?? 0) === 6 && hub.incidentList().length === 1, 20_000, 'the history');
      assert.equal(feed.ready, true);

      await producer.send('incidents', 'server_2', incident('server_2', 'opened'));
      await producer.send('topic-cpu', 'server_1', JSON.stringify({ ts: '20:53:10', server_id: 'server_1', cpu_pct: 99 }));
      await producer.flush();
      await eventually(() => notified.length === 1 && (hub.series('server_1')?.points.t.length ?? 0) === 7, 10_000, 'the live records');
      assert.equal(notified[0]!.key, 'server_2', 'the incident of the history is shown but not notified again');

      // Some other group (a detector) committed part of topic-cpu: its lag is measured and exposed.
      const detector = await GroupConsumer.start({ brokers, groupId: 'detect-cpu-mem', topics: ['topic-cpu'], fallback: 'earliest' });
      await detector.commit([{ topic: 'topic-cpu', partition: 0, offset: 4 }]);
      await detector.close();
      await eventually(() => hub.snapshot().health?.lag.some((l) => l.group === 'detect-cpu-mem' && l.lag === 3) ?? false, 10_000, 'the lag reading');
      assert.match(metrics.registry.expose(), /^kafka_consumergroup_lag\{consumergroup="detect-cpu-mem",topic="topic-cpu",partition="0"\} 3$/m);
      assert.equal(metrics.inputRecords.get({ topic: 'topic-cpu' }), 7);
      assert.equal(metrics.outputRecords.get({ topic: 'incidents' }), 2, 'detector outputs count as output');
      assert.equal(metrics.inputRecords.get({ topic: 'incidents' }), 0);
      assert.equal(metrics.lateRecords.get({ job: 'cpu-mem' }), 1, 'a late dead letter of topic-mem is cpu-mem\'s');
      assert.equal(metrics.rejectedRecords.get({ job: 'nginx' }), 1);
      abort.abort();
      await feed.done;
    } finally {
      abort.abort();
      await producer.close();
      await admin.close();
    }
  });
});
