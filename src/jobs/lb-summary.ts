// The load-balancer summary of SEMANTICS.md section 5: tumbling 5-minute
// windows over all backends (one key), counting requests by method and
// outcome, with the exact mean latency half up to 1 decimal.

import { tumbling } from '../engine/windows.ts';
import type { Decimal } from '../engine/decimal.ts';
import type { PaneInput, PaneJob } from './pane-detector.ts';

/** One load-balancer request (src/io/parsers/lb.ts). */
export interface LbEvent {
  /** Epoch milliseconds (whole). */
  instant: number;
  balancer: string;
  backend: string;
  method: string;
  path: string;
  status: number;
  /** Milliseconds. */
  latency: Decimal;
}

/** The count columns, in output order; an event's category indexes it. */
export const LB_COUNT_COLUMNS = ['get_success', 'get_failure', 'post_success', 'post_failure', 'other'] as const;

export const LB_SUMMARY: PaneJob & { outputTopic: string; lateness: number; columns: readonly string[] } = {
  name: 'lb-summary',
  window: tumbling(5 * 60_000),
  aggregate: 'mean',
  digits: 1,
  categories: LB_COUNT_COLUMNS.length,
  threshold: null,
  alert: null,
  outputTopic: 'lb-summary',
  /** Allowed lateness of the streaming job. */
  lateness: 10 * 60_000,
  columns: ['window_start', 'window_end', ...LB_COUNT_COLUMNS, 'avg_latency_ms'],
};

/** Success means status < 400; `other` is every method besides GET and POST (case-sensitive). */
export function lbCategory(event: LbEvent): number {
  const failed = event.status >= 400 ? 1 : 0;
  if (event.method === 'GET') return failed;
  if (event.method === 'POST') return 2 + failed;
  return 4;
}

/** Fills `input` from an event: one key for all backends, the latency as value. */
export function lbInput(event: LbEvent, input: PaneInput): void {
  input.key = '';
  input.instant = event.instant;
  input.units = event.latency.units;
  input.scale = event.latency.scale;
  input.category = lbCategory(event);
}
