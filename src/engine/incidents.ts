// Incidents (SEMANTICS.md section 6): per detector, key and alert text, the
// alerting windows that overlap or touch are grouped into one record, so a
// person is paged once per anomaly instead of once per hopping window.
//
// Windows of one key arrive in start order (the window operators emit them
// so). An incident is closed once no later window can touch it: when the
// watermark has passed the end of the last window that could start at or
// before the incident's end.

import { compareDecimal, type Units } from './decimal.ts';

export interface Incident {
  detector: string;
  key: string;
  alert: string;
  start: number;
  end: number;
  windows: number;
  peakUnits: Units;
  peakScale: number;
}

export interface AlertingWindow {
  detector: string;
  key: string;
  alert: string;
  start: number;
  end: number;
  units: Units;
  scale: number;
}

export type IncidentListener = (incident: Incident, state: 'opened' | 'updated' | 'closed') => void;

export class IncidentTracker {
  private readonly open = new Map<string, Incident>();
  /** How long after an incident's end a touching window can still close (the window size). */
  private readonly reach: number;
  private readonly listener: IncidentListener;

  constructor(windowSize: number, listener: IncidentListener) {
    this.reach = windowSize;
    this.listener = listener;
  }

  get openCount(): number {
    return this.open.size;
  }

  observe(window: AlertingWindow): void {
    const id = `${window.detector}\u0000${window.key}\u0000${window.alert}`;
    const current = this.open.get(id);
    if (current !== undefined && window.start <= current.end) {
      if (window.end > current.end) current.end = window.end;
      current.windows++;
      if (compareDecimal(window.units, window.scale, current.peakUnits, current.peakScale) > 0) {
        current.peakUnits = window.units;
        current.peakScale = window.scale;
      }
      this.listener(current, 'updated');
      return;
    }
    if (current !== undefined) {
      this.open.delete(id);
      this.listener(current, 'closed');
    }
    const incident: Incident = {
      detector: window.detector,
      key: window.key,
      alert: window.alert,
      start: window.start,
      end: window.end,
      windows: 1,
      peakUnits: window.units,
      peakScale: window.scale,
    };
    this.open.set(id, incident);
    this.listener(incident, 'opened');
  }

  /** Closes the incidents no later window can touch any more. */
  advanceTo(watermark: number): void {
    // forEach, not for-of: no [id, incident] array per open incident at every step of the watermark.
    this.open.forEach((incident, id) => {
      if (incident.end + this.reach <= watermark) {
        this.open.delete(id);
        this.listener(incident, 'closed');
      }
    });
  }

  flush(): void {
    this.advanceTo(Number.POSITIVE_INFINITY);
  }

  snapshot(): Incident[] {
    return [...this.open.values()].map((i) => ({ ...i, peakUnits: String(i.peakUnits) as unknown as Units }));
  }

  restore(saved: Incident[]): void {
    this.open.clear();
    for (const i of saved) {
      const n = Number(i.peakUnits);
      const incident = { ...i, peakUnits: Number.isSafeInteger(n) ? n : BigInt(String(i.peakUnits)) };
      this.open.set(`${i.detector}\u0000${i.key}\u0000${i.alert}`, incident);
    }
  }
}
