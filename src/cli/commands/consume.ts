// `streamwatch consume`: the assignment's consumers as one command. Stores
// each metric topic as DIR/<topic>.csv, exactly once across crashes (see
// src/io/consume/consume-csv.ts for how).

import { UsageError } from '../../errors.ts';
import { brokerOptions, brokers, flag, num, parse, required, str } from '../args.ts';
import { elapsedSince, finishLine } from '../report.ts';
import { consumeToCsv } from '../../io/consume/consume-csv.ts';

const usage = `usage: streamwatch consume --group G --topics T1,T2 --out-dir DIR [options]

Reads metric topics (topic-cpu, topic-mem, topic-net, topic-disk) as consumer group G and appends
each record to DIR/<topic>.csv (header ts,server_id,<fields>). Malformed messages go to
DIR/rejects.csv (topic,partition,offset,reason,record). Every record lands exactly once, also
across kill -9: batches are synced, then checkpointed in DIR, then committed to Kafka.

  --group G           consumer group id
  --topics LIST       comma-separated topics
  --out-dir DIR       output directory (created if missing)
  --until-idle S      exit 0 after S seconds without new records, everything written and committed
  --partitions N      partitions of topics that do not exist yet, created here (default 3)
  --batch N           records per write (default 500; a larger fetch is written as one batch)
  --batch-ms MS       longest wait before a partial batch is written (default 5000)
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)

SIGINT/SIGTERM: writes and commits what was read, then exits 0.
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...brokerOptions,
    group: { type: 'string' },
    topics: { type: 'string' },
    'out-dir': { type: 'string' },
    'until-idle': { type: 'string' },
    batch: { type: 'string' },
    'batch-ms': { type: 'string' },
    partitions: { type: 'string' },
  });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const group = required(parsed, 'group');
  const topics = [...new Set(required(parsed, 'topics').split(',').map((t) => t.trim()).filter(Boolean))];
  if (topics.length === 0) throw new UsageError('--topics: empty list');
  const outDir = required(parsed, 'out-dir');
  const idleText = str(parsed, 'until-idle');
  const untilIdleSeconds = idleText === undefined ? null : num(parsed, 'until-idle', 0, (n) => Number.isFinite(n) && n > 0);
  const batchRecords = num(parsed, 'batch', 500, (n) => Number.isInteger(n) && n >= 1);
  const batchMs = num(parsed, 'batch-ms', 5000, (n) => Number.isFinite(n) && n >= 0);
  const partitions = num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000);
  const brokerList = brokers(parsed);

  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const summary = await consumeToCsv({ brokers: brokerList, group, topics, outDir, untilIdleSeconds, batchRecords, batchMs, partitions, signal: controller.signal });
    const counts = Object.entries(summary.written).map(([t, n]) => `${t} ${n}`).join(', ');
    const cpu = process.cpuUsage(cpuStart);
    finishLine(`consume: wrote ${counts}; rejected ${summary.rejected}; ${summary.batches} batches in ${elapsedSince(started)}, cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
