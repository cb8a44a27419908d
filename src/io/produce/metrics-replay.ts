// Replays a combined server-metrics CSV into topic-cpu, topic-mem, topic-net
// and topic-disk (SEMANTICS.md section 1): what `streamwatch produce metrics`
// and `streamwatch up` run. The file is streamed, rows are validated exactly
// as the batch jobs validate them (bad rows go to the rejects file, never to
// Kafka), and pacing follows the data's own clock (speed) or a fixed row
// rate. An AbortSignal stops it cleanly: what was sent is flushed and
// acknowledged before it returns.

import { stat } from 'node:fs/promises';
import { StreamwatchError, UsageError } from '../../errors.ts';
import type { KafkaProducer } from '../../kafka/index.ts';
import { csvLine } from '../csv/fields.ts';
import { FileWriter } from '../csv/file-writer.ts';
import { LineReader } from '../csv/line-reader.ts';
import { MetricEncoder } from '../kafka-metrics.ts';
import { Progress } from '../kafka-progress.ts';
import { REJECTS_HEADER } from '../metric-batch.ts';
import { MetricRowParser, metricColumns, readHeader } from '../metric-csv.ts';
import { openPublisher, waitUntil, type PublishOptions } from './publisher.ts';

export interface MetricsReplayOptions extends PublishOptions {
  file: string;
  /** 1 = the data's own pace (one timestamp group per time step), 10 = ten times faster, 0 = as fast as possible (default). */
  speed?: number;
  /** At most this many rows per second (0: no limit; not with speed). */
  rate?: number;
  /** Rejected rows go here (source,line,reason,record). */
  rejects?: string;
  /** Valid rows passed over before publishing starts: a restarted replay resumes after what the topics already hold. */
  skipRows?: number;
  /** A progress line on stderr (for terminals). */
  progress?: boolean;
  /** Stops the replay cleanly. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface MetricsReplaySummary {
  /** Valid rows published. */
  rows: number;
  /** Valid rows passed over (skipRows). */
  skipped: number;
  rejected: number;
  /** Messages sent (one per topic a row). */
  sent: number;
  /** Messages the broker acknowledged. */
  acknowledged: number;
  /** True when the signal stopped it before the end of the file. */
  interrupted: boolean;
}

export async function replayMetrics(options: MetricsReplayOptions): Promise<MetricsReplaySummary> {
  const speed = options.speed ?? 0;
  const rate = options.rate ?? 0;
  const skipRows = options.skipRows ?? 0;
  const { signal } = options;
  if (speed > 0 && rate > 0) throw new UsageError('speed and rate cannot be combined');
  const reader = await LineReader.open(options.file);
  let producer: KafkaProducer | null = null;
  let rejects: FileWriter | null = null;
  const progress = options.progress ? new Progress('produce') : null;
  const summary: MetricsReplaySummary = { rows: 0, skipped: 0, rejected: 0, sent: 0, acknowledged: 0, interrupted: false };
  try {
    const totalBytes = (await stat(options.file)).size;
    const header = await readHeader(reader);
    if (header === null) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${options.file}: the file is empty`);
    const columns = metricColumns(header, [], options.file);
    const encoder = new MetricEncoder(columns);
    if (encoder.topics.length === 0) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${options.file}: header '${header}' has no metric column (cpu_pct, mem_pct, net_in and net_out, disk_io)`);
    const parser = new MetricRowParser(columns, { kind: null });
    const topics = encoder.topics.map((t) => t.topic);

    producer = await openPublisher(options, topics);
    if (options.rejects) {
      rejects = await FileWriter.create(options.rejects, 'latin1');
      rejects.writeLine(REJECTS_HEADER);
    }
    const source = Buffer.from(options.file, 'utf8').toString('latin1');
    const wallStart = performance.now();
    let firstInstant = Number.NaN;
    let groupInstant = Number.NaN;
    // Progress by the bytes of the records handled (latin1: one character a byte), not the bytes read ahead.
    let handledBytes = header.length + 1;
    progress?.start(() => ({ fraction: totalBytes > 0 ? handledBytes / totalBytes : 1, count: summary.sent, unit: 'msgs' }));

    for (;;) {
      if (signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const found = reader.nextRange();
      if (found === 0) {
        await reader.fill();
        continue;
      }
      if (found < 0) break;
      const text = reader.recordText;
      const start = reader.recordStart;
      const end = reader.recordEnd;
      handledBytes += end - start + 1;
      if (isBlank(text, start, end)) continue;
      if (!parser.parse(text, start, end)) {
        summary.rejected++;
        const pending = rejects?.writeLine(csvLine([source, String(reader.lineNumber), parser.reason, reader.record()]));
        if (pending) await pending;
        continue;
      }
      if (summary.skipped < skipRows) {
        if (++summary.skipped === skipRows) options.log?.(`passed over the first ${skipRows} valid rows (to line ${reader.lineNumber}), published before`);
        continue;
      }
      const row = parser.row;
      let due = Number.NaN;
      if (speed > 0 && row.instant !== groupInstant) {
        // A new timestamp group: wait until its place on the replay clock.
        if (Number.isNaN(firstInstant)) firstInstant = row.instant;
        groupInstant = row.instant;
        due = wallStart + (row.instant - firstInstant) / speed;
      } else if (rate > 0) {
        due = wallStart + (summary.rows * 1000) / rate;
      }
      if (!Number.isNaN(due) && !(await waitUntil(due, signal))) {
        summary.interrupted = true;
        break;
      }
      summary.rows++;
      const messages = encoder.encode(text, start, end, row);
      const values = messages.values;
      for (let t = 0; t < topics.length; t++) {
        const pending = producer.send(topics[t]!, messages.serverId, values[t]!);
        summary.sent++;
        if (pending) await pending;
      }
    }
    await producer.close();
    summary.acknowledged = producer.acknowledged;
    producer = null;
    await rejects?.close();
    rejects = null;
  } catch (error) {
    await producer?.abort();
    await rejects?.close().catch(() => {});
    throw error;
  } finally {
    progress?.stop();
    await reader.close();
  }
  return summary;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
