// streamwatch archive: detector outputs (window rows, incidents) consumed
// into time-partitioned CSV files, each replaced atomically at every tick;
// Kafka offsets are committed only after the tick's files are in place.
import { brokerOptions, brokers, flag, num, parse, required, str } from '../args.ts';
import { StreamwatchError, UsageError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin, type PartitionOffset } from '../../kafka/index.ts';
import { ArchiveWriter } from '../../io/archive.ts';
import { parseDuration } from '../../io/sql/cli-options.ts';
import { elapsedSince, finishLine } from '../report.ts';

const help = `usage: streamwatch archive --topics T1,T2 --dir DIR [options]

Files the JSON rows of detector topics (alerts-cpu-mem, alerts-net-disk,
goal1-topic..goal4-topic, incidents) into CSV files
DIR/<topic>/<yyyy-mm-dd>/<HHMM>.csv by the row's window start (incidents: start;
rows without a time: arrival time). Times of day go on the reference date
1970-01-01 (1970-01-02 after midnight), as in the database. Every --every, each
file that got rows is rewritten whole (temporary file + rename), then offsets
are committed.

options:
  --topics LIST             topics to archive (required)
  --dir DIR                 archive directory (required)
  --every D                 how often files are rewritten (default 5m)
  --bucket D                time span of one file, whole minutes dividing a day (default 5m)
  -b, --brokers LIST        Kafka brokers (default: env KAFKA_BROKERS, else 127.0.0.1:9092)
  --group G                 consumer group (default streamwatch-archive)
  --until-idle S            stop after S seconds without new records, everything written
  --partitions N            partitions of topics created here when missing (default 3, as produce)
  -h, --help                this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    topics: { type: 'string' },
    dir: { type: 'string' },
    every: { type: 'string' },
    bucket: { type: 'string' },
    group: { type: 'string' },
    'until-idle': { type: 'string' },
    partitions: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(help);
    return 0;
  }
  const topics = required(parsed, 'topics').split(',').map((t) => t.trim()).filter(Boolean);
  if (topics.length === 0) throw new UsageError('--topics: empty list');
  const dir = required(parsed, 'dir');
  const everyMs = parseDuration('every', str(parsed, 'every') ?? '5m');
  if (everyMs < 100) throw new UsageError('--every: at least 100ms');
  const bucketMs = parseDuration('bucket', str(parsed, 'bucket') ?? '5m');
  if (bucketMs < 60_000 || bucketMs % 60_000 !== 0 || 86_400_000 % bucketMs !== 0) throw new UsageError('--bucket: whole minutes that divide a day (1m, 5m, 15m, 1h, ...)');
  const idleText = str(parsed, 'until-idle');
  const untilIdleMs = idleText === undefined ? undefined : parseDuration('until-idle', idleText);
  const partitions = num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000);
  const brokerList = brokers(parsed);
  const groupId = str(parsed, 'group') ?? 'streamwatch-archive';

  const started = process.hrtime.bigint();
  let writer: ArchiveWriter;
  try {
    writer = new ArchiveWriter(dir, bucketMs);
  } catch (error) {
    throw new StreamwatchError('SW_ERR_STATE', `cannot read the archive state in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const log = (line: string): void => void process.stderr.write(`streamwatch archive: ${line}\n`);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Missing topics are created as produce would, so the archive may start first.
  const admin = await KafkaAdmin.connect({ brokers: brokerList });
  try {
    const created = await admin.ensureTopics(topics, partitions);
    if (created.length > 0) log(`created topics ${created.join(',')} (${partitions} partitions)`);
  } finally {
    await admin.close();
  }
  const consumer = await GroupConsumer.start({ brokers: brokerList, groupId, topics });
  const next = new Map<string, PartitionOffset>();
  const tick = async (): Promise<void> => {
    if (next.size === 0) return;
    let written: string[];
    try {
      written = writer.flush();
    } catch (error) {
      throw new StreamwatchError('SW_ERR_OUTPUT', `writing the archive in ${dir}: ${(error as Error).message}`, { cause: error });
    }
    if (written.length > 0) log(`wrote ${written.join(', ')}`);
    try {
      await consumer.commit([...next.values()]);
    } catch (error) {
      log(`committing offsets failed (the files are written; the records may come again, harmlessly): ${(error as Error).message}`);
    }
    next.clear();
  };
  try {
    let lastRecordAt = Date.now();
    let lastTick = Date.now();
    while (!controller.signal.aborted) {
      const waitMs = Math.max(1, Math.min(1000, lastTick + everyMs - Date.now()));
      const records = await consumer.poll(waitMs);
      for (const record of records) {
        writer.add(record);
        next.set(`${record.topic}:${record.partition}`, { topic: record.topic, partition: record.partition, offset: record.offset + 1 });
      }
      const now = Date.now();
      if (records.length > 0) lastRecordAt = now;
      if (now - lastTick >= everyMs) {
        await tick();
        lastTick = now;
      }
      if (untilIdleMs !== undefined && records.length === 0 && now - lastRecordAt >= untilIdleMs) break;
    }
    await tick();
    const c = writer.counts;
    finishLine(`archive: ${c.rows} rows (${c.byArrival} filed by arrival time), ${c.invalid} not JSON objects (in DIR/_rejects), ${c.filesWritten} file writes; ${elapsedSince(started)}`);
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await consumer.close();
  }
}
