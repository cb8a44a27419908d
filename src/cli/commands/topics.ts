// `streamwatch topics list|create|describe`: the few topic operations a
// person needs next to the pipeline, on any Kafka cluster.

import { UsageError } from '../../errors.ts';
import { brokerOptions, brokers, flag, num, parse } from '../args.ts';
import { KafkaAdmin } from '../../kafka/index.ts';

const usage = `usage: streamwatch topics list|create NAME [--partitions N]|describe NAME [options]

  list                 topic names, one a line
  create NAME          create a topic (--partitions N, default 3)
  describe NAME        partitions with leader, replicas, earliest and latest offsets
  -b, --brokers LIST   host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...brokerOptions, partitions: { type: 'string' } }, true);
  const [action, name, ...extra] = parsed.positionals;
  if (flag(parsed, 'help') || action === undefined) {
    process.stdout.write(usage);
    return action === undefined && !flag(parsed, 'help') ? 2 : 0;
  }
  if (extra.length > 0) throw new UsageError(`topics: unexpected '${extra[0]}'`);
  if (action !== 'list' && action !== 'create' && action !== 'describe') throw new UsageError(`topics: unknown action '${action}' (expected list, create or describe)`);
  if (action === 'list' && name !== undefined) throw new UsageError(`topics list: unexpected '${name}'`);
  if (action !== 'list' && name === undefined) throw new UsageError(`topics ${action}: NAME is required`);
  const partitions = num(parsed, 'partitions', 3, (n) => Number.isInteger(n) && n >= 1 && n <= 10_000);
  const admin = await KafkaAdmin.connect({ brokers: brokers(parsed), retries: 1 });
  try {
    if (action === 'list') {
      const topics = await admin.listTopics();
      process.stdout.write(topics.map((t) => `${t}\n`).join(''));
    } else if (action === 'create') {
      await admin.createTopic(name!, partitions);
      process.stderr.write(`streamwatch topics: created ${name} (${partitions} partitions)\n`);
    } else {
      const [topic] = await admin.describeTopics([name!]);
      const earliest = await admin.listOffsets([name!], 'earliest');
      const latest = await admin.listOffsets([name!], 'latest');
      const lines = [`Topic: ${topic!.name}\tTopicId: ${topic!.id}\tPartitionCount: ${topic!.partitions.length}`];
      for (const p of topic!.partitions) {
        const key = `${name}:${p.partition}`;
        lines.push(`\tPartition: ${p.partition}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tEarliest: ${earliest.get(key) ?? '-'}\tLatest: ${latest.get(key) ?? '-'}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    }
  } finally {
    await admin.close();
  }
  return 0;
}
