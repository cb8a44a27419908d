// Server-metrics messages on Kafka (SEMANTICS.md section 1): one JSON object
// per message, `{"ts":"20:53:00","server_id":"server_1","cpu_pct":34.74}`.
// Validated with the same rules as CSV rows. Numbers are taken as the
// shortest decimal that reads back as the JSON number (exact for values of up
// to 15 significant digits, as every metric here is).

import { parseDecimal, type Units } from './decimal.ts';
import { metricValueProblem, serverIdProblem, type MetricField } from './metric-record.ts';
import { DayRollover, parseTime, type TimeKind } from './time.ts';

export interface MetricMessage {
  serverId: string;
  instant: number;
  kind: TimeKind;
  /** Values of the fields asked for, in the order asked. */
  units: Units[];
  scales: number[];
}

export type ParseResult = { ok: true; message: MetricMessage } | { ok: false; reason: string };

/**
 * Parses one message value. `rollover` belongs to the message's topic
 * partition: times of day are placed on that partition's timeline.
 */
export function parseMetricMessage(value: string, fields: readonly MetricField[], rollover: DayRollover): ParseResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'value is not a JSON object' };
  const record = parsed as Record<string, unknown>;
  const timeValue = record.ts ?? record.timestamp;
  if (timeValue === undefined) return { ok: false, reason: 'ts is missing' };
  const time = typeof timeValue === 'string' || typeof timeValue === 'number' ? parseTime(String(timeValue)) : null;
  if (time === null) return { ok: false, reason: `time ${JSON.stringify(timeValue)} does not parse` };
  const serverId = record.server_id;
  if (typeof serverId !== 'string') return { ok: false, reason: serverId === undefined ? 'server_id is missing' : 'server_id is not a string' };
  const idProblem = serverIdProblem(serverId);
  if (idProblem !== null) return { ok: false, reason: idProblem };
  const units: Units[] = [];
  const scales: number[] = [];
  for (const field of fields) {
    const raw = record[field];
    if (raw === undefined || raw === null) return { ok: false, reason: `${field} is missing` };
    const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
    if (typeof raw === 'number' && !Number.isFinite(raw)) return { ok: false, reason: `${field} is not finite` };
    const decimal = parseDecimal(text);
    if (decimal === null) {
      return { ok: false, reason: /^[+-]?(nan|inf(inity)?)$/i.test(text) ? `${field} '${text}' is not finite` : `${field} ${JSON.stringify(raw)} is not a number` };
    }
    const problem = metricValueProblem(field, decimal.units, decimal.scale);
    if (problem !== null) return { ok: false, reason: problem };
    units.push(decimal.units);
    scales.push(decimal.scale);
  }
  const instant = time.kind === 'time-of-day' ? rollover.place(time.ms) : time.ms;
  return { ok: true, message: { serverId, instant, kind: time.kind, units, scales } };
}
