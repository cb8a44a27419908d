// `streamwatch tail TOPIC`: prints a topic's messages as JSON lines (the
// assignment's test consumer). A value that is JSON is printed as is, any
// other value as a JSON string; --meta wraps each in its coordinates.
// Reads as a throwaway group that never commits.

import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { brokerOptions, brokers, flag, num, parse, str } from '../args.ts';
import { StreamwatchError, UsageError } from '../../errors.ts';
import { GroupConsumer, KafkaAdmin, type ConsumedRecord } from '../../kafka/index.ts';

const usage = `usage: streamwatch tail TOPIC [--from-beginning] [--max N] [--until-idle S] [--meta]

  --from-beginning    start at the earliest offset (default: only new messages)
  --max N             stop after N messages
  --until-idle S      stop after S seconds without messages
  --meta              print {"topic","partition","offset","timestamp","key","value"} per message
  -b, --brokers LIST  host:port[,host:port] (alias --bootstrap-server; default $KAFKA_BROKERS or 127.0.0.1:9092)
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, { ...brokerOptions, 'from-beginning': { type: 'boolean' }, max: { type: 'string' }, 'until-idle': { type: 'string' }, meta: { type: 'boolean' } }, true);
  if (flag(parsed, 'help')) {
    process.stdout.write(usage);
    return 0;
  }
  const [topic, ...extra] = parsed.positionals;
  if (topic === undefined) throw new UsageError('tail: TOPIC is required');
  if (extra.length > 0) throw new UsageError(`tail: unexpected '${extra[0]}'`);
  const max = num(parsed, 'max', Number.POSITIVE_INFINITY, (n) => Number.isInteger(n) && n >= 1);
  const idleMs = str(parsed, 'until-idle') === undefined ? Number.POSITIVE_INFINITY : num(parsed, 'until-idle', 0, (n) => Number.isFinite(n) && n > 0) * 1000;
  const meta = flag(parsed, 'meta');
  const brokerList = brokers(parsed);

  const admin = await KafkaAdmin.connect({ brokers: brokerList, retries: 1 });
  try {
    await admin.describeTopics([topic]);
  } finally {
    await admin.close();
  }
  // Ctrl+C, SIGTERM, or a reader that went away (`| head`: EPIPE) end the
  // tail with exit 0; a signal also ends a wait for a reader that is slow.
  const stopping = new AbortController();
  const stop = (): void => stopping.abort();
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    stop();
  };
  let outputError: NodeJS.ErrnoException | undefined;
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== 'EPIPE') outputError ??= error;
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.on('error', onOutputError);
  const consumer = await GroupConsumer.start({
    brokers: brokerList,
    groupId: `streamwatch-tail-${randomBytes(6).toString('hex')}`,
    topics: [topic],
    fallback: flag(parsed, 'from-beginning') ? 'earliest' : 'latest',
  });
  let printed = 0;
  let lastAt = Date.now();
  try {
    while (!stopping.signal.aborted && printed < max && Date.now() - lastAt < idleMs) {
      const records = await consumer.poll(200);
      if (records.length > 0) lastAt = Date.now();
      let out = '';
      for (const record of records) {
        if (printed >= max) break;
        out += (meta ? withMeta(record) : valueJson(record.value)) + '\n';
        printed++;
      }
      if (out !== '' && !stopping.signal.aborted && !process.stdout.write(out)) await writable(process.stdout, stopping.signal);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await consumer.close();
  }
  if (signalled && process.stdout.writableLength > 0) {
    // Lines a reader is not taking would keep the process alive until it
    // does: a second to take them, then they are dropped (tail never commits).
    await writable(process.stdout, AbortSignal.timeout(1000));
    if (process.stdout.writableLength > 0) process.exit(0);
  }
  if (outputError !== undefined) throw new StreamwatchError('SW_ERR_OUTPUT', `cannot write standard output: ${outputError.code ?? outputError.message}`, { cause: outputError });
  return 0;
}

/** Until the stream drains, or is closed (a stream destroyed by an error never drains), or the signal fires. */
function writable(stream: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    signal.addEventListener('abort', done);
    if (signal.aborted || stream.destroyed) done();
  });
}

function valueJson(value: Buffer | null): string {
  if (value === null) return 'null';
  const text = value.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    // Printed as sent (numbers keep their digits) unless it spans lines.
    return /[\r\n]/.test(text) ? JSON.stringify(parsed) : text.trim();
  } catch {
    return JSON.stringify(text);
  }
}

function withMeta(record: ConsumedRecord): string {
  return `{"topic":${JSON.stringify(record.topic)},"partition":${record.partition},"offset":${record.offset},"timestamp":${record.timestamp},"key":${record.key === null ? 'null' : JSON.stringify(record.key.toString('utf8'))},"value":${valueJson(record.value)}}`;
}
