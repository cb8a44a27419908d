// Publishes web-access (NGINX) and load-balancer log lines, one line a
// message (SEMANTICS.md sections 4 and 5): what `streamwatch produce
// nginx|lb` and `streamwatch up` run.
//
// Two sources: a file (each non-blank line; JSON events or NGINX combined
// lines for nginx, LB lines for lb), or the dataset generators running
// endlessly at the wall clock (event times = the moment each event is
// published, bursts and 4xx storms included). Every line goes through the
// parser the detectors use first: a line that fails it goes to the rejects
// file with its line number and reason and is counted, never published.
// Kafka key: the client IP for nginx (both forms), the backend server for
// lb, so one client's or one backend's lines stay in order on one partition.

import { stat } from 'node:fs/promises';
import { StreamwatchError } from '../../errors.ts';
import type { KafkaProducer } from '../../kafka/index.ts';
import { csvLine } from '../csv/fields.ts';
import { FileWriter } from '../csv/file-writer.ts';
import { lbEvents } from '../generators/lb.ts';
import { nginxEvents } from '../generators/nginx.ts';
import { Progress } from '../kafka-progress.ts';
import { REJECTS_HEADER } from '../metric-batch.ts';
import { parseLbLine } from '../parsers/lb.ts';
import { parseNginxLine } from '../parsers/nginx.ts';
import { RawLineReader } from '../raw-lines.ts';
import { LIVE_LINGER_MS, openPublisher, waitUntil, WallSchedule, type PublishOptions } from './publisher.ts';

export type LogKind = 'nginx' | 'lb';

/** The topic each kind of log goes to. */
export const LOG_TOPICS: Record<LogKind, string> = { nginx: 'nginx-logs', lb: 'lb-logs' };

/** Default events per second of the generators (`--generate`). */
export const DEFAULT_GENERATE_RATE = 100;

interface LogProduceCommon extends PublishOptions {
  kind: LogKind;
  /** Default LOG_TOPICS[kind]. */
  topic?: string;
  /** Stop after publishing this many lines. */
  events?: number;
  /** Rejected lines go here (source,line,reason,record). */
  rejects?: string;
  /** Stops cleanly: what was sent is flushed and acknowledged first. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface LogFileOptions extends LogProduceCommon {
  file: string;
  /** Lines per second (0 or absent: as fast as possible). */
  rate?: number;
  progress?: boolean;
}

export interface LogGenerateOptions extends LogProduceCommon {
  /** Events per second (default 100; for nginx the background traffic, bursts and storms come on top, about 3 %). */
  rate?: number;
  seed?: number;
  /** Wall clock (epoch ms); default Date.now. */
  now?: () => number;
}

export interface LogProduceSummary {
  topic: string;
  /** Non-blank lines read (file) or generated. */
  read: number;
  rejected: number;
  sent: number;
  acknowledged: number;
  /** True when the signal stopped it (a file before its end; a generator always ends so or by `events`). */
  interrupted: boolean;
}

/** The parsed line's Kafka key, or a reason to reject the line. */
function keyOf(kind: LogKind, line: string): { ok: true; key: string } | { ok: false; reason: string } {
  if (kind === 'nginx') {
    const parsed = parseNginxLine(line);
    return parsed.ok ? { ok: true, key: parsed.event.clientIp } : parsed;
  }
  const parsed = parseLbLine(line);
  return parsed.ok ? { ok: true, key: parsed.event.backend } : parsed;
}

/** A producer and a rejects file, opened together and closed together. */
class LogPublisher {
  readonly summary: LogProduceSummary;
  readonly #kind: LogKind;
  readonly #producer: KafkaProducer;
  readonly #rejects: FileWriter | null;
  readonly #source: string;

  private constructor(kind: LogKind, producer: KafkaProducer, rejects: FileWriter | null, topic: string, source: string) {
    this.#kind = kind;
    this.#producer = producer;
    this.#rejects = rejects;
    this.#source = source;
    this.summary = { topic, read: 0, rejected: 0, sent: 0, acknowledged: 0, interrupted: false };
  }

  static async open(options: LogProduceCommon, source: string): Promise<LogPublisher> {
    const topic = options.topic ?? LOG_TOPICS[options.kind];
    const producer = await openPublisher(options, [topic]);
    let rejects: FileWriter | null = null;
    try {
      if (options.rejects) {
        rejects = await FileWriter.create(options.rejects, 'latin1');
        rejects.writeLine(REJECTS_HEADER);
      }
    } catch (error) {
      await producer.abort();
      throw error;
    }
    return new LogPublisher(options.kind, producer, rejects, topic, source);
  }

  /** Validates and publishes one line; `raw` is its latin1 text (one character a byte), `lineNumber` its place in the source. */
  async publish(raw: string, lineNumber: number): Promise<void> {
    this.summary.read++;
    const text = decodeUtf8(raw);
    const key = text === null ? { ok: false as const, reason: 'not valid UTF-8' } : keyOf(this.#kind, text);
    if (!key.ok) {
      this.summary.rejected++;
      const record = csvLine([this.#source, String(lineNumber), Buffer.from(key.reason, 'utf8').toString('latin1'), raw]);
      const pending = this.#rejects?.writeLine(record);
      if (pending) await pending;
      return;
    }
    const pending = this.#producer.send(this.summary.topic, key.key, Buffer.from(raw, 'latin1'));
    this.summary.sent++;
    if (pending) await pending;
  }

  async close(): Promise<LogProduceSummary> {
    await this.#producer.close();
    this.summary.acknowledged = this.#producer.acknowledged;
    await this.#rejects?.close();
    return this.summary;
  }

  async abort(): Promise<void> {
    await this.#producer.abort();
    await this.#rejects?.abort();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A latin1-read line as text (its bytes are UTF-8), or null when they are not valid UTF-8. */
function decodeUtf8(raw: string): string | null {
  if (!/[^\u0000-\u007f]/.test(raw)) return raw;
  try {
    return utf8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    return null;
  }
}

/** Publishes each non-blank line of a file, in order. */
export async function produceLogFile(options: LogFileOptions): Promise<LogProduceSummary> {
  const { signal } = options;
  const limit = options.events ?? Number.POSITIVE_INFINITY;
  const rate = options.rate ?? 0;
  let reader: RawLineReader;
  try {
    reader = await RawLineReader.open(options.file);
  } catch (error) {
    throw new StreamwatchError('SW_ERR_INPUT_NOT_FOUND', `cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  let publisher: LogPublisher | null = null;
  const progress = options.progress ? new Progress(`produce ${options.kind}`) : null;
  try {
    const totalBytes = (await stat(options.file)).size || 1;
    publisher = await LogPublisher.open(options, Buffer.from(options.file, 'utf8').toString('latin1'));
    const summary = publisher.summary;
    let handledBytes = 0;
    progress?.start(() => ({ fraction: handledBytes / totalBytes, count: summary.sent, unit: 'msgs' }));
    const started = performance.now();
    while (summary.sent < limit) {
      if (signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const raw = reader.next();
      if (raw === undefined) {
        await reader.fill();
        continue;
      }
      if (raw === null) break;
      handledBytes += raw.length + 1;
      if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim() === '')) continue;
      if (rate > 0 && !(await waitUntil(started + (summary.read * 1000) / rate, signal))) {
        summary.interrupted = true;
        break;
      }
      await publisher.publish(raw, reader.lineNumber);
    }
    const done = await publisher.close();
    publisher = null;
    return done;
  } catch (error) {
    await publisher?.abort();
    throw error;
  } finally {
    progress?.stop();
    await reader.close();
  }
}

/**
 * Runs the kind's generator endlessly (until the signal, or `events`),
 * publishing each event at its moment on the wall clock.
 */
export async function produceGeneratedLogs(options: LogGenerateOptions): Promise<LogProduceSummary> {
  const { signal } = options;
  const limit = options.events ?? Number.POSITIVE_INFINITY;
  const rate = options.rate ?? DEFAULT_GENERATE_RATE;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const publisher = await LogPublisher.open({ ...options, lingerMs: options.lingerMs ?? LIVE_LINGER_MS }, `generated ${options.kind} (seed ${seed})`);
  const schedule = new WallSchedule(options.now);
  const events = options.kind === 'nginx'
    ? nginxEvents({ events: Number.POSITIVE_INFINITY, seed, startSeconds: schedule.startMs / 1000, rate, exactGaps: true })
    : lbEvents({ lines: Number.POSITIVE_INFINITY, seed, startMs: schedule.startMs, rate, exactGaps: true });
  const summary = publisher.summary;
  let warnedLate = false;
  try {
    while (summary.sent + summary.rejected < limit) {
      const event = events.next().value!;
      if (!(await schedule.waitFor(event.at, signal))) break;
      if (!warnedLate && schedule.lateBy(event.at) > 5000) {
        warnedLate = true;
        log(`running more than 5 s behind the wall clock: ${rate} events/s is more than this machine publishes`);
      }
      await publisher.publish(event.line, summary.read + 1);
    }
    summary.interrupted = signal?.aborted === true;
    return await publisher.close();
  } catch (error) {
    await publisher.abort();
    throw error;
  }
}
