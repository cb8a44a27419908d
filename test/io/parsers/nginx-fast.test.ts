// NGINX JSON events: the character scanner (the common flat shape) and the
// full JSON.parse path give the same result on any input, reject reasons
// included. Generated events mix the producers' shape with everything that
// must leave the scanner: escapes, exponents, signs, long numbers, numbers
// for strings and strings for numbers, ISO timestamps, duplicate and
// missing keys, nested values and literals, whitespace, cuts and stray
// characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNginxJson, parseNginxJsonFull, parseNginxLine } from '../../../src/io/parsers/nginx.ts';

const text = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9_.:-]{1,20}$/).map((s) => `"${s}"`) },
  fc.constantFrom('""', `"${'h'.repeat(255)}"`, `"${'h'.repeat(256)}"`, '"é ü"', '"a\u007fb"', '"a\\tb"', '"\\u0041"', '"\\""', '"\\ud800"', '5', '-1.5', 'null', 'true', 'false', '[]', '{}', '["x"]', '{"a":{"b":[1,null]}}'),
);

const digits = (min: number, max: number) => fc.integer({ min, max }).map(String);

const status = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(200, 201, 204, 301, 404, 403, 499, 500, 503).map((s) => `"${s}"`) },
  fc.constantFrom(200, 404, 99, 100, 599, 600).map(String),
  fc.constantFrom('"0201"', '"2e2"', '2e2', '2.01e2', '200.0', '200.5', '"200.0"', '" 200"', '""', '"abc"', '"1234567890"', '"-200"', '-200', '1e400', 'null', 'true', '[200]'),
);

const requestTime = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(digits(0, 30), digits(0, 999)).map(([a, b]) => `"${a}.${b}"`) },
  fc.tuple(digits(0, 30), digits(0, 999)).map(([a, b]) => `${a}.${b}`),
  fc.constantFrom('"0"', '0', '"3."', '".25"', '"."', '""', '"-0.5"', '-0.5', '-0', '"-0"', '"+1"', '"1e3"', '1e3', '1e-7', '1E+2', '"0.000"', '"0.0000000000000000000000000000001"', '"123456789012345"', '"1234567890123456"', '"0.1234567890123456"', '"00000000000000000001.5"', '"nan"', '"Infinity"', '"0x10"', '" 1"', 'null', '{}'),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map(String),
);

const timestamp = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(digits(1_600_000_000, 1_800_000_000), digits(0, 999_999)).map(([a, b]) => `"${a}.${b.padStart(6, '0')}"`) },
  fc.tuple(digits(0, 1_800_000_000), fc.stringMatching(/^[0-9]{0,10}$/)).map(([a, b]) => `"${a}.${b}"`),
  fc.tuple(digits(1_600_000_000, 1_800_000_000), digits(0, 999_999)).map(([a, b]) => `${a}.${b}`),
  fc.constantFrom('"1659509511"', '1659509511', '"1659509511."', '"999999999999"', '"1000000000000"', '"0"', '"0.5"', '".5"', '""', '"-1"', '-1', '1.6595e9', '1e400', '"2022-08-03T06:51:40Z"', '"2022-08-03T06:51:40.123+02:00"', '"2022-08-03 06:51:40"', '"1659509511.1234567891"', 'null', 'true'),
  fc.double({ min: 0, max: 2e9, noNaN: true }).map(String),
);

const extraValue = fc.oneof(text, status, fc.constantFrom('[]', '[1,"x",{"y":false}]', '{"k":"v"}', '"\\n"', '1e400', '-0.0e-0', '01', '1.', '.5', '+1', '-', 'nul'));

interface Entry {
  key: string;
  value: string;
}

const event = fc
  .record({
    server: fc.option(text, { freq: 8 }),
    clientIp: fc.option(text, { freq: 12 }),
    method: fc.option(text, { freq: 8 }),
    status: fc.option(status, { freq: 12 }),
    requestTime: fc.option(requestTime, { freq: 12 }),
    host: fc.option(text, { freq: 12 }),
    country: fc.option(text, { freq: 12 }),
    timestamp: fc.option(timestamp, { freq: 12 }),
    extras: fc.array(fc.record({ key: fc.constantFrom('"status"', '"host"', '"client_ip"', '"@timestamp"', '"other"', '"hos\\u0074"', '"__proto__"', '""', '"Host"', '"request_time "'), value: extraValue }), { maxLength: 3 }),
    order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    space: fc.constantFrom('', '', '', '', ' ', '\n\t', '\r ', '\u00a0'),
    damage: fc.option(fc.tuple(fc.nat(), fc.constantFrom('', '"', ',', '}', '{', '\\', ':', 'x', '\u0001', ' ', '\ufeff')), { freq: 6 }),
  })
  .map(({ server, clientIp, method, status: st, requestTime: rt, host, country, timestamp: ts, extras, order, space, damage }) => {
    const entries: Entry[] = [];
    const put = (key: string, value: string | null) => {
      if (value !== null) entries.push({ key: `"${key}"`, value });
    };
    put('server', server);
    put('client_ip', clientIp);
    put('method', method);
    put('status', st);
    put('request_time', rt);
    put('host', host);
    put('country', country);
    put('@timestamp', ts);
    entries.push(...extras);
    // Mostly in the producers' order; sometimes shuffled.
    if (order[0]! % 4 === 0) {
      const rank = new Map(entries.map((e, i) => [e, order[i % 12]!]));
      entries.sort((a, b) => rank.get(a)! - rank.get(b)!);
    }
    let line = `${space}{${space}${entries.map((e) => `${e.key}${space}:${space}${e.value}`).join(`${space},${space}`)}${space}}${space}`;
    if (damage !== null) {
      const [at, insert] = damage;
      const cut = at % (line.length + 1);
      line = insert === '' ? line.slice(0, cut) : line.slice(0, cut) + insert + line.slice(cut);
    }
    return line;
  });

test('scanner and JSON.parse path agree on any event, reject reasons included', () => {
  fc.assert(
    fc.property(event, (line) => {
      assert.deepEqual(parseNginxJson(line), parseNginxJsonFull(line), line);
    }),
    { numRuns: 20_000 },
  );
});

test('the producers\' events are read, and agree with the full path', () => {
  const lines = [
    '{"server":"s_v3","client_ip":"154.85.126.16","method":"PUT","status":"201","request_time":"0.28","host":"api_38.digikala.com","country":"US","@timestamp":"1659509511.865323"}',
    '{"server":"s_v1","client_ip":"10.0.0.1","method":"GET","status":404,"request_time":0.005,"host":"h","country":"IR","@timestamp":1659509511.865323}',
    '{ "client_ip" : "10.0.0.1", "status" : "500", "request_time" : "12", "host" : "h", "country" : "--", "@timestamp" : "1659509511", "extra" : -1.5e3 }',
  ];
  for (const line of lines) {
    const fast = parseNginxJson(line);
    assert.ok(fast.ok, line);
    assert.deepEqual(fast, parseNginxJsonFull(line));
    assert.deepEqual(parseNginxLine(`  ${line}`), fast);
  }
  const first = parseNginxJson(lines[0]!);
  assert.ok(first.ok);
  assert.deepEqual(first.event, { instant: 1659509511865, clientIp: '154.85.126.16', host: 'api_38.digikala.com', country: 'US', method: 'PUT', status: 201, requestTime: { units: 28, scale: 2 }, server: 's_v3' });
  // A bad field on the common shape still gets the full path's reason.
  assert.deepEqual(parseNginxJson('{"client_ip":"1.2.3.4","status":"700","request_time":"0.1","host":"h","country":"US","@timestamp":"1659509511"}'), { ok: false, reason: 'status 700 is outside 100-599' });
  assert.deepEqual(parseNginxJson('{"client_ip":"","status":"200","request_time":"0.1","host":"h","country":"US","@timestamp":"1659509511"}'), { ok: false, reason: 'client_ip is empty' });
});
