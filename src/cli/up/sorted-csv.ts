// `up` leaves its CSV outputs in the order the batch jobs print them, so a
// user can diff them with a batch run. The streaming detectors append rows
// as windows close; for one server that is already window order, so the
// window files only need a stable sort by server id (natural order).
// Incidents close out of start order (an overlapping incident of another
// alert can close first), so they are sorted by detector, key, start and
// alert, with times of day placed on their day by the rollover rule,
// walking the file in the order the rows were written.

import { readFile } from 'node:fs/promises';
import { compareNatural } from '../../engine/natural-order.ts';
import { DayRollover, parseTime } from '../../engine/time.ts';
import { splitCsv } from '../../io/csv/fields.ts';
import { writeCsvFile } from '../../io/csv/file-writer.ts';

/** Rewrites a window-rows file (first column server_id) stably sorted by server id; false when absent. */
export async function sortWindowRows(path: string): Promise<boolean> {
  const rows = await readRows(path);
  if (rows === null) return false;
  const keyed = rows.lines.map((line, index) => ({ line, key: splitCsv(line)[0] ?? '', index }));
  keyed.sort((a, b) => compareNatural(a.key, b.key) || a.index - b.index);
  await rewrite(path, rows.header, keyed);
  return true;
}

/** Rewrites an incidents file (detector,key,alert,start,...) sorted like the batch jobs write it; false when absent. */
export async function sortIncidents(path: string): Promise<boolean> {
  const rows = await readRows(path);
  if (rows === null) return false;
  const rollovers = new Map<string, DayRollover>();
  const keyed = rows.lines.map((line, index) => {
    const [detector = '', key = '', alert = '', start = ''] = splitCsv(line);
    const instant = parseTime(start);
    let at = Number.NaN;
    if (instant !== null && instant.kind === 'time-of-day') {
      let rollover = rollovers.get(detector);
      if (rollover === undefined) {
        rollover = new DayRollover();
        rollovers.set(detector, rollover);
      }
      at = rollover.place(instant.ms);
    } else if (instant !== null) {
      at = instant.ms;
    }
    return { line, detector, key, alert, at, index };
  });
  keyed.sort((a, b) => (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0)
    || compareNatural(a.key, b.key)
    || (a.at - b.at || 0)
    || (a.alert < b.alert ? -1 : a.alert > b.alert ? 1 : 0)
    || a.index - b.index);
  await rewrite(path, rows.header, keyed);
  return true;
}

/** Writes the rows back in their new order (temporary file, then rename). */
function rewrite(path: string, header: string, rows: ReadonlyArray<{ line: string }>): Promise<void> {
  return writeCsvFile(path, header, async (out) => {
    for (const row of rows) {
      const pending = out.writeLine(row.line);
      if (pending) await pending;
    }
  });
}

async function readRows(path: string): Promise<{ header: string; lines: string[] } | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  const header = lines.shift();
  if (header === undefined) return null;
  return { header, lines };
}
