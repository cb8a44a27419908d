import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDecimal } from '../../../src/engine/decimal.ts';
import { parseCombinedLine, parseNginxJson, parseNginxLine, parseTimeLocal, type NginxEvent } from '../../../src/io/parsers/nginx.ts';

const SAMPLE = '{"server":"s_v3","client_ip":"154.85.126.16","method":"PUT","status":"201","request_time":"0.28","host":"api_38.digikala.com","country":"US","@timestamp":"1659509511.865323"}';

function ok(line: string, serverName: string | null = null): NginxEvent {
  const parsed = parseNginxLine(line, serverName);
  assert.ok(parsed.ok, parsed.ok ? '' : `${parsed.reason}: ${line}`);
  return parsed.event;
}

function reason(line: string, serverName: string | null = null): string {
  const parsed = parseNginxLine(line, serverName);
  assert.ok(!parsed.ok, `accepted: ${line}`);
  return parsed.reason;
}

function withField(name: string, value: unknown): string {
  const record = JSON.parse(SAMPLE) as Record<string, unknown>;
  if (value === undefined) delete record[name];
  else record[name] = value;
  return JSON.stringify(record);
}

test('the JSON event of SEMANTICS.md section 4', () => {
  const e = ok(SAMPLE);
  assert.equal(e.instant, 1659509511865);
  assert.equal(new Date(e.instant).toISOString(), '2022-08-03T06:51:51.865Z');
  assert.deepEqual([e.clientIp, e.host, e.country, e.method, e.status, e.server], ['154.85.126.16', 'api_38.digikala.com', 'US', 'PUT', 201, 's_v3']);
  assert.equal(formatDecimal(e.requestTime!), '0.28');
});

test('status, request_time and @timestamp may be numbers; @timestamp may be an ISO instant', () => {
  const e = ok(withField('status', 404).replace('"0.28"', '0.5').replace('"1659509511.865323"', '1659509511.5'));
  assert.equal(e.status, 404);
  assert.equal(formatDecimal(e.requestTime!), '0.5');
  assert.equal(e.instant, 1659509511500);
  assert.equal(ok(withField('@timestamp', 1659509511)).instant, 1659509511000);
  assert.equal(ok(withField('@timestamp', '2022-08-03T06:51:51.865Z')).instant, 1659509511865);
  assert.equal(ok(withField('request_time', 0)).requestTime!.units, 0);
  assert.equal(ok(withField('method', undefined)).method, '-');
  assert.equal(ok(withField('extra', { nested: true })).clientIp, '154.85.126.16', 'unknown fields are ignored');
});

test('invalid JSON events are rejected with a reason', () => {
  assert.equal(reason(withField('status', '99')), 'status 99 is outside 100-599');
  assert.equal(reason(withField('status', 600)), 'status 600 is outside 100-599');
  assert.equal(reason(withField('status', 200.5)), "status '200.5' is not an integer");
  assert.equal(reason(withField('status', 'abc')), "status 'abc' is not an integer");
  assert.equal(reason(withField('status', undefined)), 'status is missing');
  assert.equal(reason(withField('status', true)), 'status is not a string or number');
  assert.equal(reason(withField('request_time', '-0.1')), 'request_time -0.1 is negative');
  assert.equal(reason(withField('request_time', 'NaN')), "request_time 'NaN' is not finite");
  assert.equal(reason(withField('request_time', 'fast')), "request_time 'fast' is not a number");
  assert.equal(reason(withField('request_time', null)), 'request_time is not a string or number');
  assert.equal(reason(withField('client_ip', '')), 'client_ip is empty');
  assert.equal(reason(withField('host', undefined)), 'host is missing');
  assert.equal(reason(withField('country', 7)), 'country is not a string');
  assert.equal(reason(withField('client_ip', 'a\nb')), 'client_ip holds a control character');
  assert.equal(reason(withField('@timestamp', 'yesterday')), "@timestamp 'yesterday' is not epoch seconds");
  assert.equal(reason(withField('@timestamp', -5)), "@timestamp '-5' is not epoch seconds");
  assert.equal(reason(withField('@timestamp', undefined)), '@timestamp is missing');
  assert.deepEqual(parseNginxJson('[1,2]'), { ok: false, reason: 'not a JSON object' });
  assert.equal(reason('{"client_ip":'), 'not valid JSON');
  assert.equal(parseNginxJson('null').ok, false);
});

const COMBINED = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';

test('the combined log format: host from --server-name, country --, no request time', () => {
  const e = ok(COMBINED, 'web1');
  assert.equal(e.instant, Date.UTC(2000, 9, 10, 20, 55, 36));
  assert.deepEqual([e.clientIp, e.host, e.country, e.method, e.status, e.requestTime], ['127.0.0.1', 'web1', '--', 'GET', 200, null]);
  assert.equal(ok(COMBINED).host, null, 'no virtual host and no server name');
});

test('combined extensions: trailing request time and virtual host, name=value fields, leading virtual host', () => {
  let e = ok(`${COMBINED} 0.123`, 'web1');
  assert.equal(formatDecimal(e.requestTime!), '0.123');
  assert.equal(e.host, 'web1');
  e = ok(`${COMBINED} 0.123 shop.example.com`, 'web1');
  assert.deepEqual([formatDecimal(e.requestTime!), e.host], ['0.123', 'shop.example.com']);
  e = ok(`${COMBINED} "10.1.1.1, 10.2.2.2" rt=0.050 uct="0.001" host=api.example.com`);
  assert.deepEqual([formatDecimal(e.requestTime!), e.host], ['0.05', 'api.example.com']);
  e = ok(`${COMBINED} - 1.5 0.9`);
  assert.equal(formatDecimal(e.requestTime!), '1.5', 'the first number is the request time');
  e = ok(`vhost.example.com ${COMBINED}`, 'web1');
  assert.equal(e.host, 'vhost.example.com');
  assert.equal(e.clientIp, '127.0.0.1');
  e = ok('10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "\\x16\\x03\\x01" 400 150 "-" "-"');
  assert.deepEqual([e.method, e.status, e.instant], ['-', 400, Date.UTC(2024, 0, 1)]);
  e = ok('10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET /a\\"b HTTP/1.1" 404 - "-" "curl/8"');
  assert.deepEqual([e.method, e.status], ['GET', 404]);
});

test('invalid combined lines are rejected with a reason', () => {
  assert.equal(reason(COMBINED.replace(' 200 ', ' 700 ')), 'status 700 is outside 100-599');
  assert.equal(reason(COMBINED.replace('10/Oct/2000', '31/Apr/2000')), "time '31/Apr/2000:13:55:36 -0700' is not dd/Mon/yyyy:HH:MM:SS +hhmm");
  assert.equal(reason(COMBINED.replace(' 2326 ', ' 12ab ')), "body_bytes_sent '12ab' is not a number");
  assert.equal(reason(`${COMBINED} rt=-1`), 'request time -1 is negative');
  assert.equal(reason(`${COMBINED} "open`), 'unterminated quoted field after the user agent');
  assert.equal(reason(`${COMBINED}x`), 'unexpected text after the user agent');
  assert.equal(reason('hello world'), 'not a JSON object nor an NGINX combined log line');
  assert.ok(Number.isNaN(parseTimeLocal('10/Foo/2000:13:55:36 -0700')));
  assert.equal(parseTimeLocal('10/Oct/2000:13:55:36.250 +0000'), Date.UTC(2000, 9, 10, 13, 55, 36, 250));
});

test('lines cut at random offsets, or with random bytes spliced in, never throw', () => {
  const lines = [SAMPLE, COMBINED, `${COMBINED} 0.123 host.example`, withField('status', 404)];
  fc.assert(
    fc.property(fc.constantFrom(...lines), fc.nat(), fc.nat(), fc.string({ maxLength: 8 }), (line, a, b, noise) => {
      const cut = line.slice(0, a % (line.length + 1));
      const spliced = line.slice(0, a % (line.length + 1)) + noise + line.slice(b % (line.length + 1));
      for (const text of [cut, spliced]) {
        for (const parsed of [parseNginxLine(text, 'web1'), parseCombinedLine(text), parseNginxJson(text)]) {
          if (!parsed.ok) assert.equal(typeof parsed.reason, 'string');
          else assert.ok(Number.isInteger(parsed.event.instant));
        }
      }
    }),
    { numRuns: 3000 },
  );
});

test('a long hostile line is handled in linear time', () => {
  const hostile = `1 - - [${'x'.repeat(50_000)}] "${'\\"'.repeat(20_000)} ${'a '.repeat(20_000)}`;
  const started = performance.now();
  assert.equal(parseNginxLine(hostile).ok, false);
  assert.ok(performance.now() - started < 500);
});
