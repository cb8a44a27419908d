// How every streaming detector writes an incident: an `opened` and a
// `closed` record on the incidents topic (each once, by its id), and the
// closed incident as a CSV row in the batch jobs' format.

import type { Incident } from '../../engine/incidents.ts';
import { csvLine } from '../csv/fields.ts';
import type { IdempotentCsv } from './idempotent-csv.ts';
import type { TaskSink } from './task-runner.ts';

/**
 * `fields` are the incident as its CSV columns (detector, key, alert, start,
 * end, windows, peak). Updates of an open incident are not written. Returns
 * true when the incident closed.
 */
export function writeIncident(sink: TaskSink, topic: string, file: IdempotentCsv | null, incident: Incident, state: 'opened' | 'updated' | 'closed', fields: string[]): boolean {
  if (state === 'updated') return false;
  const value = JSON.stringify({ detector: fields[0], key: fields[1], alert: fields[2], start: fields[3], end: fields[4], windows: incident.windows, peak: Number(fields[6]), state });
  sink.send(topic, incident.key, value, `${fields.slice(0, 4).join('|')}|${state}`, false);
  if (state !== 'closed') return false;
  file?.append(fields, csvLine(fields));
  return true;
}
