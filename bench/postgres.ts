// Rows per second into PostgreSQL through the sink's write path (npm run
// bench:postgres): metric messages (JSON, as on topic-cpu/-mem/-net/-disk)
// are decoded, merged into one row per server and instant, and upserted in
// one transaction per batch, on PGlite (embedded) and on a PostgreSQL server,
// with batches of 1,000 and 10,000 messages. Kafka is left out (an in-memory
// source hands out the messages as a consumer would, a fetch per topic), so
// the figure is the database side's capacity.
//
// The server is PG_BENCH_URL, else PG_TEST_URL, else one started from the
// Debian binaries in a temporary directory (as the tests do, but with fsync
// on, as PGlite has it).
//
//   node bench/postgres.ts [--messages 1000000] [--batches 1000,10000] [--targets pglite,postgres]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { PostgresSink, type SinkSource, type SinkSourceRecord } from '../src/io/sql/sink.ts';
import { parseTopicSpecs } from '../src/io/sql/records.ts';
import { sqlTargets, truncateAll } from '../test/io/sql/helpers/targets.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    batches: { type: 'string', default: '1000,10000' },
    targets: { type: 'string', default: 'pglite,postgres' },
    servers: { type: 'string', default: '1000' },
  },
});
const messages = Number(values.messages);
const batchSizes = values.batches.split(',').map(Number);
const wanted = values.targets.split(',');
const servers = Number(values.servers);

const TOPICS = ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk'] as const;
/** Messages per topic in one fetch, as a consumer hands them over. */
const FETCH = 500;

/**
 * The messages, made before the clock starts: instants of `servers` servers
 * every 5 s, each metric on its topic, handed out as a consumer would (a
 * fetch of FETCH messages per topic in turn).
 */
function generate(total: number): SinkSourceRecord[] {
  const out: SinkSourceRecord[] = [];
  while (out.length < total) {
    const block = out.length / 4;
    for (const [t, topic] of TOPICS.entries()) {
      for (let i = 0; i < FETCH && out.length < total; i++) {
        const n = block + i;
        const server = `server_${n % servers}`;
        const ts = new Date(Date.UTC(2024, 0, 1) + Math.floor(n / servers) * 5000).toISOString();
        const value =
          t === 0 ? { ts, server_id: server, cpu_pct: (n % 10000) / 100 }
          : t === 1 ? { ts, server_id: server, mem_pct: ((n * 7) % 10000) / 100 }
          : t === 2 ? { ts, server_id: server, net_in: (n % 500000) / 100, net_out: (n % 300000) / 100 }
          : { ts, server_id: server, disk_io: (n % 200000) / 100 };
        out.push({ topic, partition: 0, offset: n, value: Buffer.from(JSON.stringify(value)) });
      }
    }
  }
  return out;
}

class ArraySource implements SinkSource {
  private at = 0;
  private readonly records: SinkSourceRecord[];

  constructor(records: SinkSourceRecord[]) {
    this.records = records;
  }

  async poll(): Promise<SinkSourceRecord[]> {
    const batch = this.records.slice(this.at, this.at + 4 * FETCH);
    this.at += batch.length;
    return batch;
  }

  async commit(): Promise<void> {}
}

const input = generate(messages);
const lines: string[] = [];
console.error(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const target of sqlTargets({ durable: true })) {
  if (!wanted.includes(target.name)) continue;
  if (target.skip) {
    lines.push(`${target.name.padEnd(9)} skipped: ${target.skip}`);
    continue;
  }
  await target.start();
  const db = await target.open();
  try {
    for (const batchSize of batchSizes) {
      await truncateAll(db);
      const sink = new PostgresSink(db, new ArraySource(input), parseTopicSpecs(TOPICS.join(',')), { batchSize, flushIntervalMs: 3_600_000, untilIdleMs: 0 });
      const started = process.hrtime.bigint();
      const totals = await sink.run();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rows = (await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM server_metrics')).rows[0]!.n;
      const line = `${target.name.padEnd(9)} batch ${String(batchSize).padStart(6)}: ${totals.records} messages -> ${rows} rows in ${seconds.toFixed(1)} s = ${Math.round(totals.records / seconds)} messages/s, ${Math.round(rows / seconds)} merged rows/s (${totals.batches} transactions)`;
      console.error(line);
      lines.push(line);
    }
  } finally {
    await db.close();
    await target.stop();
  }
}
console.log(lines.join('\n'));
