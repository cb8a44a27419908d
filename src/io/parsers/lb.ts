// Load-balancer log lines (SEMANTICS.md section 5):
//
//     2024-05-01T10:00:00.123Z lb-1 server_3 GET /files/a.txt 200 35
//
// instant, balancer id, backend server, method, path, status, latency in ms.
// Fields are separated by runs of spaces or tabs; exactly seven are
// required. The instant is ISO 8601 with `Z` or an offset (epoch seconds
// are accepted too); status is an integer 100-599; latency a finite decimal
// >= 0 (fractions of a millisecond allowed). Methods are case-sensitive, as
// in HTTP: `get` is not GET.

import type { LbEvent } from '../../jobs/lb-summary.ts';
import { parseEpochSeconds, parseIsoInstant } from '../../engine/time.ts';
import { parseNonNegative, parseStatus, quote, textProblem } from './fields.ts';
import type { Parsed } from './nginx.ts';

export type { LbEvent };

export function parseLbLine(line: string): Parsed<LbEvent> {
  const fields = line.trim().split(/[ \t]+/);
  if (fields.length !== 7) return { ok: false, reason: `expected 7 fields, found ${fields.length}` };
  const [timeText, balancer, backend, method, path, statusText, latencyText] = fields as [string, string, string, string, string, string, string];
  let instant = parseIsoInstant(timeText);
  if (Number.isNaN(instant)) instant = parseEpochSeconds(timeText);
  if (Number.isNaN(instant)) return { ok: false, reason: `time ${quote(timeText)} does not parse` };
  for (const [name, value] of [['balancer', balancer], ['backend', backend], ['method', method], ['path', path]] as const) {
    const problem = textProblem(name, value);
    if (problem !== null) return { ok: false, reason: problem };
  }
  const status = parseStatus(statusText);
  if (typeof status === 'string') return { ok: false, reason: status };
  const latency = parseNonNegative('latency', latencyText);
  if (typeof latency === 'string') return { ok: false, reason: latency };
  return { ok: true, event: { instant: Math.floor(instant), balancer, backend, method, path, status, latency } };
}
