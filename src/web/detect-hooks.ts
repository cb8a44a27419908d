// In-process wiring of the streaming detectors to the dashboard: the
// `onRow` / `onIncident` callbacks that `detect` and `up` pass to the metric
// detectors (src/io/stream/metric-detect.ts), turned into DashboardFeed
// calls and, optionally, alert notifications.

import { formatUnits } from '../engine/decimal.ts';
import type { Incident } from '../engine/incidents.ts';
import type { TimeKind } from '../engine/time.ts';
import type { WindowRow } from '../jobs/metric-pair-detector.ts';
import type { MetricPairJob } from '../jobs/metric-pairs.ts';
import { incidentEvent, type DashboardFeed, type IncidentEvent } from './feed.ts';

export interface DetectHooks {
  onRow(job: MetricPairJob, row: WindowRow, kind: TimeKind): void;
  onIncident(incident: Incident, state: 'opened' | 'updated' | 'closed', kind: TimeKind): void;
}

/** Callbacks for a metric detector that push its rows and incidents into a feed (and incidents to `notify`, e.g. AlertNotifier.notify). */
export function detectHooks(feed: DashboardFeed, notify?: (event: IncidentEvent) => void): DetectHooks {
  return {
    onRow(job, row) {
      feed.windowRow(job.name, {
        server: row.key,
        start: row.start,
        end: row.end,
        values: { [job.columns[0]]: Number(formatUnits(row.value0, job.digits)), [job.columns[1]]: Number(formatUnits(row.value1, job.digits)) },
        alert: row.alert,
      });
    },
    onIncident(incident, state, kind) {
      const event = incidentEvent(incident, state, kind);
      feed.incident(event);
      notify?.(event);
    },
  };
}
