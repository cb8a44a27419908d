import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncidentTracker, type Incident } from '../../src/engine/incidents.ts';

const w = (start: number, units: number, alert = 'CPU spike suspected') => ({ detector: 'cpu-mem', key: 's1', alert, start, end: start + 30, units, scale: 2 });

test('overlapping and touching windows group into one incident; a gap splits; peak is the highest value', () => {
  const closed: Incident[] = [];
  const t = new IncidentTracker(30, (i, state) => state === 'closed' && closed.push({ ...i }));
  t.observe(w(0, 9000));
  t.observe(w(10, 9500));
  t.observe(w(40, 8500)); // touches [10,40)
  t.observe(w(100, 8600)); // gap: new incident
  t.observe(w(110, 9000, 'High CPU + Memory stress')); // other alert text: its own incident
  t.flush();
  assert.deepEqual(closed.map((i) => [i.alert, i.start, i.end, i.windows, i.peakUnits]), [
    ['CPU spike suspected', 0, 70, 3, 9500],
    ['CPU spike suspected', 100, 130, 1, 8600],
    ['High CPU + Memory stress', 110, 140, 1, 9000],
  ]);
});

test('an incident closes only when no later window can touch it', () => {
  const closed: Incident[] = [];
  const t = new IncidentTracker(30, (i, state) => state === 'closed' && closed.push(i));
  t.observe(w(0, 9000));
  t.advanceTo(59);
  assert.equal(closed.length, 0);
  t.advanceTo(60);
  assert.equal(closed.length, 1);
});
