import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { valueBatch, withTempDir } from './helpers.ts';

test('group commit: concurrent acked appends share fsync rounds; sequential ones get one each', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'always' });
    await store.createTopic('t', 4);
    const before = { ...store.counters };
    for (let i = 0; i < 5; i++) await store.partition('t', 0)!.append(valueBatch('s', 1), -1);
    assert.equal(store.counters.fsyncRounds - before.fsyncRounds, 5, 'an isolated append is synced at once');

    const mid = { ...store.counters };
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => store.partition('t', i % 4)!.append(valueBatch(`c${i}`, 2), 1)));
    assert.ok(results.every((r) => r.errorCode === 0));
    const rounds = store.counters.fsyncRounds - mid.fsyncRounds;
    const fsyncs = store.counters.fsyncs - mid.fsyncs;
    assert.ok(rounds <= 10, `400 concurrent appends took ${rounds} fsync rounds`);
    assert.ok(fsyncs <= 4 * rounds, `at most one fdatasync per partition file per round (${fsyncs})`);
    assert.equal(store.counters.appends - mid.appends, 400);

    // acks=0 and fsync 'never' do not wait for (or cause) fsyncs.
    const quiet = store.counters.fsyncs;
    await store.partition('t', 1)!.append(valueBatch('z', 1), 0);
    assert.equal(store.counters.fsyncs, quiet);
    await store.close();

    const lazy = await openBrokerStore(dir, { fsync: 'never' });
    await lazy.partition('t', 1)!.append(valueBatch('z', 1), -1);
    assert.equal(lazy.counters.fsyncs, 0);
    await lazy.close();
  });
});

test('committed offsets survive reopen, a torn last line is ignored, deletes persist', async () => {
  await withTempDir(async (dir) => {
    let now = 5000;
    const store = await openBrokerStore(dir, { fsync: 'never', now: () => now });
    await store.createTopic('a', 2);
    await store.createTopic('b', 1);
    await store.commitOffsets('g1', [
      { topic: 'a', partition: 0, offset: 10, metadata: 'm', leaderEpoch: -1 },
      { topic: 'a', partition: 1, offset: 20, metadata: null, leaderEpoch: 3 },
    ]);
    now = 6000;
    await Promise.all([
      store.commitOffsets('g1', [{ topic: 'a', partition: 0, offset: 11, metadata: '', leaderEpoch: -1 }]),
      store.commitOffsets('g2', [{ topic: 'b', partition: 0, offset: 5, metadata: null, leaderEpoch: -1 }]),
      store.commitOffsets('g3', [{ topic: 'b', partition: 0, offset: 1, metadata: null, leaderEpoch: -1 }]),
    ]);
    for (let i = 0; i < 50; i++) await store.commitOffsets('g2', [{ topic: 'b', partition: 0, offset: 100 + i, metadata: null, leaderEpoch: -1 }]);
    assert.deepEqual(store.fetchOffsets('g1', 'a', 0), [{ topic: 'a', partition: 0, offset: 11, metadata: '', leaderEpoch: -1, commitTimestamp: 6000 }]);
    assert.equal(store.fetchOffsets('g1').length, 2);
    assert.deepEqual(store.listGroupsWithOffsets(), ['g1', 'g2', 'g3']);
    await store.deleteGroupOffsets('g3');
    await store.close();
    // A crash mid-write leaves half a line.
    await appendFile(join(dir, 'group-offsets.log'), '{"g":"g1","t":"a","p":0,"o":99');

    const again = await openBrokerStore(dir, { fsync: 'never' });
    assert.deepEqual(again.listGroupsWithOffsets(), ['g1', 'g2']);
    assert.deepEqual(again.fetchOffsets('g1').map((o) => [o.topic, o.partition, o.offset, o.metadata, o.leaderEpoch]), [['a', 0, 11, '', -1], ['a', 1, 20, null, 3]]);
    assert.equal(again.fetchOffsets('g2', 'b', 0)[0]!.offset, 149);
    // Compacted on open: one line per live offset.
    assert.equal((await readFile(join(dir, 'group-offsets.log'), 'utf8')).trim().split('\n').length, 3);
    await again.deleteTopic('b');
    assert.deepEqual(again.listGroupsWithOffsets(), ['g1']);
    await again.close();
    const third = await openBrokerStore(dir, { fsync: 'never' });
    assert.deepEqual(third.listGroupsWithOffsets(), ['g1']);
    assert.deepEqual(third.fetchOffsets('g2'), []);
    await third.close();
  });
});

test('offset commits are fsynced, and concurrent commits share the fsync', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'always' });
    await store.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1, metadata: null, leaderEpoch: -1 }]);
    assert.equal(store.counters.offsetFsyncs, 1);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.commitOffsets(`g${i}`, [{ topic: 't', partition: 0, offset: i, metadata: null, leaderEpoch: -1 }])));
    assert.ok(store.counters.offsetFsyncs <= 10, `${store.counters.offsetFsyncs} fsyncs for 50 concurrent commits`);
    assert.equal(store.listGroupsWithOffsets().length, 51);
    await store.close();
  });
});

test('the offsets file is compacted while running once dead lines dominate', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    const entries = (round: number) => Array.from({ length: 100 }, (_, p) => ({ topic: 't', partition: p, offset: round * 1000 + p, metadata: null, leaderEpoch: -1 }));
    for (let round = 0; round < 130; round++) await store.commitOffsets('g', entries(round));
    const lines = (await readFile(join(dir, 'group-offsets.log'), 'utf8')).trim().split('\n').length;
    assert.ok(lines < 10_000, `${lines} lines after 13,000 commits of 100 live offsets`);
    await store.close();
    const again = await openBrokerStore(dir, { fsync: 'never' });
    assert.deepEqual(again.fetchOffsets('g').map((o) => o.offset), entries(129).map((e) => e.offset));
    await again.close();
  });
});
