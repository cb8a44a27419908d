// The four NGINX goals of SEMANTICS.md section 4, declared on top of the
// pane window operator: which events count, the key, the window, the value
// and when a window is reported.

import { hopping, tumbling } from '../engine/windows.ts';
import type { PaneInput, PaneJob } from './pane-detector.ts';
import type { Decimal } from '../engine/decimal.ts';

/** One access event, from a JSON message or a log line (src/io/parsers/nginx.ts). */
export interface NginxEvent {
  /** Epoch milliseconds (whole: sub-millisecond digits are dropped). */
  instant: number;
  clientIp: string;
  /** Null for a combined line without a virtual host when no server name was given. */
  host: string | null;
  country: string;
  method: string;
  status: number;
  /** Seconds; null for a combined line without a request time. */
  requestTime: Decimal | null;
  server: string | null;
}

export type NginxGoalName = 'ip-burst' | 'host-4xx' | 'country-success' | 'host-latency';

export interface NginxGoal extends PaneJob {
  name: NginxGoalName;
  goal: 1 | 2 | 3 | 4;
  outputTopic: string;
  /** The event field the windows are keyed by, and the key column's name. */
  keyName: 'client_ip' | 'host' | 'country';
  /** The value column's name: the count, or the mean request time. */
  valueName: 'count' | 'avg_request_time';
  /** Which statuses count; null: every event. */
  statuses: readonly [number, number] | null;
}

export const IP_BURST: NginxGoal = {
  name: 'ip-burst',
  goal: 1,
  outputTopic: 'goal1-topic',
  keyName: 'client_ip',
  valueName: 'count',
  statuses: null,
  window: hopping({ size: 20_000, slide: 1_000 }),
  aggregate: 'count',
  digits: 0,
  categories: 0,
  threshold: 10,
  alert: 'count > 10',
};

export const HOST_4XX: NginxGoal = {
  name: 'host-4xx',
  goal: 2,
  outputTopic: 'goal2-topic',
  keyName: 'host',
  valueName: 'count',
  statuses: [400, 499],
  window: hopping({ size: 30_000, slide: 1_000 }),
  aggregate: 'count',
  digits: 0,
  categories: 0,
  threshold: 15,
  alert: 'count > 15',
};

export const COUNTRY_SUCCESS: NginxGoal = {
  name: 'country-success',
  goal: 3,
  outputTopic: 'goal3-topic',
  keyName: 'country',
  valueName: 'count',
  statuses: [200, 299],
  window: tumbling(60_000),
  aggregate: 'count',
  digits: 0,
  categories: 0,
  threshold: null,
  alert: null,
};

export const HOST_LATENCY: NginxGoal = {
  name: 'host-latency',
  goal: 4,
  outputTopic: 'goal4-topic',
  keyName: 'host',
  valueName: 'avg_request_time',
  statuses: null,
  window: tumbling(60_000),
  aggregate: 'mean',
  digits: 3,
  categories: 0,
  threshold: null,
  alert: null,
};

export const NGINX_GOALS: Record<NginxGoalName, NginxGoal> = {
  'ip-burst': IP_BURST,
  'host-4xx': HOST_4XX,
  'country-success': COUNTRY_SUCCESS,
  'host-latency': HOST_LATENCY,
};

/**
 * Fills `input` from an event for `goal`. Returns true when the event
 * counts, false when the goal's filter leaves it out, or a reason when the
 * event lacks what this goal needs (a combined log line without a virtual
 * host or request time).
 */
export function nginxInput(goal: NginxGoal, event: NginxEvent, input: PaneInput): boolean | string {
  const range = goal.statuses;
  if (range !== null && (event.status < range[0] || event.status > range[1])) return false;
  let key: string;
  if (goal.keyName === 'client_ip') key = event.clientIp;
  else if (goal.keyName === 'country') key = event.country;
  else if (event.host === null) return 'no virtual host in the line and no --server-name given';
  else key = event.host;
  input.key = key;
  input.instant = event.instant;
  input.category = -1;
  if (goal.aggregate === 'mean') {
    if (event.requestTime === null) return 'no request time in the line';
    input.units = event.requestTime.units;
    input.scale = event.requestTime.scale;
  } else {
    input.units = 0;
    input.scale = 0;
  }
  return true;
}
