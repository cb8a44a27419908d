// readRange against the embedded broker: exactly the records between two
// offsets (batches starting before `from` and reaching past `to` are cut),
// empty ranges, several fetches for a long range, and a range past the log
// end reported as an error once its time is up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts';
import { readRange } from '../../src/kafka/read-range.ts';
import { StreamwatchError } from '../../src/errors.ts';
import { withBroker } from '../broker/helpers/broker.ts';

test('readRange: the records from `from` up to `to`, in order, whatever the batches; empty and unreachable ranges', async () => {
  await withBroker(async (broker) => {
    const brokers = [broker.address];
    const admin = await KafkaAdmin.connect({ brokers });
    await admin.ensureTopics(['ranged'], 2);
    await admin.close();
    const producer = await KafkaProducer.connect({ brokers, batchMessages: 97, lingerMs: 2 });
    await producer.useTopics(['ranged']);
    // Long values: the whole partition needs several 4 MB fetches.
    const value = (i: number) => `{"i":${i},"pad":"${'x'.repeat(200 + (i % 13))}"}`;
    for (let i = 0; i < 60_000; i++) {
      const wait = producer.send('ranged', null, value(i), i % 2);
      if (wait) await wait;
    }
    await producer.close();
    const config = { brokers };
    const middle = await readRange(config, 'ranged', 1, 150, 420);
    assert.deepEqual(middle.map((r) => r.offset), Array.from({ length: 270 }, (_, i) => 150 + i));
    assert.deepEqual(middle.map((r) => r.value?.toString()), Array.from({ length: 270 }, (_, i) => value(2 * (150 + i) + 1)));
    assert.ok(middle.every((r) => r.topic === 'ranged' && r.partition === 1));
    assert.deepEqual(await readRange(config, 'ranged', 0, 500, 500), []);
    const whole = await readRange(config, 'ranged', 0, 0, 30_000);
    assert.equal(whole.length, 30_000);
    assert.ok(whole.every((r, i) => r.offset === i && r.value?.toString() === value(2 * i)));
    await assert.rejects(readRange(config, 'ranged', 0, 29_990, 30_010, 500), (error: unknown) => {
      assert.ok(error instanceof StreamwatchError);
      assert.equal(error.code, 'SW_ERR_KAFKA');
      assert.match(error.message, /timed out at 30000/);
      return true;
    });
  });
});
