// Metric messages without a broker: CSV row → JSON per topic (numbers as
// their CSV text, canonical only where the text is not a JSON number) and
// JSON → CSV row (numbers copied, malformed or incomplete messages rejected
// with a reason), and the two round-trip. Also fed cut at every offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricDecoder, MetricEncoder, isJsonNumber, metricTopic } from '../../src/io/kafka-metrics.ts';
import { MetricRowParser, metricColumns } from '../../src/io/metric-csv.ts';

const HEADER = 'ts,server_id,cpu_pct,mem_pct,net_in,net_out,disk_io';

function encode(line: string, header = HEADER): string[] {
  const columns = metricColumns(header, [], 'test');
  const parser = new MetricRowParser(columns, { kind: null });
  assert.ok(parser.parse(line), parser.reason);
  return [...new MetricEncoder(columns).encode(line, 0, line.length, parser.row).values];
}

test('encoder: one JSON per topic, numbers as written', () => {
  assert.deepEqual(encode('20:53:00,server_1,34.74,46.40,359.45,489.36,33.5'), [
    '{"ts":"20:53:00","server_id":"server_1","cpu_pct":34.74}',
    '{"ts":"20:53:00","server_id":"server_1","mem_pct":46.40}',
    '{"ts":"20:53:00","server_id":"server_1","net_in":359.45,"net_out":489.36}',
    '{"ts":"20:53:00","server_id":"server_1","disk_io":33.5}',
  ]);
  assert.deepEqual(encode('2022-08-03T06:51:40Z,s.1:a, +5 ,.5,5.,1e3,007'), [
    '{"ts":"2022-08-03T06:51:40Z","server_id":"s.1:a","cpu_pct":5.0}',
    '{"ts":"2022-08-03T06:51:40Z","server_id":"s.1:a","mem_pct":0.5}',
    '{"ts":"2022-08-03T06:51:40Z","server_id":"s.1:a","net_in":5.0,"net_out":1e3}',
    '{"ts":"2022-08-03T06:51:40Z","server_id":"s.1:a","disk_io":7.0}',
  ]);
  // Columns by name, in any order; only the topics whose fields are present.
  assert.deepEqual(encode('server_9,21:00:05,80,"90.5"', 'server_id,timestamp,cpu_pct,mem_pct'), [
    '{"ts":"21:00:05","server_id":"server_9","cpu_pct":80}',
    '{"ts":"21:00:05","server_id":"server_9","mem_pct":90.5}',
  ]);
});

test('decoder: rows for valid messages, reasons for the rest', () => {
  const cpu = new MetricDecoder(metricTopic('topic-cpu')!);
  const net = new MetricDecoder(metricTopic('topic-net')!);
  assert.deepEqual(cpu.decode('{"ts":"20:53:00","server_id":"server_1","cpu_pct":34.70}'), { ok: true, line: '20:53:00,server_1,34.70' });
  assert.deepEqual(cpu.decode(' { "server_id" : "a,b" , "extra":[1,{"x":"}"}], "timestamp":1659509511.5, "cpu_pct":-0 } '), { ok: true, line: '1659509511.5,"a,b",-0' });
  assert.deepEqual(net.decode('{"ts":"x\\"y","server_id":"s","net_in":1e2,"net_out":0.25}'), { ok: true, line: '"x""y",s,1e2,0.25' });
  const reasons: Array<[string, RegExp]> = [
    ['', /not a JSON object/],
    ['[1]', /not a JSON object/],
    ['{"ts":"1","server_id":"s"}', /missing cpu_pct/],
    ['{"ts":"1","server_id":"s","cpu_pct":"5"}', /cpu_pct is not a number/],
    ['{"ts":"1","server_id":5,"cpu_pct":5}', /server_id is not a string/],
    ['{"ts":"1","server_id":"s","cpu_pct":05}', /bad number/],
    ['{"ts":"1","server_id":"s","cpu_pct":5}x', /text after the object/],
    ['{"ts":"1","server_id":"s","cpu_pct":5,}', /malformed/],
    ['{"ts":"1","server_id":"s","cpu_pct":NaN}', /malformed/],
  ];
  for (const [json, reason] of reasons) {
    const result = cpu.decode(json);
    assert.equal(result.ok, false, json);
    if (!result.ok) assert.match(result.reason, reason, json);
  }
});

test('decoder: every prefix of a message is rejected, never misread', () => {
  const disk = new MetricDecoder(metricTopic('topic-disk')!);
  const json = '{"ts":"20:53:00","server_id":"server_1","disk_io":33.5}';
  for (let cut = 0; cut < json.length; cut++) assert.equal(disk.decode(json.slice(0, cut)).ok, false, json.slice(0, cut));
});

test('encoder and decoder round-trip to the topic columns', () => {
  const values = encode('20:53:05,server_20,0.0,100,0,12345.678,9');
  const lines = ['topic-cpu', 'topic-mem', 'topic-net', 'topic-disk'].map((t, i) => new MetricDecoder(metricTopic(t)!).decode(values[i]!));
  assert.deepEqual(lines, [
    { ok: true, line: '20:53:05,server_20,0.0' },
    { ok: true, line: '20:53:05,server_20,100' },
    { ok: true, line: '20:53:05,server_20,0,12345.678' },
    { ok: true, line: '20:53:05,server_20,9' },
  ]);
});

test('isJsonNumber follows the JSON grammar', () => {
  for (const ok of ['0', '-0', '1.5', '10', '1e3', '1E+3', '2.5e-7']) assert.ok(isJsonNumber(ok, 0, ok.length), ok);
  for (const bad of ['', '-', '+1', '.5', '5.', '01', '1e', '1e+', '0x1', 'NaN']) assert.ok(!isJsonNumber(bad, 0, bad.length), bad);
});
