// The hand-over between the batch reader's threads: items come out once
// each, oldest first, whether they were put before or after `take`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mailbox } from '../../src/io/mailbox.ts';

test('Mailbox: items put before and after take come out once each, in order', async () => {
  const box = new Mailbox<number>([1, 2]);
  assert.equal(await box.take(), 1);
  assert.equal(await box.take(), 2);
  const waiting = box.take();
  box.put(3);
  box.put(4);
  assert.equal(await waiting, 3);
  assert.equal(await box.take(), 4);
  let got: number | null = null;
  void box.take().then((n) => (got = n));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(got, null, 'nothing to take yet');
  box.put(5);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(got, 5);
});
