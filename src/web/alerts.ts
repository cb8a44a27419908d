// Alert notifications for incidents: Alertmanager's webhook payload
// (version "4") POSTed to each `--webhook` URL when an incident opens and
// when it closes, and optionally the same alerts in Alertmanager's own
// `/api/v2/alerts` JSON array.
//
// The pipeline calls `notify()`, which only enqueues and returns: delivery
// runs in the background, one request at a time per target (so a resolve
// never overtakes its firing), with a timeout, exponential backoff with full
// jitter on network errors, 5xx and 429, and a bounded queue that drops the
// oldest notification (counted) rather than grow or block.

import { createHash } from 'node:crypto';
import { formatEventTime, type IncidentEvent } from './feed.ts';

export type TargetKind = 'webhook' | 'alertmanager';
export type Outcome = 'sent' | 'failed' | 'dropped';

export interface AlertNotifierOptions {
  webhooks?: readonly string[];
  /** Base URL of an Alertmanager (`http://host:9093`); alerts go to `<url>/api/v2/alerts`. */
  alertmanager?: string;
  receiver?: string;
  /** Where people look (the dashboard URL); links in the payload point there. */
  externalUrl?: string;
  /** Most notifications waiting per target. */
  maxQueue?: number;
  /** Attempts per notification before it counts as failed. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /** Alertmanager resolves alerts that are not re-sent; open ones are re-sent this often (0: never). */
  resendMs?: number;
  /** Outcome per notification (e.g. a metrics counter). */
  onOutcome?: (target: TargetKind, outcome: Outcome) => void;
  /** Diagnostics (one line per failed delivery). */
  log?: (line: string) => void;
  now?: () => number;
  random?: () => number;
  fetch?: typeof fetch;
}

export interface AlertLabels {
  alertname: string;
  detector: string;
  severity: 'warning' | 'critical';
  server?: string;
  key?: string;
  [name: string]: string | undefined;
}

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: AlertLabels;
  annotations: { summary: string; description: string };
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** Alertmanager's "zero" time, which its webhook uses as endsAt of a firing alert. */
const ZERO_TIME = '0001-01-01T00:00:00Z';
const METRIC_DETECTORS = new Set(['cpu-mem', 'net-disk']);

/** Stable per (detector, key, alert): the same anomaly keeps its identity across restarts. */
export function fingerprint(detector: string, key: string, alert: string): string {
  return createHash('sha256').update(`${detector}\u0000${key}\u0000${alert}`).digest('hex').slice(0, 16);
}

function pascal(words: string): string {
  return words
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
}

/** `CpuSpikeSuspected` for the metric alerts; `IpBurst` for the log rules (whose alert text is `count > 10`). */
export function alertName(detector: string, alert: string): string {
  return METRIC_DETECTORS.has(detector) ? pascal(alert) : pascal(detector);
}

function labelsFor(event: IncidentEvent): AlertLabels {
  const labels: AlertLabels = {
    alertname: alertName(event.detector, event.alert),
    detector: event.detector,
    // Two conditions at once ("High CPU + Memory stress") page harder than one.
    severity: event.alert.includes('+') ? 'critical' : 'warning',
  };
  if (METRIC_DETECTORS.has(event.detector)) labels.server = event.key;
  else labels.key = event.key;
  return labels;
}

interface OpenAlert {
  event: IncidentEvent;
  startsAt: string;
}

interface Delivery {
  body: string;
  attempts: number;
}

/** One destination URL with its own queue and a single request in flight. */
class Target {
  readonly kind: TargetKind;
  readonly url: string;
  queue: Delivery[] = [];
  busy = false;
  timer: NodeJS.Timeout | null = null;
  controller: AbortController | null = null;

  constructor(kind: TargetKind, url: string) {
    this.kind = kind;
    this.url = url;
  }
}

export class AlertNotifier {
  private readonly targets: Target[];
  private readonly receiver: string;
  private readonly externalUrl: string;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly requestTimeoutMs: number;
  private readonly onOutcome: (target: TargetKind, outcome: Outcome) => void;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly open = new Map<string, OpenAlert>();
  private readonly resendTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  readonly counts: Record<Outcome, number> = { sent: 0, failed: 0, dropped: 0 };

  constructor(options: AlertNotifierOptions) {
    this.targets = [
      ...(options.webhooks ?? []).map((url) => new Target('webhook', url)),
      ...(options.alertmanager ? [new Target('alertmanager', `${options.alertmanager.replace(/\/+$/, '')}/api/v2/alerts`)] : []),
    ];
    this.receiver = options.receiver ?? 'streamwatch';
    this.externalUrl = (options.externalUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.onOutcome = options.onOutcome ?? (() => {});
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? fetch;
    const resendMs = options.resendMs ?? 60_000;
    if (resendMs > 0 && this.targets.some((t) => t.kind === 'alertmanager')) {
      this.resendTimer = setInterval(() => this.resendOpen(), resendMs);
      this.resendTimer.unref();
    }
  }

  get targetCount(): number {
    return this.targets.length;
  }

  /** Queues notifications for an opened or closed incident; never waits. */
  notify(event: IncidentEvent): void {
    if (this.closed || this.targets.length === 0 || event.state === 'updated') return;
    const id = fingerprint(event.detector, event.key, event.alert);
    let startsAt: string;
    if (event.state === 'opened') {
      startsAt = this.instantText(event.start, event);
      this.open.set(id, { event, startsAt });
    } else {
      startsAt = this.open.get(id)?.startsAt ?? this.instantText(event.start, event);
      this.open.delete(id);
    }
    const alert = this.alertOf(event, startsAt);
    for (const target of this.targets) {
      this.enqueue(target, target.kind === 'webhook' ? JSON.stringify(this.webhookPayload(alert)) : JSON.stringify([this.alertmanagerAlert(alert)]));
    }
  }

  /** The webhook payload for one alert (exported for tests and for receivers' docs). */
  webhookPayload(alert: WebhookAlert): WebhookPayload {
    const groupLabels = { alertname: alert.labels.alertname, detector: alert.labels.detector };
    const commonLabels = Object.fromEntries(Object.entries(alert.labels).filter((e): e is [string, string] => e[1] !== undefined));
    return {
      version: '4',
      groupKey: `{}:{alertname="${groupLabels.alertname}", detector="${groupLabels.detector}"}`,
      truncatedAlerts: 0,
      status: alert.status,
      receiver: this.receiver,
      groupLabels,
      commonLabels,
      commonAnnotations: { ...alert.annotations },
      externalURL: this.externalUrl,
      alerts: [alert],
    };
  }

  /** Resolves once nothing is queued or in flight (or after `timeoutMs`). */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Tries to deliver what is queued for up to `drainMs`, then gives up on the rest (counted as dropped). */
  async close(drainMs = 2000): Promise<void> {
    if (this.resendTimer) clearInterval(this.resendTimer);
    // Waiting backoffs would outlast the drain: try them now.
    for (const target of this.targets) {
      if (target.timer) {
        clearTimeout(target.timer);
        target.timer = null;
        target.busy = false;
        this.pump(target);
      }
    }
    if (drainMs > 0) await this.idle(drainMs);
    this.closed = true;
    for (const target of this.targets) {
      if (target.timer) clearTimeout(target.timer);
      target.controller?.abort();
      for (let i = 0; i < target.queue.length; i++) this.count(target.kind, 'dropped');
      target.queue = [];
    }
  }

  private alertOf(event: IncidentEvent, startsAt: string): WebhookAlert {
    const resolved = event.state === 'closed';
    const from = formatEventTime(event.start, event.timeKind);
    const to = formatEventTime(event.end, event.timeKind);
    return {
      status: resolved ? 'resolved' : 'firing',
      labels: labelsFor(event),
      annotations: {
        summary: `${event.alert} on ${event.key}`,
        description: event.windows === 0
          ? `${event.detector}: ${event.alert}: no data from ${event.key} since ${from} (noticed at ${to})`
          : `${event.detector}: ${event.alert} on ${event.key} from ${from} to ${to}, ${event.windows} window${event.windows === 1 ? '' : 's'}, peak ${event.peak}`,
      },
      startsAt,
      endsAt: resolved ? this.instantText(event.end, event) : ZERO_TIME,
      generatorURL: `${this.externalUrl}/#server=${encodeURIComponent(event.key)}`,
      fingerprint: fingerprint(event.detector, event.key, event.alert),
    };
  }

  /** Alertmanager's API alert: no status field; endsAt only on resolve (a future or absent endsAt means firing). */
  private alertmanagerAlert(alert: WebhookAlert): Record<string, unknown> {
    return {
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      ...(alert.status === 'resolved' ? { endsAt: alert.endsAt } : {}),
      generatorURL: alert.generatorURL,
    };
  }

  /**
   * An event instant as RFC 3339. Times of day (replayed datasets) have no
   * date, so the wall clock at notification stands in for them.
   */
  private instantText(instant: number, event: IncidentEvent): string {
    return new Date(event.timeKind === 'absolute' ? instant : this.now()).toISOString();
  }

  private resendOpen(): void {
    const target = this.targets.find((t) => t.kind === 'alertmanager');
    if (!target || this.open.size === 0 || target.queue.length > 0) return;
    const alerts = [...this.open.values()].map((o) => this.alertmanagerAlert(this.alertOf(o.event, o.startsAt)));
    this.enqueue(target, JSON.stringify(alerts));
  }

  private enqueue(target: Target, body: string): void {
    target.queue.push({ body, attempts: 0 });
    if (target.queue.length > this.maxQueue) {
      // The head may be in flight (or waiting to retry): drop the oldest behind it.
      target.queue.splice(target.busy ? 1 : 0, 1);
      this.count(target.kind, 'dropped');
      this.log(`alerts: queue for ${target.url} full, dropped the oldest notification`);
    }
    this.pump(target);
  }

  private pump(target: Target): void {
    if (target.busy || this.closed) return;
    const delivery = target.queue[0];
    if (delivery === undefined) {
      this.checkIdle();
      return;
    }
    target.busy = true;
    void this.attempt(target, delivery);
  }

  private async attempt(target: Target, delivery: Delivery): Promise<void> {
    delivery.attempts++;
    let retry = false;
    let problem = '';
    const controller = new AbortController();
    target.controller = controller;
    const timeout = setTimeout(() => controller.abort(), this.requestTimeoutMs);
    try {
      const response = await this.fetchImpl(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'streamwatch' },
        body: delivery.body,
        signal: controller.signal,
      });
      // Free the connection; the body is not needed.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        this.finish(target, 'sent');
        return;
      }
      problem = `HTTP ${response.status}`;
      retry = response.status >= 500 || response.status === 429 || response.status === 408;
    } catch (error) {
      problem = (error as Error).name === 'AbortError' ? 'timed out' : ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
      retry = true;
    } finally {
      clearTimeout(timeout);
      target.controller = null;
    }
    if (this.closed) return;
    if (!retry || delivery.attempts >= this.maxAttempts) {
      this.log(`alerts: giving up on ${target.url} after ${delivery.attempts} attempt(s): ${problem}`);
      this.finish(target, 'failed');
      return;
    }
    // Full jitter: a random wait up to the exponential bound, so many senders do not retry in step.
    const bound = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (delivery.attempts - 1));
    const wait = Math.round(this.random() * bound);
    target.timer = setTimeout(() => {
      target.timer = null;
      target.busy = false;
      this.pump(target);
    }, wait);
    target.timer.unref();
  }

  private finish(target: Target, outcome: Outcome): void {
    target.queue.shift();
    target.busy = false;
    this.count(target.kind, outcome);
    this.pump(target);
  }

  private count(kind: TargetKind, outcome: Outcome): void {
    this.counts[outcome]++;
    this.onOutcome(kind, outcome);
  }

  private isIdle(): boolean {
    return this.targets.every((t) => !t.busy && t.queue.length === 0);
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
