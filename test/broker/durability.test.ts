// Durability: records acknowledged with acks=-1 survive a SIGKILL of the
// broker process. The broker runs as `streamwatch broker` in a child
// process; @platformatic/kafka produces with acks=-1 while the process is
// killed; after a restart on the same data dir every acknowledged record is
// there exactly once, in order per partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { spawnBroker, ensureStopped } from './helpers/process.ts';
import type { BrokerProcess } from './helpers/process.ts';
import { run } from './helpers/broker.ts';

const PARTITIONS = 2;

test('every record acknowledged with acks=-1 is there after kill -9 and restart, once and in order', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sw-durability-'));
  let broker: BrokerProcess | undefined;
  t.after(async () => {
    await ensureStopped(broker);
    await rm(dataDir, { recursive: true, force: true });
  });

  broker = await spawnBroker(['--data-dir', dataDir, '--default-partitions', String(PARTITIONS)]);
  const producer = new Producer({ clientId: 'durability', bootstrapBrokers: [broker.address], serializers: stringSerializers, retries: 0, timeout: 2000, acks: -1, autocreateTopics: true });
  t.after(() => producer.close(true).catch(() => {}));
  const acked: string[][] = Array.from({ length: PARTITIONS }, () => []);
  let sent = 0;
  let stop = false;
  const writers = Array.from({ length: 4 }, async (_, writer) => {
    while (!stop) {
      const batch = Array.from({ length: 20 }, (_, i) => {
        const partition = (writer + i) % PARTITIONS;
        return { topic: 'durable', partition, value: `w${writer}-${String(sent++).padStart(8, '0')}` };
      });
      try {
        await producer.send({ messages: batch, acks: -1 });
        for (const message of batch) (acked[message.partition] as string[]).push(message.value);
      } catch {
        if (stop) return;
        await sleep(10);
      }
    }
  });
  // Let it produce for a while, then kill the broker in the middle of it.
  const deadline = Date.now() + 20_000;
  while (acked.flat().length < 2000) {
    if (Date.now() > deadline) {
      stop = true;
      await Promise.all(writers);
      assert.fail(`only ${acked.flat().length} records acknowledged in 20 s`);
    }
    await sleep(20);
  }
  broker.child.kill('SIGKILL');
  assert.equal(await broker.exited, 'SIGKILL');
  await sleep(200);
  stop = true;
  await Promise.all(writers);

  broker = await spawnBroker(['--data-dir', dataDir]);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const consumed = await run('kcat', ['-b', broker.address, '-C', '-t', 'durable', '-p', String(partition), '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.code, 0, consumed.stderr);
    const values = consumed.stdout.split('\n').filter(Boolean);
    assert.equal(new Set(values).size, values.length, `partition ${partition}: no record twice`);
    const present = new Set(values);
    const missing = (acked[partition] as string[]).filter((value) => !present.has(value));
    assert.deepEqual(missing, [], `partition ${partition}: every acknowledged record survived`);
    // Each writer's records were sent in increasing order: they must be stored in that order.
    for (let writer = 0; writer < 4; writer++) {
      const mine = values.filter((value) => value.startsWith(`w${writer}-`));
      assert.deepEqual(mine, [...mine].sort(), `partition ${partition}, writer ${writer}: in order`);
    }
  }
  broker.child.kill('SIGTERM');
  assert.equal(await broker.exited, 0);
  assert.match(broker.stderr(), /stopped/);
});
