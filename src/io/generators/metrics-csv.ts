// Writes the metrics dataset as CSV: the combined file of SEMANTICS.md
// section 1, or the four per-topic files as consumers write them. Rows go
// out in time order, then server_1..server_N, each value with two decimals.
import { ChunkWriter, LIMIT, putAscii, putBytes, putHundredths } from './chunk-writer.ts';
import type { ByteSink } from './chunk-writer.ts';
import { CPU, DISK_IO, MEM, METRICS_PER_SERVER, MetricsProducer, NET_IN, NET_OUT, formatTimeOfDay, timeOfStep } from './metrics.ts';
import type { MetricsOptions } from './metrics.ts';

export const COMBINED_HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';

/** The per-topic files: name, header, and which metrics each row carries. */
export const TOPIC_FILES = [
  { topic: 'topic-cpu', header: 'ts,server_id,cpu_pct', metrics: [CPU] },
  { topic: 'topic-mem', header: 'ts,server_id,mem_pct', metrics: [MEM] },
  { topic: 'topic-net', header: 'ts,server_id,net_in,net_out', metrics: [NET_IN, NET_OUT] },
  { topic: 'topic-disk', header: 'ts,server_id,disk_io', metrics: [DISK_IO] },
] as const;

const COMMA = 44;
const NEWLINE = 10;

/** A sink that may report its reader gone (stdout piped into `head`). */
type MaybeStoppable = ByteSink & { readonly stopped?: boolean };

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function serverPrefixes(servers: number): Uint8Array[] {
  return Array.from({ length: servers }, (_, i) => asciiBytes(`server_${i + 1},`));
}

function timePrefix(options: MetricsOptions, step: number): Uint8Array {
  return asciiBytes(`${formatTimeOfDay(timeOfStep(options, step))},`);
}

/** Where a row loop stopped: the chunk position and the next server index. */
interface Cursor {
  pos: number;
  server: number;
}

/**
 * Writes the combined rows of one step from `cursor.server` on, until the
 * step ends or the chunk is full. Kept synchronous and apart from the async
 * loop, which V8 optimises far less well.
 */
function putCombinedRows(bytes: Uint8Array, cursor: Cursor, ts: Uint8Array, servers: Uint8Array[], values: Int32Array): void {
  let pos = cursor.pos;
  let i = cursor.server;
  for (let o = i * METRICS_PER_SERVER; i < servers.length && pos <= LIMIT; i++, o += METRICS_PER_SERVER) {
    pos = putBytes(bytes, pos, ts);
    pos = putBytes(bytes, pos, servers[i]!);
    pos = putHundredths(bytes, pos, values[o + CPU]!);
    bytes[pos++] = COMMA;
    pos = putHundredths(bytes, pos, values[o + MEM]!);
    bytes[pos++] = COMMA;
    pos = putHundredths(bytes, pos, values[o + NET_IN]!);
    bytes[pos++] = COMMA;
    pos = putHundredths(bytes, pos, values[o + NET_OUT]!);
    bytes[pos++] = COMMA;
    pos = putHundredths(bytes, pos, values[o + DISK_IO]!);
    bytes[pos++] = NEWLINE;
  }
  cursor.pos = pos;
  cursor.server = i;
}

/** The per-topic rows of one step (the `metrics` of each row), like putCombinedRows. */
function putTopicRows(bytes: Uint8Array, cursor: Cursor, ts: Uint8Array, servers: Uint8Array[], values: Int32Array, metrics: readonly number[]): void {
  let pos = cursor.pos;
  let i = cursor.server;
  for (let o = i * METRICS_PER_SERVER; i < servers.length && pos <= LIMIT; i++, o += METRICS_PER_SERVER) {
    pos = putBytes(bytes, pos, ts);
    pos = putBytes(bytes, pos, servers[i]!);
    pos = putHundredths(bytes, pos, values[o + metrics[0]!]!);
    for (let m = 1; m < metrics.length; m++) {
      bytes[pos++] = COMMA;
      pos = putHundredths(bytes, pos, values[o + metrics[m]!]!);
    }
    bytes[pos++] = NEWLINE;
  }
  cursor.pos = pos;
  cursor.server = i;
}

/** The combined CSV; returns the number of data rows written. */
export async function writeMetricsCombined(options: MetricsOptions, sink: MaybeStoppable): Promise<number> {
  const producer = new MetricsProducer(options);
  const values = new Int32Array(options.servers * METRICS_PER_SERVER);
  const servers = serverPrefixes(options.servers);
  const out = new ChunkWriter(sink);
  const cursor: Cursor = { pos: putAscii(out.bytes, 0, `${COMBINED_HEADER}\n`), server: 0 };
  let steps = 0;
  for (let step = producer.next(values); step >= 0; step = producer.next(values)) {
    const ts = timePrefix(options, step);
    cursor.server = 0;
    for (;;) {
      putCombinedRows(out.bytes, cursor, ts, servers, values);
      if (cursor.server === servers.length) break;
      await out.flush(cursor.pos);
      if (sink.stopped) return steps * servers.length + cursor.server;
      cursor.pos = 0;
    }
    steps++;
  }
  await out.close(cursor.pos);
  return steps * servers.length;
}

export interface TopicSinks {
  'topic-cpu': ByteSink;
  'topic-mem': ByteSink;
  'topic-net': ByteSink;
  'topic-disk': ByteSink;
}

/** The four per-topic CSVs, same rows as the combined file; returns rows per file. */
export async function writeMetricsPerTopic(options: MetricsOptions, sinks: TopicSinks): Promise<number> {
  const producer = new MetricsProducer(options);
  const values = new Int32Array(options.servers * METRICS_PER_SERVER);
  const servers = serverPrefixes(options.servers);
  const files = TOPIC_FILES.map((file) => {
    const out = new ChunkWriter(sinks[file.topic]);
    return { metrics: file.metrics as readonly number[], out, cursor: { pos: putAscii(out.bytes, 0, `${file.header}\n`), server: 0 } };
  });
  let steps = 0;
  for (let step = producer.next(values); step >= 0; step = producer.next(values)) {
    const ts = timePrefix(options, step);
    for (const { metrics, out, cursor } of files) {
      cursor.server = 0;
      for (;;) {
        putTopicRows(out.bytes, cursor, ts, servers, values, metrics);
        if (cursor.server === servers.length) break;
        await out.flush(cursor.pos);
        cursor.pos = 0;
      }
    }
    steps++;
  }
  for (const { out, cursor } of files) await out.close(cursor.pos);
  return steps * servers.length;
}
