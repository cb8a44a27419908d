// `streamwatch generate nginx|lb` as a user runs them: determinism by seed,
// every line valid for its parser, time order, and data on which every
// log detector reports something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLbLine } from '../../src/io/parsers/lb.ts';
import { parseNginxLine } from '../../src/io/parsers/nginx.ts';
import { nginxEvents } from '../../src/io/generators/nginx.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'streamwatch-generate-logs-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function streamwatch(...args: string[]) {
  const result = spawnSync(node, ['bin/streamwatch.js', ...args], { cwd: root, encoding: 'latin1', maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function generate(dataset: string, name: string, ...args: string[]): string {
  const file = join(dir, name);
  const run = streamwatch('generate', dataset, '--out', file, ...args);
  assert.equal(run.status, 0, run.stderr);
  return readFileSync(file, 'latin1');
}

test('generate nginx: N valid JSON events in time order, same seed same bytes, string and number fields', () => {
  const text = generate('nginx', 'a.jsonl', '--events', '3000');
  assert.equal(generate('nginx', 'b.jsonl', '--events', '3000', '--seed', '1'), text);
  assert.notEqual(generate('nginx', 'c.jsonl', '--events', '3000', '--seed', '2'), text);
  assert.equal(streamwatch('generate', 'nginx', '--out', '-', '--events', '3000').stdout, text);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 3000);
  let last = 0;
  for (const line of lines) {
    const parsed = parseNginxLine(line);
    assert.ok(parsed.ok, line);
    assert.ok(parsed.event.instant >= last, `time order: ${line}`);
    assert.match(parsed.event.host!, /^api_\d+\.digikala\.com$/);
    last = parsed.event.instant;
  }
  assert.ok(lines.some((l) => l.includes('"status":"')) && lines.some((l) => /"status":\d/.test(l)));
  const kinds = new Set([...nginxEvents({ events: 3000, seed: 1, startSeconds: 0 })].map((e) => e.kind));
  assert.deepEqual([...kinds].sort(), ['background', 'burst', 'storm']);
});

test('generate nginx: from 2,000 events on, every detector reports windows, and both burst detectors incidents', () => {
  generate('nginx', 'd.jsonl', '--events', '2000', '--seed', '3');
  for (const detector of ['ip-burst', 'host-4xx', 'country-success', 'host-latency']) {
    const out = join(dir, `${detector}.csv`);
    const incidents = join(dir, `${detector}-incidents.csv`);
    const alerts = detector === 'ip-burst' || detector === 'host-4xx';
    const run = streamwatch('job', 'nginx', '--detector', detector, '--input', join(dir, 'd.jsonl'), '--out', out, ...(alerts ? ['--incidents', incidents] : []));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /read 2000 lines, rejected 0,/);
    assert.ok(readFileSync(out, 'utf8').trim().split('\n').length > 1, `${detector} reports rows`);
    if (alerts) assert.ok(readFileSync(incidents, 'utf8').trim().split('\n').length > 1, `${detector} reports incidents`);
  }
});

test('generate lb: valid lines in time order, deterministic, summarised by job lb-summary', () => {
  const text = generate('lb', 'lb.log', '--lines', '7000');
  assert.equal(generate('lb', 'lb2.log', '--lines', '7000'), text);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 7000);
  let last = 0;
  const methods = new Set<string>();
  for (const line of lines) {
    const parsed = parseLbLine(line);
    assert.ok(parsed.ok, line);
    assert.ok(parsed.event.instant >= last);
    last = parsed.event.instant;
    methods.add(parsed.event.method);
  }
  assert.ok(methods.has('GET') && methods.has('POST') && methods.size > 2);
  const run = streamwatch('job', 'lb-summary', '--input', join(dir, 'lb.log'), '--out', join(dir, 'lb-summary.csv'));
  assert.equal(run.status, 0, run.stderr);
  const rows = readFileSync(join(dir, 'lb-summary.csv'), 'utf8').trim().split('\n');
  assert.ok(rows.length >= 2);
  const counts = rows.slice(1).map((r) => r.split(',').slice(2, 7).reduce((sum, n) => sum + Number(n), 0));
  assert.equal(counts.reduce((a, b) => a + b, 0), 7000);
});

test('generate nginx|lb: bad options are usage errors (exit 2)', () => {
  assert.equal(streamwatch('generate', 'nginx', '--out', join(dir, 'x'), '--events', '-1').status, 2);
  assert.equal(streamwatch('generate', 'lb', '--out', join(dir, 'x'), '--lines', 'many').status, 2);
  assert.equal(streamwatch('generate', 'lb').status, 2);
  assert.match(streamwatch('generate', 'nginx', '--help').stdout, /--events N/);
});
