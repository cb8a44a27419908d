// streamwatch sink postgres: consumes metric topics, NGINX events and the
// detectors' outputs into PostgreSQL (embedded PGlite by default), in
// batches, committing Kafka offsets only after each batch's transaction.
import { brokerOptions, brokers, flag, num, parse, required, str } from '../args.ts';
import { UsageError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin } from '../../kafka/index.ts';
import { databaseFlagsHelp, databaseOptions, parseDuration } from '../../io/sql/cli-options.ts';
import { openDatabase } from '../../io/sql/open.ts';
import { parseTopicSpecs, TOPIC_KINDS } from '../../io/sql/records.ts';
import { PostgresSink } from '../../io/sql/sink.ts';
import { elapsedSince, finishLine } from '../report.ts';

const help = `usage: streamwatch sink postgres --topics T1,T2 [options]

Stores topics in PostgreSQL: metric topics (topic-cpu, topic-mem, topic-net,
topic-disk, server-metrics) merged into server_metrics, NGINX events
(nginx-logs) into nginx_events, detector outputs (alerts-cpu-mem,
alerts-net-disk, goal1-topic..goal4-topic) into window_results and
incidents into incidents. Invalid messages go to sink_rejects with a reason.
Times of day (20:53:00) have no date: they are stored on 1970-01-01 UTC, and
a replay that crosses midnight continues on 1970-01-02 (one timeline for all
topics read, kept across restarts). Rows are upserted on their natural keys and offsets
are committed after each batch's transaction, so a redelivery is harmless.
SIGINT/SIGTERM write what is pending, commit, and exit.
A topic with another name is given as NAME=KIND, KIND one of:
  ${TOPIC_KINDS.join(', ')}

options:
  --topics LIST             topics to store (required)
  -b, --brokers LIST        Kafka brokers (default: env KAFKA_BROKERS, else 127.0.0.1:9092)
  --group G                 consumer group (default streamwatch-sink-postgres)
${databaseFlagsHelp}
  --batch-size N            records per transaction (default 1000)
  --flush-interval D        longest a record waits before its batch is written (default 2m)
  --until-idle S            stop after S seconds without new records, everything written
  --session-timeout D       group session timeout: how soon a crashed sink's partitions move (default 10s)
  --partitions N            partitions of topics created here when missing (default 3, as produce)
  -h, --help                this help
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    topics: { type: 'string' },
    group: { type: 'string' },
    'database-url': { type: 'string' },
    'data-dir': { type: 'string' },
    'batch-size': { type: 'string' },
    'flush-interval': { type: 'string' },
    'until-idle': { type: 'string' },
    partitions: { type: 'string' },
    'session-timeout': { type: 'string' },
  }, true);
  if (flag(parsed, 'help')) {
    process.stdout.write(help);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (target !== 'postgres' || extra.length > 0) throw new UsageError(`sink: the only target is 'postgres' (streamwatch sink postgres --topics ...)`);
  const topics = parseTopicSpecs(required(parsed, 'topics'));
  const batchSize = num(parsed, 'batch-size', 1000, (n) => Number.isInteger(n) && n >= 1 && n <= 1_000_000);
  const flushIntervalMs = parseDuration('flush-interval', str(parsed, 'flush-interval') ?? '2m');
  const idleText = str(parsed, 'until-idle');
  const untilIdleMs = idleText === undefined ? undefined : parseDuration('until-idle', idleText);
  const sessionTimeoutMs = parseDuration('session-timeout', str(parsed, 'session-timeout') ?? '10s');
  const partitions = num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000);
  const brokerList = brokers(parsed);
  const groupId = str(parsed, 'group') ?? 'streamwatch-sink-postgres';
  const holdBeforeCommitMs = Number(process.env.STREAMWATCH_TEST_HOLD_BEFORE_COMMIT_MS ?? 0) || 0;

  const started = process.hrtime.bigint();
  const db = await openDatabase(databaseOptions({ url: str(parsed, 'database-url'), dataDir: str(parsed, 'data-dir') }));
  const log = (line: string): void => void process.stderr.write(`streamwatch sink: ${line}\n`);
  let consumer: GroupConsumer | undefined;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    log(`database ${db.engine} at ${db.location}; group ${groupId}; topics ${topics.map((t) => t.topic).join(',')}`);
    // A sink may start before anything produced (streamwatch up): missing topics are created as produce would.
    const admin = await KafkaAdmin.connect({ brokers: brokerList });
    try {
      const created = await admin.ensureTopics(topics.map((t) => t.topic), partitions);
      if (created.length > 0) log(`created topics ${created.join(',')} (${partitions} partitions)`);
    } finally {
      await admin.close();
    }
    consumer = await GroupConsumer.start({ brokers: brokerList, groupId, topics: topics.map((t) => t.topic), maxBuffered: Math.max(batchSize, 1000), sessionTimeoutMs });
    const sink = new PostgresSink(db, consumer, topics, { batchSize, flushIntervalMs, untilIdleMs, signal: controller.signal, log, holdBeforeCommitMs });
    const totals = await sink.run();
    finishLine(
      `sink: ${totals.records} records in ${totals.batches} batches; metric rows ${totals.metrics}, events ${totals.events}, windows ${totals.windows}, incidents ${totals.incidents}, invalid ${totals.invalid} (sink_rejects); ${elapsedSince(started)}`,
    );
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await consumer?.close();
    await db.close();
  }
}
