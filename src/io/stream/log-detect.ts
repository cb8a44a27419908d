// Streaming mode of the log jobs, on the generic task runner (task-runner.ts:
// tasks per partition, checkpoints, exactly-once outputs):
//
// - `streamwatch detect nginx`: topic nginx-logs (JSON events or combined log
//   lines, as `job nginx` reads them), the four goals of SEMANTICS.md
//   section 4 at once (one PaneDetector each, fed by one parse of each
//   message); rows as JSON to goal1-topic .. goal4-topic, incidents to
//   `incidents`; `--out DIR` appends DIR/<goal>.csv with the columns of
//   `job nginx --detector <goal>`, idempotently by row id. The goals are
//   keyed by different fields (client, host, country), so no partitioning of
//   the input by one of them keeps every goal's keys apart: one task reads
//   every partition (scaling out would need a repartition per goal key).
// - `streamwatch detect lb-summary`: topic lb-logs, 5-minute summaries over
//   every backend, so one task reads every partition; rows as JSON to
//   `lb-summary`; `--out F` is rewritten whole and sorted after each batch
//   that emitted a window (temporary file and rename).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Incident } from '../../engine/incidents.ts';
import type { PaneWindowResult } from '../../engine/pane-windows.ts';
import { formatIso } from '../../engine/time.ts';
import { StreamwatchError } from '../../errors.ts';
import { LB_COUNT_COLUMNS, LB_SUMMARY, lbInput, type LbEvent } from '../../jobs/lb-summary.ts';
import { LogStreamTask, type LogStreamJob, type LogTaskCheckpoint } from '../../jobs/log-stream-task.ts';
import { NGINX_GOALS, nginxInput, type NginxEvent, type NginxGoal, type NginxGoalName } from '../../jobs/nginx-goals.ts';
import { csvLine } from '../csv/fields.ts';
import { LB_BATCH_JOB, nginxBatchJob } from '../log-batch.ts';
import { INCIDENTS_HEADER } from '../metric-batch.ts';
import { parseLbLine } from '../parsers/lb.ts';
import { parseNginxLine } from '../parsers/nginx.ts';
import { IdempotentCsv } from './idempotent-csv.ts';
import { writeIncident } from './incident-output.ts';
import { RewrittenCsv } from './rewritten-csv.ts';
import { runStreamTasks, type OutputFile, type TaskRunnerOptions, type TaskRunnerSummary } from './task-runner.ts';

/** Options every streaming log job takes, beyond the runner's. */
export interface LogDetectOptions extends TaskRunnerOptions {
  /** Allowed lateness, ms of event time. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
  /** Input topic (default nginx-logs / lb-logs). */
  inputTopic?: string;
}

export interface NginxDetectOptions extends LogDetectOptions {
  /** Goals to run (default all four, in goal order). */
  goals?: readonly NginxGoalName[];
  /** Host of combined log lines without a virtual host (as `job nginx --server-name`). */
  serverName?: string | null;
  /** Directory of one CSV per goal, `<goal>.csv`, as `job nginx --detector <goal> --out` writes it. */
  outDir?: string;
  /** Closed incidents as CSV, as `job nginx --incidents` writes them. */
  incidents?: string;
  incidentsTopic?: string;
  /** Live consumers of the outputs (dashboard): the row as its CSV fields too. */
  onRow?: (goal: NginxGoal, row: PaneWindowResult, fields: readonly string[]) => void;
  onIncident?: (incident: Incident, state: 'opened' | 'updated' | 'closed') => void;
}

export interface NginxDetectSummary extends TaskRunnerSummary {
  /** Rows emitted per goal. */
  rows: Record<string, number>;
  incidents: number;
}

export const NGINX_TOPIC = 'nginx-logs';
export const LB_TOPIC = 'lb-logs';

const ALL_GOALS = Object.keys(NGINX_GOALS) as NginxGoalName[];

/** The state topic's job name: the goal set is part of it, since a checkpoint's offsets hold for the goals that were run. */
function nginxJobName(goals: readonly NginxGoalName[]): string {
  return goals.length === ALL_GOALS.length ? 'nginx' : `nginx.${goals.join('+')}`;
}

function incidentFields(incident: Incident): string[] {
  return [incident.detector, incident.key, incident.alert, formatIso(incident.start), formatIso(incident.end), String(incident.windows), String(incident.peakUnits)];
}

/** The NGINX goals `names` as one streaming log job over `topic`. */
export function nginxStreamJob(names: readonly NginxGoalName[], serverName: string | null, topic = NGINX_TOPIC): LogStreamJob<NginxEvent> {
  const goals = names.map((name) => NGINX_GOALS[name]);
  return {
    name: nginxJobName(names),
    topic,
    parse: (value) => parseNginxLine(value, serverName),
    instant: (event) => event.instant,
    goals: goals.map((goal) => ({ pane: goal, fill: (event, input) => nginxInput(goal, event, input) })),
  };
}

/** lb-summary as a streaming log job over `topic`. */
export function lbStreamJob(topic = LB_TOPIC): LogStreamJob<LbEvent> {
  return {
    name: LB_SUMMARY.name,
    topic,
    parse: parseLbLine,
    instant: (event) => event.instant,
    goals: [{ pane: LB_SUMMARY, fill: (event, input) => (lbInput(event, input), true) }],
  };
}

export async function runNginxDetect(options: NginxDetectOptions): Promise<NginxDetectSummary> {
  const names = ALL_GOALS.filter((name) => (options.goals ?? ALL_GOALS).includes(name));
  const goals = names.map((name) => NGINX_GOALS[name]);
  const formats = goals.map((goal) => nginxBatchJob(goal, options.serverName ?? null));
  const incidentsTopic = options.incidentsTopic ?? 'incidents';
  const job = nginxStreamJob(names, options.serverName ?? null, options.inputTopic ?? NGINX_TOPIC);

  const files: OutputFile[] = [];
  const goalFiles: Array<IdempotentCsv | null> = [];
  let incidentsFile: IdempotentCsv | null = null;
  try {
    if (options.outDir !== undefined) {
      await mkdir(options.outDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write ${options.outDir}: ${error.code ?? error.message} (--out is a directory for detect nginx)`, { cause: error });
      });
    }
    for (const [i, goal] of goals.entries()) {
      const file = options.outDir === undefined ? null : await IdempotentCsv.open(join(options.outDir, `${goal.name}.csv`), formats[i]!.header.join(','), (f) => `${f[2]}|${f[0]}`);
      goalFiles.push(file);
      if (file) files.push(file);
    }
    if (options.incidents !== undefined) {
      incidentsFile = await IdempotentCsv.open(options.incidents, INCIDENTS_HEADER, (f) => `${f[0]}|${f[1]}|${f[2]}|${f[3]}`);
      files.push(incidentsFile);
    }
  } catch (error) {
    for (const file of files) await file.close().catch(() => {});
    throw error;
  }

  const rows: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  let incidents = 0;
  const ran = await runStreamTasks<LogTaskCheckpoint>({
    name: job.name,
    inputs: [job.topic],
    singleTask: true,
    outputs: [...goals.map((goal) => ({ name: goal.name, topic: goal.outputTopic })), { name: 'incidents', topic: incidentsTopic }],
    outputId: (topic, text) => {
      const v = JSON.parse(text || '{}') as Record<string, unknown>;
      if (topic === incidentsTopic) return `${v.detector}|${v.key}|${v.alert}|${v.start}|${v.state}`;
      const goal = goals.find((g) => g.outputTopic === topic);
      return `${goal === undefined ? '' : v[goal.keyName]}|${v.window_start}`;
    },
    files,
    ownerHint: options.outDir ?? options.incidents ?? '',
    createTask: (p, sink, partitions) => new LogStreamTask(job, p, partitions, options, {
      row: (i, result) => {
        const goal = goals[i]!;
        const fields = formats[i]!.fields(result);
        const value = `{"window_start":"${fields[0]}","window_end":"${fields[1]}",${JSON.stringify(goal.keyName)}:${JSON.stringify(fields[2])},"${goal.valueName}":${fields[3]}}`;
        sink.send(goal.outputTopic, fields[2]!, value, `${fields[2]}|${fields[0]}`, true);
        goalFiles[i]?.append(fields, csvLine(fields));
        rows[goal.name]!++;
        options.onRow?.(goal, result, fields);
      },
      incident: (_i, incident, state) => {
        options.onIncident?.(incident, state);
        if (state !== 'updated' && writeIncident(sink, incidentsTopic, incidentsFile, incident, state, incidentFields(incident))) incidents++;
      },
      reject: (record, reason) => sink.reject(record, reason),
    }),
  }, options);
  return { ...ran, rows, incidents };
}

export interface LbDetectOptions extends LogDetectOptions {
  /** The summaries as CSV, as `job lb-summary --out` writes it, rewritten whole after each batch that emitted one. */
  out?: string;
  outputTopic?: string;
  onRow?: (row: PaneWindowResult, fields: readonly string[]) => void;
}

export interface LbDetectSummary extends TaskRunnerSummary {
  rows: number;
}

export async function runLbDetect(options: LbDetectOptions): Promise<LbDetectSummary> {
  const outputTopic = options.outputTopic ?? LB_SUMMARY.outputTopic;
  const job = lbStreamJob(options.inputTopic ?? LB_TOPIC);
  const out = options.out === undefined ? null : await RewrittenCsv.open(options.out, LB_BATCH_JOB.header.join(','), (f) => f[0]!, (a, b) => Date.parse(a[0]!) - Date.parse(b[0]!));
  let rows = 0;
  const ran = await runStreamTasks<LogTaskCheckpoint>({
    name: job.name,
    inputs: [job.topic],
    singleTask: true,
    outputs: [{ name: 'rows', topic: outputTopic }],
    outputId: (_topic, text) => String((JSON.parse(text || '{}') as { window_start?: string }).window_start),
    files: out === null ? [] : [out],
    ownerHint: options.out ?? '',
    createTask: (p, sink, partitions) => new LogStreamTask(job, p, partitions, options, {
      row: (_i, result) => {
        const fields = LB_BATCH_JOB.fields(result);
        const counts = LB_COUNT_COLUMNS.map((name, c) => `"${name}":${fields[2 + c]}`).join(',');
        const value = `{"window_start":"${fields[0]}","window_end":"${fields[1]}",${counts},"avg_latency_ms":${fields[fields.length - 1]}}`;
        sink.send(outputTopic, fields[0]!, value, fields[0]!, true);
        out?.put(fields);
        rows++;
        options.onRow?.(result, fields);
      },
      incident: () => {},
      reject: (record, reason) => sink.reject(record, reason),
    }),
  }, options);
  return { ...ran, rows };
}
