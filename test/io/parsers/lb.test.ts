import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDecimal } from '../../../src/engine/decimal.ts';
import { parseLbLine } from '../../../src/io/parsers/lb.ts';

const LINE = '2024-05-01T10:00:00.123Z lb-1 server_3 GET /files/a.txt 200 35';

test('the line of SEMANTICS.md section 5', () => {
  const parsed = parseLbLine(LINE);
  assert.ok(parsed.ok);
  const e = parsed.event;
  assert.deepEqual([e.instant, e.balancer, e.backend, e.method, e.path, e.status, formatDecimal(e.latency)], [Date.UTC(2024, 4, 1, 10, 0, 0, 123), 'lb-1', 'server_3', 'GET', '/files/a.txt', 200, '35.0']);
  const tabs = parseLbLine('  2024-05-01T12:00:00+02:00\tlb-1  server_3 POST /x 503 1.25 ');
  assert.ok(tabs.ok);
  assert.equal(tabs.event.instant, Date.UTC(2024, 4, 1, 10));
  assert.equal(formatDecimal(tabs.event.latency), '1.25');
  const epoch = parseLbLine('1714557600.5 lb-1 s GET / 200 0');
  assert.ok(epoch.ok && epoch.event.instant === 1714557600500);
});

test('invalid lines are rejected with a reason', () => {
  const reason = (line: string) => {
    const parsed = parseLbLine(line);
    assert.ok(!parsed.ok, line);
    return parsed.reason;
  };
  assert.equal(reason('2024-05-01T10:00:00Z lb-1 server_3 GET /a 200'), 'expected 7 fields, found 6');
  assert.equal(reason(`${LINE} extra`), 'expected 7 fields, found 8');
  assert.equal(reason(LINE.replace('2024-05-01T10:00:00.123Z', '10:00:00')), "time '10:00:00' does not parse");
  assert.equal(reason(LINE.replace(' 200 ', ' 99 ')), 'status 99 is outside 100-599');
  assert.equal(reason(LINE.replace(' 200 ', ' 2xx ')), "status '2xx' is not an integer");
  assert.equal(reason(LINE.replace(' 200 ', ' 600 ')), 'status 600 is outside 100-599');
  assert.equal(reason(LINE.replace(/ 35$/, ' -3')), 'latency -3 is negative');
  assert.equal(reason(LINE.replace(/ 35$/, ' Infinity')), "latency 'Infinity' is not finite");
  assert.equal(reason(LINE.replace(/ 35$/, ' 3ms')), "latency '3ms' is not a number");
  assert.equal(reason(''), 'expected 7 fields, found 1');
});

test('lines cut at random offsets never throw', () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.string({ maxLength: 6 }), (a, b, noise) => {
      const cut = LINE.slice(0, a % (LINE.length + 1));
      const spliced = cut + noise + LINE.slice(b % (LINE.length + 1));
      for (const text of [cut, spliced]) {
        const parsed = parseLbLine(text);
        if (!parsed.ok) assert.equal(typeof parsed.reason, 'string');
      }
    }),
    { numRuns: 3000 },
  );
});
