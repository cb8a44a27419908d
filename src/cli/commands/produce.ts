// `streamwatch produce metrics`: replays a combined server-metrics CSV into
// topic-cpu, topic-mem, topic-net and topic-disk (SEMANTICS.md section 1).
// The file is streamed, rows are validated exactly as the batch jobs
// validate them (bad rows go to --rejects, never to Kafka), and pacing
// follows the data's own clock (--speed) or a fixed row rate (--rate).

import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError, StreamwatchError } from '../../errors.ts';
import { brokerOptions, brokers, flag, num, parse, required, str } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';
import { csvLine } from '../../io/csv/fields.ts';
import { FileWriter } from '../../io/csv/file-writer.ts';
import { LineReader } from '../../io/csv/line-reader.ts';
import { REJECTS_HEADER } from '../../io/metric-batch.ts';
import { MetricRowParser, metricColumns, readHeader } from '../../io/metric-csv.ts';
import { MetricEncoder } from '../../io/kafka-metrics.ts';
import { COMPRESSIONS, KafkaAdmin, KafkaProducer, type Acks, type Compression } from '../../kafka/index.ts';
import { Progress } from '../../io/kafka-progress.ts';

const usage = `usage: streamwatch produce metrics --file F [options]

Publishes each row of a combined metrics CSV (ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io)
as JSON to topic-cpu, topic-mem, topic-net and topic-disk, keyed by server_id. Missing topics are
created. Rows that fail validation go to --rejects and are never published.

  --file F            input CSV (streamed; any size)
  --speed X           1 = the data's own pace (one timestamp group per time step), 10 = ten times
                      faster, 0 = as fast as possible (default)
  --rate N            at most N rows per second (each row gives one message per topic)
  --partitions N      partitions of topics created here (default 3)
  --acks all|1|0      acknowledgement wanted from the broker (default all; idempotent with all)
  --compression C     lz4 (default), gzip, snappy or none
  --batch N           messages per produce request (default 4000)
  --linger MS         how long a partial batch waits for more (default 5)
  --rejects F         write rejected rows to F (source,line,reason,record)
  --no-progress       no progress bar (it is shown only on a terminal anyway)
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export async function run(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') {
    process.stdout.write(usage);
    return kind === undefined ? 2 : 0;
  }
  if (kind !== 'metrics') throw new UsageError(`produce: unknown dataset '${kind}' (expected metrics)`);
  const parsed = parse(rest, {
    ...brokerOptions,
    file: { type: 'string' },
    speed: { type: 'string' },
    rate: { type: 'string' },
    partitions: { type: 'string' },
    acks: { type: 'string' },
    compression: { type: 'string' },
    batch: { type: 'string' },
    linger: { type: 'string' },
    rejects: { type: 'string' },
    'no-progress': { type: 'boolean' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const file = required(parsed, 'file');
  if (str(parsed, 'speed') !== undefined && str(parsed, 'rate') !== undefined) throw new UsageError('--speed and --rate cannot be combined');
  const acksText = str(parsed, 'acks') ?? 'all';
  if (!['all', '-1', '1', '0'].includes(acksText)) throw new UsageError(`--acks: '${acksText}' is not all, 1 or 0`);
  const compression = str(parsed, 'compression') ?? 'lz4';
  if (!(COMPRESSIONS as readonly string[]).includes(compression)) throw new UsageError(`--compression: '${compression}' is not one of ${COMPRESSIONS.join(', ')}`);
  return produceMetrics({
    file,
    brokers: brokers(parsed),
    speed: num(parsed, 'speed', 0, (n) => Number.isFinite(n) && n >= 0),
    rate: num(parsed, 'rate', 0, (n) => Number.isFinite(n) && n > 0),
    partitions: num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000),
    acks: acksText === 'all' || acksText === '-1' ? 'all' : acksText === '1' ? 1 : 0,
    compression: compression as Compression,
    batchMessages: num(parsed, 'batch', 4000, (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000),
    lingerMs: num(parsed, 'linger', 5, (n) => Number.isFinite(n) && n >= 0 && n <= 60_000),
    rejects: str(parsed, 'rejects'),
    progress: !flag(parsed, 'no-progress') && process.stderr.isTTY === true,
  });
}

export interface ProduceMetricsOptions {
  file: string;
  brokers: string[];
  speed: number;
  rate: number;
  partitions: number;
  acks: Acks;
  compression: Compression;
  batchMessages: number;
  lingerMs: number;
  rejects: string | undefined;
  progress: boolean;
}

/** A pause shorter than this is carried over rather than slept (timers are coarse). */
const MIN_SLEEP_MS = 4;

async function produceMetrics(options: ProduceMetricsOptions): Promise<number> {
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const reader = await LineReader.open(options.file);
  let producer: KafkaProducer | null = null;
  let rejects: FileWriter | null = null;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = options.progress ? new Progress('produce') : null;
  let rows = 0;
  let rejected = 0;
  let sent = 0;
  try {
    const totalBytes = (await stat(options.file)).size;
    const header = await readHeader(reader);
    if (header === null) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${options.file}: the file is empty`);
    const columns = metricColumns(header, [], options.file);
    const encoder = new MetricEncoder(columns);
    if (encoder.topics.length === 0) throw new StreamwatchError('SW_ERR_INPUT_HEADER', `${options.file}: header '${header}' has no metric column (cpu_pct, mem_pct, net_in and net_out, disk_io)`);
    const parser = new MetricRowParser(columns, { kind: null });
    const topics = encoder.topics.map((t) => t.topic);

    const admin = await KafkaAdmin.connect({ brokers: options.brokers, retries: 1 });
    try {
      await admin.ensureTopics(topics, options.partitions);
    } finally {
      await admin.close();
    }
    producer = await KafkaProducer.connect({
      brokers: options.brokers,
      acks: options.acks,
      compression: options.compression,
      batchMessages: options.batchMessages,
      lingerMs: options.lingerMs,
    });
    await producer.useTopics(topics);
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
    progress?.start(() => ({ fraction: totalBytes > 0 ? handledBytes / totalBytes : 1, count: sent, unit: 'msgs' }));

    for (;;) {
      if (stopped) break;
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
        rejected++;
        const pending = rejects?.writeLine(csvLine([source, String(reader.lineNumber), parser.reason, reader.record()]));
        if (pending) await pending;
        continue;
      }
      const row = parser.row;
      if (options.speed > 0 && row.instant !== groupInstant) {
        // A new timestamp group: wait until its place on the replay clock.
        if (Number.isNaN(firstInstant)) firstInstant = row.instant;
        groupInstant = row.instant;
        const due = wallStart + (row.instant - firstInstant) / options.speed - performance.now();
        if (due >= MIN_SLEEP_MS) await sleep(due);
      } else if (options.rate > 0) {
        const due = wallStart + (rows * 1000) / options.rate - performance.now();
        if (due >= MIN_SLEEP_MS) await sleep(due);
      }
      rows++;
      const messages = encoder.encode(text, start, end, row);
      const values = messages.values;
      for (let t = 0; t < topics.length; t++) {
        const pending = producer.send(topics[t]!, messages.serverId, values[t]!);
        sent++;
        if (pending) await pending;
      }
    }
    await producer.close();
    await rejects?.close();
    rejects = null;
  } catch (error) {
    await producer?.abort();
    await rejects?.close().catch(() => {});
    throw error;
  } finally {
    progress?.stop();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await reader.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time too: on a shared machine it says more about the cost than the wall time.
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  finishLine(`produce metrics: sent ${sent} messages (${rows} rows), rejected ${rejected}${stopped ? ' (interrupted)' : ''} in ${elapsedSince(started)}, ${Math.round(sent / Math.max(seconds, 1e-3))} msgs/s, cpu ${cpuSeconds.toFixed(2)} s (${Math.round(sent / Math.max(cpuSeconds, 1e-3))} msgs per cpu-second)`);
  return 0;
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
