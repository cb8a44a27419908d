// Silence as an anomaly: a key (server) that has reported before and then
// reports nothing for `after` ms of event time opens a `Server silent`
// incident, closed when it reports again. Event time keeps moving while the
// input is idle (the watermark advances with wall time), so a silent server
// is noticed even when nothing else arrives.

export const SILENT_ALERT = 'Server silent';

export interface SilenceEvent {
  key: string;
  /** Last instant the key reported before going silent. */
  lastSeen: number;
  /** When the silence was noticed (opened) or when the key reported again (closed). */
  at: number;
  state: 'opened' | 'closed';
}

export interface SilenceSnapshot {
  lastSeen: Array<[string, number]>;
  silent: string[];
}

export class SilenceTracker {
  private readonly after: number;
  private readonly lastSeen = new Map<string, number>();
  private readonly silent = new Set<string>();

  constructor(after: number) {
    this.after = after;
  }

  /** A record of `key` at instant t. */
  observe(key: string, t: number, emit: (event: SilenceEvent) => void): void {
    const last = this.lastSeen.get(key);
    if (this.silent.has(key) && last !== undefined && t > last) {
      this.silent.delete(key);
      emit({ key, lastSeen: last, at: t, state: 'closed' });
    }
    if (last === undefined || t > last) this.lastSeen.set(key, t);
  }

  advanceTo(watermark: number, emit: (event: SilenceEvent) => void): void {
    if (!Number.isFinite(this.after) || !Number.isFinite(watermark)) return;
    for (const [key, last] of this.lastSeen) {
      if (!this.silent.has(key) && watermark - last >= this.after) {
        this.silent.add(key);
        emit({ key, lastSeen: last, at: watermark, state: 'opened' });
      }
    }
  }

  snapshot(): SilenceSnapshot {
    return { lastSeen: [...this.lastSeen], silent: [...this.silent] };
  }

  restore(snapshot: SilenceSnapshot | undefined): void {
    this.lastSeen.clear();
    this.silent.clear();
    for (const [key, t] of snapshot?.lastSeen ?? []) this.lastSeen.set(key, t);
    for (const key of snapshot?.silent ?? []) this.silent.add(key);
  }
}
