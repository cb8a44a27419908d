// The two server-metrics detectors of the original assignment, declared on
// top of the engine: which metrics are joined, how each window aggregates
// them, the thresholds and the alert texts (SEMANTICS.md section 3).

import { parseDecimal, type Decimal, type Units } from '../engine/decimal.ts';
import type { MetricField } from '../engine/metric-record.ts';
import { alertSubject, exceeds, pairAlert, type PairRule } from '../engine/rules.ts';
import { hopping, type WindowSpec } from '../engine/windows.ts';
import type { SideAggregate } from '../engine/paired-windows.ts';

export interface MetricSide {
  /** Name of the per-topic input (`--cpu`) and of the Kafka topic (`topic-cpu`). */
  name: 'cpu' | 'mem' | 'net' | 'disk';
  topic: string;
  /** The field this job aggregates. */
  field: MetricField;
  /** Every field a message of this topic carries, in CSV column order. */
  fields: readonly MetricField[];
  /** Command-line flag of its threshold. */
  thresholdFlag: string;
  defaultThreshold: string;
}

export interface MetricPairJob {
  name: 'cpu-mem' | 'net-disk';
  sides: readonly [MetricSide, MetricSide];
  aggregate: SideAggregate;
  window: WindowSpec;
  digits: number;
  columns: readonly [string, string];
  rule: PairRule;
  outputTopic: string;
}

export const SIDES: Record<MetricSide['name'], MetricSide> = {
  cpu: { name: 'cpu', topic: 'topic-cpu', field: 'cpu_pct', fields: ['cpu_pct'], thresholdFlag: 'cpu-threshold', defaultThreshold: '83.45' },
  mem: { name: 'mem', topic: 'topic-mem', field: 'mem_pct', fields: ['mem_pct'], thresholdFlag: 'mem-threshold', defaultThreshold: '78.92' },
  net: { name: 'net', topic: 'topic-net', field: 'net_in', fields: ['net_in', 'net_out'], thresholdFlag: 'net-threshold', defaultThreshold: '4149.79' },
  disk: { name: 'disk', topic: 'topic-disk', field: 'disk_io', fields: ['disk_io'], thresholdFlag: 'disk-threshold', defaultThreshold: '1925.47' },
};

const thirtyByTen = hopping({ size: 30_000, slide: 10_000 });

export const CPU_MEM: MetricPairJob = {
  name: 'cpu-mem',
  sides: [SIDES.cpu, SIDES.mem],
  aggregate: 'mean',
  window: thirtyByTen,
  digits: 2,
  columns: ['avg_cpu', 'avg_mem'],
  rule: { both: 'High CPU + Memory stress', first: 'CPU spike suspected', second: 'Memory saturation suspected' },
  outputTopic: 'alerts-cpu-mem',
};

export const NET_DISK: MetricPairJob = {
  name: 'net-disk',
  sides: [SIDES.net, SIDES.disk],
  aggregate: 'max',
  window: thirtyByTen,
  digits: 2,
  columns: ['max_net_in', 'max_disk_io'],
  rule: { both: 'Network flood + Disk thrash suspected', first: 'Possible DDoS', second: 'Disk thrash suspected' },
  outputTopic: 'alerts-net-disk',
};

export const METRIC_PAIR_JOBS = { 'cpu-mem': CPU_MEM, 'net-disk': NET_DISK } as const;

export type Thresholds = readonly [Decimal, Decimal];

export function parseThreshold(text: string): Decimal | null {
  const value = parseDecimal(text.trim());
  return value;
}

export function defaultThresholds(job: MetricPairJob): Thresholds {
  return [parseDecimal(job.sides[0].defaultThreshold)!, parseDecimal(job.sides[1].defaultThreshold)!];
}

/** The alert text for a window's two rounded values. */
export function alertFor(job: MetricPairJob, thresholds: Thresholds, value0: Units, value1: Units): string {
  return pairAlert(job.rule, exceeds(value0, job.digits, thresholds[0]), exceeds(value1, job.digits, thresholds[1]));
}

/** The value an incident's peak follows for an alert. */
export function peakOf(job: MetricPairJob, alert: string, value0: Units, value1: Units): Units {
  return alertSubject(job.rule, alert) === 0 ? value0 : value1;
}
