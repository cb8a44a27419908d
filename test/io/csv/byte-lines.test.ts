// The byte-level record reader and row parser of the batch jobs must find
// exactly what the string-based LineReader and MetricRowParser.parse find:
// same records, line numbers, fields, values, rejects and reasons, whatever
// the content and wherever the chunk boundaries fall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ByteLineReader } from '../../../src/io/csv/byte-lines.ts';
import { LineReader } from '../../../src/io/csv/line-reader.ts';
import { MetricRowParser, metricColumns } from '../../../src/io/metric-csv.ts';

async function lineRecords(path: string): Promise<Array<[number, string]>> {
  const reader = await LineReader.open(path);
  const out: Array<[number, string]> = [];
  try {
    for (;;) {
      const line = reader.next();
      if (line === undefined) await reader.fill();
      else if (line === null) return out;
      else out.push([reader.lineNumber, line]);
    }
  } finally {
    await reader.close();
  }
}

async function byteRecords(path: string, chunkBytes: number): Promise<Array<[number, string]>> {
  const reader = await ByteLineReader.open(path, chunkBytes);
  const out: Array<[number, string]> = [];
  try {
    for (;;) {
      const found = reader.nextRecord();
      if (found === 0) await reader.fill();
      else if (found === -1) return out;
      else {
        assert.equal(reader.quoted, reader.text().includes('"'), 'quoted flag');
        out.push([reader.lineNumber, reader.text()]);
      }
    }
  } finally {
    await reader.close();
  }
}

const piece = fc.constantFrom('a', 'bc', ',', '"', '""', '\n', '\r\n', '\r', ' ', '12.5', '\xef\xbb\xbf', 'é', '\n\n');

test('ByteLineReader finds the records, line numbers and text LineReader finds, for any chunk size', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'streamwatch-bytes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'in.csv');
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 2, max: 64 }), fc.boolean(), async (pieces, chunkBytes, bom) => {
      writeFileSync(path, Buffer.from((bom ? '\xef\xbb\xbf' : '') + pieces.join(''), 'latin1'));
      assert.deepEqual(await byteRecords(path, chunkBytes), await lineRecords(path));
    }),
    { numRuns: 300 },
  );
});

const header = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';
// Mostly valid fields, so that whole rows are often valid and each kind of bad field is met alone.
const mostly = <T>(valid: fc.Arbitrary<T>, any: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: any, weight: 1 });
const time = mostly(fc.constantFrom('20:53:00', '9:05:10', '23:59:59', '00:00:05', '12:00:00'),
  fc.constantFrom('24:00:00', '12:60:00', ' 20:53:00', '2022-08-03T06:51:40Z', '1659509500', 'x', '', '20:5:00'));
const serverId = mostly(fc.constantFrom('server_1', 'server_2', 's-3.a:b', 'y'.repeat(128), 'server_10'),
  fc.constantFrom('', 'bad id', 'é', 'x'.repeat(129)));
const metric = mostly(fc.constantFrom('0', '12.5', '100', '100.00', '+5', '-0', '1e3', '2.5E-2', '.5', '5.', '1234567890123456789', '0.0000000000000000001', '99.999', '000000000000000000012.5', '4149.80'),
  fc.constantFrom('100.01', '101', '-1', ' 7', '7 ', '', '.', 'nan', 'Infinity', '1..2', '3,4'));
const row = fc.tuple(time, serverId, metric, metric, metric, metric, metric).map((fields) => fields.join(','));

test('parseBytes accepts, rejects and reads every row as parse does (values, reasons, midnight rollover)', () => {
  fc.assert(
    // What follows the record in the buffer (a line break, nothing, or bytes a field could run on into) must not matter.
    fc.property(fc.array(fc.tuple(fc.oneof(row, fc.constant('20:53:00,server_1,1,2,3,4'), fc.constant('20:53:00,server_1,1,2,3,4,5,6')), fc.constantFrom('', '\n', '\r\n', '99', 'yy', ',1')), { maxLength: 20 }), (rows) => {
      const columns = metricColumns(header, [], 'test');
      const strings = new MetricRowParser(columns, { kind: null });
      const bytes = new MetricRowParser(columns, { kind: null });
      for (const [text, after] of rows) {
        const buffer = Buffer.from(`xx${text}${after}`, 'latin1');
        const expected = strings.parse(text);
        assert.equal(bytes.parseBytes(buffer, 2, 2 + text.length), expected, text);
        if (expected) assert.deepEqual(bytes.row, strings.row, text);
        else assert.equal(bytes.reason, strings.reason, text);
      }
    }),
    { numRuns: 500 },
  );
});

test('scanRecord reads a record as parse does, or declines it and changes nothing (ids predicted from their order or not)', () => {
  // Other column orders take scanRecord's general loop; the usual one its fast path with the id prediction.
  const layouts = [header, 'server_id,ts,cpu_pct,mem_pct,net_in,net_out,disk_io', 'ts,server_id,cpu_pct'];
  let taken = 0;
  fc.assert(
    fc.property(fc.constantFrom(...layouts), fc.array(fc.tuple(row, fc.constantFrom('\n', '\r\n', '\r', '"\n')), { maxLength: 30 }), fc.boolean(), (layout, rows, cycle) => {
      const columns = metricColumns(layout, [], 'test');
      const strings = new MetricRowParser(columns, { kind: null });
      const bytes = new MetricRowParser(columns, { kind: null });
      // Rows repeated in a cycle make the prediction hit; random ones make it miss.
      const records = cycle ? [...rows, ...rows, ...rows] : rows;
      for (const [full, end] of records) {
        const fields = full.split(',');
        const text = layout.startsWith('server_id') ? [fields[1], fields[0], ...fields.slice(2)].join(',') : layout.endsWith('cpu_pct') ? fields.slice(0, 3).join(',') : full;
        const buffer = Buffer.from(`xx${text}${end}`, 'latin1');
        const next = bytes.scanRecord(buffer, 2);
        const expected = strings.parse(text);
        if (next >= 0) {
          assert.ok(expected, `scanRecord took a row parse rejects: ${text} (${strings.reason})`);
          taken++;
          assert.equal(next, 2 + text.length + end.length, text);
          assert.deepEqual(bytes.row, strings.row, text);
        } else {
          // Declined: the general path must then give the same answer as parse.
          assert.equal(bytes.parseBytes(buffer, 2, 2 + text.length), expected, text);
          if (expected) assert.deepEqual(bytes.row, strings.row, text);
          else assert.equal(bytes.reason, strings.reason, text);
        }
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(taken > 100, `scanRecord read only ${taken} records itself`);
});
