// The standard metrics every streamwatch pipeline reports, registered on a
// registry the app passes in. Components take this object (or one of its
// hooks) as a parameter; they never import a registry themselves.
//
// Lag uses the de-facto name `kafka_consumergroup_lag{consumergroup,topic,
// partition}` (kafka_exporter's), so existing dashboards and alerts apply.

import { Histogram, MetricsRegistry, SECONDS_BUCKETS, type Counter, type Gauge } from './metrics-registry.ts';

export interface PipelineMetrics {
  readonly registry: MetricsRegistry;
  readonly inputRecords: Counter<'topic'>;
  readonly outputRecords: Counter<'topic'>;
  readonly lateRecords: Counter<'job'>;
  readonly rejectedRecords: Counter<'job'>;
  /** Seconds from a window's emission (the watermark passed its end) to the broker's acknowledgement of its output record. */
  readonly windowEmitLatency: Histogram<'job'>;
  readonly consumerLag: Gauge<'consumergroup' | 'topic' | 'partition'>;
  readonly openIncidents: Gauge<'detector'>;
  readonly brokerRequests: Counter<'api'>;
  readonly brokerRequestErrors: Counter<'api'>;
  readonly brokerRequestDuration: Histogram<'api'>;
  readonly alertNotifications: Counter<'target' | 'outcome'>;
  readonly sseClients: Gauge;
  readonly sseDroppedEvents: Counter;
}

export function createPipelineMetrics(registry: MetricsRegistry = new MetricsRegistry()): PipelineMetrics {
  return {
    registry,
    inputRecords: registry.counter({ name: 'streamwatch_input_records_total', help: 'Records read from each input topic.', labelNames: ['topic'] }),
    outputRecords: registry.counter({ name: 'streamwatch_output_records_total', help: 'Records written to each output topic.', labelNames: ['topic'] }),
    lateRecords: registry.counter({ name: 'streamwatch_late_records_total', help: 'Records older than the watermark for all their windows, sent to the rejects output.', labelNames: ['job'] }),
    rejectedRecords: registry.counter({ name: 'streamwatch_rejected_records_total', help: 'Invalid records sent to the rejects output.', labelNames: ['job'] }),
    windowEmitLatency: registry.histogram({
      name: 'streamwatch_window_emit_latency_seconds',
      help: 'Seconds from a window row being emitted (the watermark passed the window end) to the broker acknowledging its output record.',
      labelNames: ['job'],
      buckets: SECONDS_BUCKETS,
    }),
    consumerLag: registry.gauge({ name: 'kafka_consumergroup_lag', help: 'Records between the committed offset and the log end, per consumer group and partition.', labelNames: ['consumergroup', 'topic', 'partition'] }),
    openIncidents: registry.gauge({ name: 'streamwatch_open_incidents', help: 'Incidents currently open, per detector.', labelNames: ['detector'] }),
    brokerRequests: registry.counter({ name: 'streamwatch_broker_requests_total', help: 'Requests the embedded broker answered, per Kafka API.', labelNames: ['api'] }),
    brokerRequestErrors: registry.counter({ name: 'streamwatch_broker_request_errors_total', help: 'Broker responses carrying an error code, per Kafka API.', labelNames: ['api'] }),
    brokerRequestDuration: registry.histogram({ name: 'streamwatch_broker_request_duration_seconds', help: 'Time the embedded broker took to answer, per Kafka API.', labelNames: ['api'] }),
    alertNotifications: registry.counter({ name: 'streamwatch_alert_notifications_total', help: 'Alert notifications by target kind and outcome (sent, failed, dropped).', labelNames: ['target', 'outcome'] }),
    sseClients: registry.gauge({ name: 'streamwatch_dashboard_clients', help: 'Dashboard pages connected for live updates.' }),
    sseDroppedEvents: registry.counter({ name: 'streamwatch_dashboard_dropped_events_total', help: 'Live updates dropped because a dashboard client read too slowly.' }),
  };
}

/** What the broker calls once per answered request; a plain function so the broker needs no metrics import. */
export type BrokerRequestHook = (api: string, seconds: number, failed: boolean) => void;

export function brokerRequestHook(metrics: PipelineMetrics): BrokerRequestHook {
  return (api, seconds, failed) => {
    metrics.brokerRequests.inc({ api });
    metrics.brokerRequestDuration.observe({ api }, seconds);
    if (failed) metrics.brokerRequestErrors.inc({ api });
  };
}

export interface LagEntry {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** Replaces the lag gauge's series with a fresh reading (partitions that moved away disappear). */
export function recordLag(metrics: PipelineMetrics, entries: readonly LagEntry[]): void {
  metrics.consumerLag.clear();
  for (const e of entries) metrics.consumerLag.set({ consumergroup: e.group, topic: e.topic, partition: e.partition }, e.lag);
}
