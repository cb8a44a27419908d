// Streaming mode of the server-metrics detectors (`streamwatch detect
// cpu-mem|net-disk`): Kafka topics in, window rows and incidents out, on the
// same MetricStreamTask the tests compare with the batch jobs, run by the
// generic task runner (task-runner.ts: tasks per partition, checkpoints,
// exactly-once outputs). Partition p of both input topics is one task (the
// producer keys by server_id, so the two topics are co-partitioned).
// CSV files (`--out`, `--incidents`) are appended idempotently by row id.

import type { Incident } from '../../engine/incidents.ts';
import { formatUnits } from '../../engine/decimal.ts';
import { formatInstant, type TimeKind } from '../../engine/time.ts';
import type { WindowRow } from '../../jobs/metric-pair-detector.ts';
import { MetricStreamTask, type TaskCheckpoint } from '../../jobs/metric-stream-task.ts';
import type { MetricPairJob, Thresholds } from '../../jobs/metric-pairs.ts';
import { csvLine } from '../csv/fields.ts';
import { INCIDENTS_HEADER } from '../metric-batch.ts';
import { IdempotentCsv } from './idempotent-csv.ts';
import { writeIncident } from './incident-output.ts';
import { runStreamTasks, type OutputFile } from './task-runner.ts';

export interface MetricDetectOptions {
  job: MetricPairJob;
  brokers: readonly string[];
  group: string;
  thresholds: Thresholds;
  trimLeading: boolean;
  /** Allowed lateness, ms of event time. */
  lateness: number;
  /** Wall ms after which a quiet partition stops holding the watermark back. */
  idleTimeout: number;
  /** Event-time ms without records after which a server is reported silent (Infinity: never). */
  silenceAfter?: number;
  /** Partitions of topics this command creates. */
  partitions: number;
  out?: string;
  incidents?: string;
  /** Exit after this many wall ms without input, having emitted every open window. */
  untilIdleMs?: number;
  checkpointIntervalMs?: number;
  rejectsTopic?: string;
  incidentsTopic?: string;
  /** Stops the worker cleanly (flush, checkpoint, commit). */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /**
   * Identity of this worker across restarts (default: host, working directory
   * and output file): a task it held before a crash is taken back at once,
   * while a task another live worker still holds is waited for until that
   * worker releases it (or `handoffTimeoutMs` passes: it crashed).
   */
  owner?: string;
  handoffTimeoutMs?: number;
  /** Live consumers of the outputs (dashboard). */
  onRow?: (job: MetricPairJob, row: WindowRow, kind: TimeKind) => void;
  onIncident?: (incident: Incident, state: 'opened' | 'updated' | 'closed', kind: TimeKind) => void;
  /** Seconds from a row's emission to the broker's acknowledgement of it (see TaskRunnerOptions). */
  onEmitLatency?: (seconds: number) => void;
}

export interface MetricDetectSummary {
  read: number;
  rejected: number;
  late: number;
  rows: number;
  incidents: number;
  restores: number;
}

export async function runMetricDetect(options: MetricDetectOptions): Promise<MetricDetectSummary> {
  const { job } = options;
  const rowsTopic = job.outputTopic;
  const incidentsTopic = options.incidentsTopic ?? 'incidents';
  const rowsFile = options.out ? await IdempotentCsv.open(options.out, ['server_id', 'window_start', 'window_end', ...job.columns, 'alert'].join(','), (f) => `${f[0]}|${f[1]}`) : null;
  const incidentsFile = options.incidents ? await IdempotentCsv.open(options.incidents, INCIDENTS_HEADER, (f) => `${f[0]}|${f[1]}|${f[2]}|${f[3]}`) : null;
  const files: OutputFile[] = [rowsFile, incidentsFile].filter((f) => f !== null);
  let rows = 0;
  let incidents = 0;

  const ran = await runStreamTasks<TaskCheckpoint>({
    name: job.name,
    inputs: job.sides.map((s) => s.topic),
    outputs: [{ name: 'rows', topic: rowsTopic }, { name: 'incidents', topic: incidentsTopic }],
    outputId: (topic, text) => {
      if (topic === rowsTopic) {
        const value = JSON.parse(text || '{}') as { server_id?: string; window_start?: string };
        return `${value.server_id}|${value.window_start}`;
      }
      const v = JSON.parse(text || '{}') as { detector?: string; key?: string; alert?: string; start?: string; state?: string };
      return `${v.detector}|${v.key}|${v.alert}|${v.start}|${v.state}`;
    },
    files,
    ownerHint: options.out ?? '',
    createTask: (p, sink) => new MetricStreamTask(job, p, {
      thresholds: options.thresholds,
      trimLeading: options.trimLeading,
      lateness: options.lateness,
      idleTimeout: options.idleTimeout,
      silenceAfter: options.silenceAfter,
    }, {
      row: (row, kind) => {
        const start = formatInstant(row.start, kind);
        const fields = [row.key, start, formatInstant(row.end, kind), formatUnits(row.value0, job.digits), formatUnits(row.value1, job.digits), row.alert];
        const value = `{"server_id":${JSON.stringify(row.key)},"window_start":"${fields[1]}","window_end":"${fields[2]}","${job.columns[0]}":${fields[3]},"${job.columns[1]}":${fields[4]},"alert":${JSON.stringify(row.alert)}}`;
        sink.send(rowsTopic, row.key, value, `${row.key}|${start}`, true);
        rowsFile?.append(fields, csvLine(fields));
        rows++;
        options.onRow?.(job, row, kind);
      },
      incident: (incident, state, kind) => {
        options.onIncident?.(incident, state, kind);
        if (state === 'updated') return;
        const fields = [incident.detector, incident.key, incident.alert, formatInstant(incident.start, kind), formatInstant(incident.end, kind), String(incident.windows), formatUnits(incident.peakUnits, incident.peakScale)];
        if (writeIncident(sink, incidentsTopic, incidentsFile, incident, state, fields)) incidents++;
      },
      reject: (record, reason) => sink.reject(record, reason),
    }),
  }, options);
  return { ...ran, rows, incidents };
}
