// `streamwatch lag --group G`: per partition the group's committed offset,
// the log end and their difference, in the columns of
// `kafka-consumer-groups --describe`, with totals; `--json` for scripts.

import { brokerOptions, brokers, flag, parse, required, str } from '../args.ts';
import { KafkaAdmin, partitionKey } from '../../kafka/index.ts';

const usage = `usage: streamwatch lag --group G [--topics T1,T2] [--json]

Committed offset, log-end offset and lag of consumer group G for every partition it has committed
(and every partition of --topics), with totals. A partition without a commit shows '-' as its
current offset, and everything between its earliest offset and its log end as lag (the group
starts there).

  --group G           consumer group id
  --topics LIST       also show these topics' partitions that have no commit yet
  --json              one JSON document instead of the table
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export interface LagRow {
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number;
  lag: number;
}

export interface LagReport {
  group: string;
  partitions: LagRow[];
  totals: { currentOffset: number; logEndOffset: number; lag: number };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...brokerOptions, group: { type: 'string' }, topics: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const group = required(parsed, 'group');
  const extraTopics = (str(parsed, 'topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const admin = await KafkaAdmin.connect({ brokers: brokers(parsed), retries: 1 });
  let report: LagReport;
  try {
    report = await groupLag(admin, group, extraTopics);
  } finally {
    await admin.close();
  }
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    if (report.partitions.length === 0) process.stderr.write(`streamwatch lag: group '${group}' has no committed offsets\n`);
    process.stdout.write(formatTable(report));
  }
  return 0;
}

export async function groupLag(admin: KafkaAdmin, group: string, extraTopics: readonly string[] = []): Promise<LagReport> {
  const committed = await admin.committedOffsets(group);
  const topics = [...new Set([...committed.map((c) => c.topic), ...extraTopics])].sort();
  const ends = topics.length > 0 ? await admin.listOffsets(topics, 'latest') : new Map<string, number>();
  const starts = topics.length > 0 ? await admin.listOffsets(topics, 'earliest') : new Map<string, number>();
  const current = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c.offset]));
  const partitions: LagRow[] = [];
  for (const [key, logEndOffset] of ends) {
    const colon = key.lastIndexOf(':');
    const currentOffset = current.get(key) ?? null;
    partitions.push({ topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)), currentOffset, logEndOffset, lag: Math.max(0, logEndOffset - (currentOffset ?? starts.get(key) ?? 0)) });
  }
  partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  const totals = { currentOffset: 0, logEndOffset: 0, lag: 0 };
  for (const p of partitions) {
    totals.logEndOffset += p.logEndOffset;
    totals.currentOffset += p.currentOffset ?? 0;
    totals.lag += p.lag;
  }
  return { group, partitions, totals };
}

function formatTable(report: LagReport): string {
  const rows: string[][] = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG']];
  for (const p of report.partitions) {
    rows.push([report.group, p.topic, String(p.partition), p.currentOffset === null ? '-' : String(p.currentOffset), String(p.logEndOffset), String(p.lag)]);
  }
  rows.push(['TOTAL', '', '', String(report.totals.currentOffset), String(report.totals.logEndOffset), String(report.totals.lag)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
