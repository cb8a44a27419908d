// `streamwatch collect`: live metrics of the machine it runs on, read from
// /proc every interval and published to topic-cpu, topic-mem, topic-net and
// topic-disk exactly as `produce metrics` publishes a row of the dataset
// (same validation, same encoder, key = server_id). Also callable in
// process (`up --live`): give it a signal to stop it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatIso } from '../../engine/time.ts';
import { StreamwatchError } from '../../errors.ts';
import { KafkaAdmin, KafkaProducer } from '../../kafka/index.ts';
import { COMBINED_HEADER } from '../generators/metrics-csv.ts';
import { MetricEncoder } from '../kafka-metrics.ts';
import { MetricRowParser, metricColumns } from '../metric-csv.ts';
import { computeSample, parseReading, type ProcReading, type ProcTexts, type SampleValues } from './sample.ts';

export interface CollectorOptions {
  /** Time between readings, ms. */
  intervalMs: number;
  /** Kafka key and server_id of every message (see serverIdFromHostname). */
  serverId: string;
  /** Where the proc files are (default /proc; tests give a directory of fixtures). */
  procRoot?: string;
  /** Interfaces counted for net_in/net_out; default every one but lo. */
  interfaces?: readonly string[] | null;
  /** Publish to these brokers; without them samples only go to onSample (--print). */
  brokers?: readonly string[];
  /** Partitions of the metric topics created here (default 3). */
  partitions?: number;
  /** Stop after this many intervals (each one a sample or a skip). */
  count?: number;
  /** Stop once this much time has passed (ms); the last interval ends within it. */
  durationMs?: number;
  /** Stops the collector cleanly: the sample under way is published, the producer flushed. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Each sample published (or printed): its values and its row of the combined CSV. */
  onSample?: (sample: CollectedSample) => void;
  /** Each interval that gave no sample, with the reason (also logged). */
  onSkip?: (reason: string) => void;
  /** Wall clock (ms since the epoch) for the timestamps; default Date.now. */
  now?: () => number;
}

export interface CollectedSample {
  ts: string;
  serverId: string;
  values: SampleValues;
  /** The row as in a combined metrics CSV (COMBINED_HEADER). */
  row: string;
}

export interface CollectorSummary {
  serverId: string;
  samples: number;
  skipped: number;
  /** Samples the row validator refused (never expected; counted rather than published). */
  rejected: number;
  /** Kafka messages acknowledged (4 a sample when publishing). */
  messages: number;
}

const FILES: Record<keyof ProcTexts, string> = { stat: 'stat', meminfo: 'meminfo', netDev: 'net/dev', diskstats: 'diskstats' };

/** Reads the four files under `procRoot`. */
export async function readProcTexts(procRoot: string): Promise<ProcTexts> {
  const [stat, meminfo, netDev, diskstats] = await Promise.all(Object.values(FILES).map((f) => readFile(join(procRoot, f), 'utf8')));
  return { stat: stat!, meminfo: meminfo!, netDev: netDev!, diskstats: diskstats! };
}

export async function runCollector(options: CollectorOptions): Promise<CollectorSummary> {
  const { intervalMs, serverId, signal } = options;
  const procRoot = options.procRoot ?? '/proc';
  const interfaces = options.interfaces ?? null;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const summary: CollectorSummary = { serverId, samples: 0, skipped: 0, rejected: 0, messages: 0 };

  const read = async (): Promise<{ ok: true; value: ProcReading } | { ok: false; reason: string }> => {
    let texts: ProcTexts;
    try {
      texts = await readProcTexts(procRoot);
    } catch (error) {
      return { ok: false, reason: `cannot read ${procRoot}: ${(error as Error).message}` };
    }
    return parseReading(texts, performance.now(), now());
  };

  // A host without /proc (not Linux) or with files we cannot read fails here, before any connection.
  const first = await read();
  if (!first.ok) throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `collect needs Linux /proc: ${first.reason}`);
  if (interfaces !== null) {
    const missing = interfaces.filter((name) => !first.value.net.has(name));
    if (missing.length > 0) log(`interface ${missing.join(', ')} not found in ${join(procRoot, 'net/dev')} (counted if it appears)`);
  }

  // The same path as `produce metrics`: a row of the combined CSV, validated, then encoded per topic.
  const columns = metricColumns(COMBINED_HEADER, [], 'collect');
  const parser = new MetricRowParser(columns, { kind: null });
  const encoder = new MetricEncoder(columns);
  const topics = encoder.topics.map((t) => t.topic);
  let producer: KafkaProducer | null = null;
  if (options.brokers !== undefined) {
    const admin = await KafkaAdmin.connect({ brokers: options.brokers, retries: 1 });
    try {
      await admin.ensureTopics(topics, options.partitions ?? 3);
    } finally {
      await admin.close();
    }
    producer = await KafkaProducer.connect({ brokers: options.brokers, acks: 'all', lingerMs: 1 });
    await producer.useTopics(topics);
  }

  try {
    let baseline = signal?.aborted ? null : await read();
    if (baseline !== null && !baseline.ok) throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `collect needs Linux /proc: ${baseline.reason}`);
    const started = performance.now();
    let nextAt = started;
    let intervals = 0;
    while (baseline !== null && !signal?.aborted && intervals < (options.count ?? Number.POSITIVE_INFINITY)) {
      // Ticks stay on the grid started + k * interval; ticks missed on a busy machine are skipped
      // (rates divide by the time that really passed, so they stay right).
      nextAt += intervalMs;
      while (nextAt < performance.now()) nextAt += intervalMs;
      if (options.durationMs !== undefined && nextAt - started > options.durationMs) break;
      try {
        await sleep(nextAt - performance.now(), undefined, { signal });
      } catch {
        break; // aborted: stop without a partial interval
      }
      intervals++;
      const current = await read();
      if (!current.ok) {
        skip(current.reason); // baseline kept: the next sample covers two intervals
        continue;
      }
      const result = computeSample(baseline.value, current.value, { interfaces });
      for (const note of result.notes) log(note);
      baseline = current;
      if (!result.ok) {
        skip(`${result.reason}; sample skipped, counting again from this reading`);
        continue;
      }
      const ts = formatIso(current.value.wallMs);
      const { values } = result;
      const row = `${ts},${serverId},${values.cpu_pct},${values.mem_pct},${values.net_in},${values.net_out},${values.disk_io}`;
      if (!parser.parse(row)) {
        summary.rejected++;
        log(`sample rejected by the row validator: ${parser.reason} (${row})`);
        continue;
      }
      if (producer !== null) {
        const messages = encoder.encode(row, 0, row.length, parser.row);
        for (let t = 0; t < topics.length; t++) {
          const pending = producer.send(topics[t]!, messages.serverId, messages.values[t]!);
          if (pending) await pending;
        }
        // Live data: each sample is sent and acknowledged before the next interval.
        await producer.flush();
        summary.messages += topics.length;
      }
      summary.samples++;
      options.onSample?.({ ts, serverId, values, row });
    }
    await producer?.close();
    producer = null;
  } finally {
    await producer?.abort();
  }
  return summary;

  function skip(reason: string): void {
    summary.skipped++;
    log(`skipped a sample: ${reason}`);
    options.onSkip?.(reason);
  }
}
