// Runs the simulated fleet (generators/fleet.ts) at the wall clock: what
// `streamwatch simulate` and `streamwatch up` run.
//
// Every interval each server's whole record goes to `server-metrics` (one
// JSON object with every field of SEMANTICS.md section 1) and, unless
// split is off, to topic-cpu, topic-mem, topic-net and topic-disk exactly as
// `produce metrics` publishes a dataset row, so the detectors see the fleet.
// The balancer's lines go to `lb-logs`. Times are ISO 8601 UTC instants
// (`2026-11-23T19:30:01.000Z`), as `collect` writes them: absolute, so a
// fleet that runs past midnight or is restarted the next day stays in order.
// (A partition must not mix them with the time-of-day rows of a replayed
// dataset: the detectors reject such a mix.)
//
// Records are validated by the same row validator and encoder as the
// dataset replay, and balancer lines by the detectors' parser, before they
// are sent; anything refused is counted and logged, never published.

import { formatIso } from '../../engine/time.ts';
import { COMBINED_HEADER } from '../generators/metrics-csv.ts';
import { FleetSimulator, type FleetEpisode } from '../generators/fleet.ts';
import { METRIC_TOPICS, MetricEncoder, SERVER_METRICS_TOPIC } from '../kafka-metrics.ts';
import { MetricRowParser, metricColumns } from '../metric-csv.ts';
import { parseLbLine } from '../parsers/lb.ts';
import { LOG_TOPICS } from './log-lines.ts';
import { LIVE_LINGER_MS, openPublisher, WallSchedule, type PublishOptions } from './publisher.ts';

export interface SimulateOptions extends PublishOptions {
  /** Simulated servers, server_1..server_N (default 10). */
  servers?: number;
  /** Milliseconds between two reports of a server (default 1000). */
  intervalMs?: number;
  /** Balancer lines per second (default 20; 0: no balancer). */
  lbRate?: number;
  seed?: number;
  /** Also publish the per-metric topics the detectors read (default true). */
  split?: boolean;
  /** Stop once this much time has passed (ms). */
  durationMs?: number;
  /** Stop after this many reports (one per interval). */
  reports?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Each anomaly episode as it starts (also logged). */
  onEpisode?: (episode: FleetEpisode) => void;
  /** Wall clock (epoch ms); default Date.now. */
  now?: () => number;
}

export interface SimulateSummary {
  /** Intervals reported. */
  reports: number;
  /** Server records published (one per reporting server an interval). */
  records: number;
  lbLines: number;
  /** Records or lines the validators refused (never expected). */
  rejected: number;
  /** Kafka messages sent and acknowledged. */
  sent: number;
  acknowledged: number;
  episodes: number;
  interrupted: boolean;
}

export const SIMULATE_DEFAULTS = { servers: 10, intervalMs: 1000, lbRate: 20, seed: 1 } as const;

export async function runSimulation(options: SimulateOptions): Promise<SimulateSummary> {
  const { signal } = options;
  const log = options.log ?? (() => {});
  const servers = options.servers ?? SIMULATE_DEFAULTS.servers;
  const intervalMs = options.intervalMs ?? SIMULATE_DEFAULTS.intervalMs;
  const lbRate = options.lbRate ?? SIMULATE_DEFAULTS.lbRate;
  const seed = options.seed ?? SIMULATE_DEFAULTS.seed;
  const maxReports = options.reports ?? Number.POSITIVE_INFINITY;
  const summary: SimulateSummary = { reports: 0, records: 0, lbLines: 0, rejected: 0, sent: 0, acknowledged: 0, episodes: 0, interrupted: false };

  // The same path as `produce metrics`: a row of the combined CSV, validated, then encoded per topic.
  const columns = metricColumns(COMBINED_HEADER, [], 'simulate');
  const parser = new MetricRowParser(columns, { kind: null });
  const encoder = new MetricEncoder(columns, options.split === false ? [SERVER_METRICS_TOPIC] : [SERVER_METRICS_TOPIC, ...METRIC_TOPICS]);
  const metricTopics = encoder.topics.map((t) => t.topic);
  const lbTopic = LOG_TOPICS.lb;
  const producer = await openPublisher({ ...options, lingerMs: options.lingerMs ?? LIVE_LINGER_MS }, lbRate > 0 ? [...metricTopics, lbTopic] : metricTopics);

  const schedule = new WallSchedule(options.now);
  // Reports on the interval's grid of the wall clock (whole seconds for 1 s), the first one still to come.
  const startMs = Math.ceil(schedule.startMs / intervalMs) * intervalMs;
  const endMs = options.durationMs === undefined ? Number.POSITIVE_INFINITY : schedule.startMs + options.durationMs;
  const fleet = new FleetSimulator({ servers, intervalMs, lbRate, seed, startMs }, (episode) => {
    summary.episodes++;
    const seconds = Math.round((episode.endMs - episode.startMs) / 1000);
    log(`${episode.server}: ${episode.kind === 'silent' ? 'goes silent' : `${episode.kind} anomaly`} from ${formatIso(episode.startMs)} for ${seconds} s`);
    options.onEpisode?.(episode);
  });
  let warnedLate = false;
  try {
    for (;;) {
      const event = fleet.next();
      if (event.at >= endMs) break;
      if (event.kind === 'report' && summary.reports >= maxReports) break;
      if (!(await schedule.waitFor(event.at, signal))) break;
      if (!warnedLate && schedule.lateBy(event.at) > 5000) {
        warnedLate = true;
        log('running more than 5 s behind the wall clock: this machine cannot publish that much (fewer servers, a longer interval or a lower --rate)');
      }
      if (event.kind === 'lb') {
        const parsed = parseLbLine(event.line);
        if (!parsed.ok) {
          reject(`balancer line refused: ${parsed.reason} (${event.line})`);
          continue;
        }
        const pending = producer.send(lbTopic, event.backend, event.line);
        summary.lbLines++;
        summary.sent++;
        if (pending) await pending;
        continue;
      }
      summary.reports++;
      for (const row of event.rows) {
        if (!parser.parse(row)) {
          reject(`record refused by the row validator: ${parser.reason} (${row})`);
          continue;
        }
        const messages = encoder.encode(row, 0, row.length, parser.row);
        for (let t = 0; t < metricTopics.length; t++) {
          const pending = producer.send(metricTopics[t]!, messages.serverId, messages.values[t]!);
          summary.sent++;
          if (pending) await pending;
        }
        summary.records++;
      }
    }
    summary.interrupted = signal?.aborted === true;
    await producer.close();
    summary.acknowledged = producer.acknowledged;
  } catch (error) {
    await producer.abort();
    throw error;
  }
  return summary;

  function reject(reason: string): void {
    summary.rejected++;
    log(reason);
  }
}
