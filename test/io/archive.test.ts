// The rolling archive's files: partitioned by the rows' own time (times of
// day on the reference date, across midnight and across a restart), merged
// on natural keys when rows come again, RFC 4180 round trips, rejects, and
// no temporary files left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ArchiveWriter } from '../../src/io/archive.ts';
import { parseCsvText } from '../../src/io/archive-csv.ts';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

let offset = 0;
function rec(topic: string, value: object | string, partition = 0): { topic: string; partition: number; offset: number; value: Buffer; timestamp: number } {
  return { topic, partition, offset: offset++, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), timestamp: Date.UTC(2030, 0, 1, 12, 34) };
}

const cpuRow = (server: string, start: string, end: string, cpu: number, alert = ''): object => ({ server_id: server, window_start: start, window_end: end, avg_cpu: cpu, avg_mem: 50.5, alert });

test('rows are filed by their window start, across midnight and across a restart; rows sent again replace their copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sw-archive-'));
  try {
    const first = new ArchiveWriter(dir, 5 * 60_000);
    first.add(rec('alerts-cpu-mem', cpuRow('server_1', '23:58:40', '23:59:10', 90.25, 'CPU spike suspected')));
    first.add(rec('alerts-cpu-mem', cpuRow('server_2', '23:59:50', '00:00:20', 10)));
    first.add(rec('incidents', { detector: 'ip-burst', key: '1.1.1.1', alert: 'count > 10', start: '2022-08-03T06:51:40.000Z', end: '2022-08-03T06:52:05.000Z', windows: 6, peak: 14, state: 'closed' }));
    first.add(rec('alerts-cpu-mem', 'not json'));
    first.add(rec('alerts-cpu-mem', { server_id: 'x', note: 'no time' }));
    assert.deepEqual(first.flush().sort(), ['_rejects/alerts-cpu-mem.csv', 'alerts-cpu-mem/1970-01-01/2355.csv', 'alerts-cpu-mem/2030-01-01/1230.csv', 'incidents/2022-08-03/0650.csv']);
    assert.deepEqual(first.counts, { rows: 4, byArrival: 1, invalid: 1, filesWritten: 4 });

    // A restart: the same window again (a redelivery, with a corrected value) and the next windows after midnight.
    const second = new ArchiveWriter(dir, 5 * 60_000);
    second.add(rec('alerts-cpu-mem', cpuRow('server_1', '23:58:40', '23:59:10', 91, 'CPU spike, "really", suspected')));
    second.add(rec('alerts-cpu-mem', cpuRow('server_1', '00:00:10', '00:00:40', 20)));
    // Another topic's first time-of-day row after midnight follows the shared timeline.
    second.add(rec('incidents', { detector: 'cpu-mem', key: 'server_1', alert: 'CPU spike suspected', start: '00:03:10', end: '00:04:40', windows: 7, peak: 90, state: 'closed' }, 1));
    second.flush();
    assert.deepEqual(listFiles(dir), [
      '.archive-state.json', '_rejects/alerts-cpu-mem.csv', 'alerts-cpu-mem/1970-01-01/2355.csv', 'alerts-cpu-mem/1970-01-02/0000.csv',
      'alerts-cpu-mem/2030-01-01/1230.csv', 'incidents/1970-01-02/0000.csv', 'incidents/2022-08-03/0650.csv',
    ]);
    const beforeMidnight = parseCsvText(readFileSync(join(dir, 'alerts-cpu-mem/1970-01-01/2355.csv'), 'utf8'));
    assert.deepEqual(beforeMidnight, [
      ['server_id', 'window_start', 'window_end', 'avg_cpu', 'avg_mem', 'alert'],
      ['server_1', '23:58:40', '23:59:10', '91', '50.5', 'CPU spike, "really", suspected'],
      ['server_2', '23:59:50', '00:00:20', '10', '50.5', ''],
    ]);
    assert.match(readFileSync(join(dir, 'alerts-cpu-mem/1970-01-01/2355.csv'), 'utf8'), /^server_1,23:58:40,23:59:10,91,50.5,"CPU spike, ""really"", suspected"$/m);
    assert.deepEqual(parseCsvText(readFileSync(join(dir, '_rejects/alerts-cpu-mem.csv'), 'utf8')), [['partition', 'offset', 'reason', 'raw'], ['0', '3', 'value is not a JSON object', 'not json']]);
    assert.deepEqual(parseCsvText(readFileSync(join(dir, 'incidents/2022-08-03/0650.csv'), 'utf8'))[1], ['ip-burst', '1.1.1.1', 'count > 10', '2022-08-03T06:51:40.000Z', '2022-08-03T06:52:05.000Z', '6', '14', 'closed']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CSV text parsing: quoted commas, quotes and line breaks; CRLF; blank lines', () => {
  assert.deepEqual(parseCsvText('a,b\r\n"x,1","say ""hi""\nthere"\n\nlast,\n'), [['a', 'b'], ['x,1', 'say "hi"\nthere'], ['last', '']]);
  assert.deepEqual(parseCsvText('a,b'), [['a', 'b']]);
});
