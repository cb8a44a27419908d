import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBrokerStore } from '../../../src/broker/storage/index.ts';
import { withTempDir } from './helpers.ts';

test('a data directory is opened by one store at a time; a stale lock is taken over', async () => {
  await withTempDir(async (dir) => {
    const store = await openBrokerStore(dir, { fsync: 'never' });
    await assert.rejects(openBrokerStore(dir, { fsync: 'never' }), /in use by this process/);
    await store.close();
    const again = await openBrokerStore(dir, { fsync: 'never' });
    await again.close();
    // A lock left behind by a process that is gone (kill -9).
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(dir, '.lock'), `${gone}\n`);
    const afterCrash = await openBrokerStore(dir, { fsync: 'never' });
    await afterCrash.close();
  });
});
