// `streamwatch tail` as a shell runs it: a reader that goes away (`| head`)
// ends it quietly with exit 0, and SIGTERM ends it with exit 0 even while a
// reader that stopped reading holds its output back. Both used to hang until
// kill -9 (the tail waited for a 'drain' that a closed or stuck pipe never
// sends). The real CLI in a child process, on an embedded broker.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { brokerFor } from '../io/produce/helpers.ts';
import { cli, killChildren, startCli } from './helpers/kafka-cli.ts';

after(killChildren);

/** A broker whose nginx-logs holds more than a pipe's buffer (64 KiB) of JSON lines. */
async function brokerWithLogs(t: Parameters<typeof brokerFor>[0]): Promise<string> {
  const { brokers } = await brokerFor(t);
  const produced = await cli(['produce', 'nginx', '--generate', '--events', '3000', '--rate', '100000', '-b', brokers]);
  assert.equal(produced.code, 0, produced.stderr);
  return brokers;
}

/** Resolves with the first chunk the child writes to stdout. */
function firstChunk(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
}

test('tail | head -1: the reader goes away (EPIPE), tail stops quietly with exit 0', { timeout: 90_000 }, async (t) => {
  const brokers = await brokerWithLogs(t);
  // No --until-idle: only the closed pipe can end it.
  const tail = startCli(['tail', 'nginx-logs', '--from-beginning', '-b', brokers], { timeoutMs: 30_000 });
  const first = await firstChunk(tail.child.stdout!);
  assert.match(first, /^\{"server":/);
  tail.child.stdout!.destroy(); // what `head -1` does once it has its line
  const result = await tail.done;
  assert.equal(result.signal, null, 'tail had to be killed');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
});

test('tail with a reader that stopped reading: SIGTERM ends it with exit 0', { timeout: 90_000 }, async (t) => {
  const brokers = await brokerWithLogs(t);
  const tail = startCli(['tail', 'nginx-logs', '--from-beginning', '-b', brokers], { timeoutMs: 30_000 });
  await firstChunk(tail.child.stdout!);
  // Stop reading: the pipe fills and the tail's writes back up behind it.
  tail.child.stdout!.pause();
  await sleep(500);
  tail.child.kill('SIGTERM');
  const result = await tail.done;
  assert.equal(result.signal, null, 'tail ignored SIGTERM and had to be killed');
  assert.equal(result.code, 0, result.stderr);
});

test('tail --max N prints N lines and exits 0; a missing topic is one line, exit 1', { timeout: 90_000 }, async (t) => {
  const brokers = await brokerWithLogs(t);
  const result = await cli(['tail', 'nginx-logs', '--from-beginning', '--max', '5', '-b', brokers]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 5);
  for (const line of lines) assert.equal(typeof JSON.parse(line), 'object');
  const missing = await cli(['tail', 'no-such-topic', '-b', brokers]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
});
