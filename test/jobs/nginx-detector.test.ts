// The NGINX goals run through PaneDetector as the streaming command will:
// events pushed one by one with a watermark trailing them, and a restart
// from a snapshot (through JSON) at any point gives the same rows and
// incidents as a straight run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatUnits } from '../../src/engine/decimal.ts';
import type { Incident } from '../../src/engine/incidents.ts';
import { nginxEvents } from '../../src/io/generators/nginx.ts';
import { parseNginxLine, type NginxEvent } from '../../src/io/parsers/nginx.ts';
import { NGINX_GOALS, nginxInput, type NginxGoal } from '../../src/jobs/nginx-goals.ts';
import { PaneDetector, type PaneInput } from '../../src/jobs/pane-detector.ts';

const events: NginxEvent[] = [...nginxEvents({ events: 4000, seed: 5, startSeconds: 1_659_509_400 })].map(({ line }) => {
  const parsed = parseNginxLine(line);
  assert.ok(parsed.ok);
  return parsed.event;
});

function run(goal: NginxGoal, restartAt: number | null, lateness: number) {
  const rows: string[] = [];
  const incidents: string[] = [];
  const output = {
    row: (r: { key: string; start: number; count: number; value: number | bigint }) => rows.push(`${r.start} ${r.key} ${r.count} ${formatUnits(r.value, goal.digits)}`),
    incident: (i: Incident, state: string) => {
      if (state === 'closed') incidents.push(`${i.key} ${i.start}-${i.end} ${i.windows} ${i.peakUnits}`);
    },
  };
  const options = { lateness, idleTimeout: Number.POSITIVE_INFINITY };
  let detector = new PaneDetector(goal, options, output);
  const input: PaneInput = { key: '', instant: 0, units: 0, scale: 0, category: -1 };
  for (const [i, event] of events.entries()) {
    if (i === restartAt) {
      const saved = JSON.parse(JSON.stringify(detector.snapshot()));
      detector = new PaneDetector(goal, options, output);
      detector.restore(saved, 0);
    }
    if (nginxInput(goal, event, input) === true) detector.add('p0', input, 0);
    detector.tick(0);
  }
  detector.finish();
  // Keys closing the same window may come out in another order after a restart: compare as sets.
  return { rows: rows.sort(), incidents: incidents.sort(), late: detector.lateCount };
}

test('every goal: a restart from a snapshot at any point gives the same rows and incidents', () => {
  for (const goal of Object.values(NGINX_GOALS)) {
    const straight = run(goal, null, 2000);
    assert.ok(straight.rows.length > 0, goal.name);
    assert.equal(straight.late, 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: events.length - 1 }), (cut) => {
        assert.deepEqual(run(goal, cut, 2000), straight);
      }),
      { numRuns: 5 },
    );
  }
});

test('threshold goals report only windows above the rule, and every reported window belongs to an incident', () => {
  for (const goal of [NGINX_GOALS['ip-burst'], NGINX_GOALS['host-4xx']]) {
    const { rows, incidents } = run(goal, null, 0);
    assert.ok(rows.length > 0 && incidents.length > 0, goal.name);
    for (const row of rows) assert.ok(Number(row.split(' ')[2]) > goal.threshold!, row);
    const grouped = incidents.reduce((sum, i) => sum + Number(i.split(' ')[2]), 0);
    assert.equal(grouped, rows.length);
  }
});
