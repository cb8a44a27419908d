// Validation rules of server-metrics records (SEMANTICS.md section 1), shared
// by every input path: CSV files, Kafka messages, live collectors.

import { compareDecimal, type Units } from './decimal.ts';

export type MetricField = 'cpu_pct' | 'mem_pct' | 'net_in' | 'net_out' | 'disk_io';

export const METRIC_FIELDS: readonly MetricField[] = ['cpu_pct', 'mem_pct', 'net_in', 'net_out', 'disk_io'];

/** Percentages must lie in [0, 100]; the other metrics must not be negative. */
const UPPER_BOUND: Partial<Record<MetricField, number>> = { cpu_pct: 100, mem_pct: 100 };

export const MAX_SERVER_ID_LENGTH = 128;

/** Why a server id is invalid, or null when it is fine: 1-128 characters of A-Z a-z 0-9 _ . : - */
export function serverIdProblem(id: string): string | null {
  if (id.length === 0) return 'server_id is empty';
  if (id.length > MAX_SERVER_ID_LENGTH) return `server_id is longer than ${MAX_SERVER_ID_LENGTH} characters`;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 58) /* 0-9 : */ || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;
    if (!ok) return `server_id holds a character outside A-Z a-z 0-9 _ . : - (${JSON.stringify(id[i])})`;
  }
  return null;
}

/** Why a parsed metric value is out of range, or null when it is fine. */
export function metricValueProblem(field: MetricField, units: Units, scale: number): string | null {
  if (units < 0) return `${field} is negative`;
  const upper = UPPER_BOUND[field];
  if (upper !== undefined && compareDecimal(units, scale, upper, 0) > 0) return `${field} is above ${upper}`;
  return null;
}
