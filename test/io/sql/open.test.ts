// Opening databases: one process at a time on an embedded data directory
// (stale locks of dead processes taken over), clear errors for unreachable
// servers without leaking passwords, and later migrations applied once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { StreamwatchError } from '../../../src/errors.ts';
import { migrate, migrations } from '../../../src/io/sql/migrations.ts';
import { openDatabase } from '../../../src/io/sql/open.ts';
import { freePort, sqlTargets } from './helpers/targets.ts';

test('an unreachable server is one SW_ERR_DATABASE line without the password', async () => {
  const url = `postgres://someone:s3cret@127.0.0.1:${await freePort()}/nothing`;
  await assert.rejects(openDatabase({ url }), (error: unknown) => {
    assert.ok(error instanceof StreamwatchError);
    assert.equal(error.code, 'SW_ERR_DATABASE');
    assert.match(error.message, /^cannot connect to PostgreSQL at postgres:\/\/someone:\*\*\*@127\.0\.0\.1:\d+\/nothing: .*ECONNREFUSED/);
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});

for (const target of sqlTargets()) {
  describe(`opening ${target.name}`, { skip: target.skip ?? false }, () => {
    before(() => target.start());
    after(() => target.stop());

    test('a later migration is applied once, after the earlier ones', async () => {
      const db = await target.open();
      try {
        const next = [...migrations, { version: 99, name: 'test: extra table', sql: 'CREATE TABLE extra_test (id integer); CREATE INDEX extra_test_id ON extra_test (id)' }];
        assert.deepEqual(await migrate(db, next), [99]);
        assert.deepEqual(await migrate(db, next), []);
        const versions = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(versions.rows.map((r) => Number(r.version)), [1, 99]);
      } finally {
        await db.close();
      }
    });

    test('a failed statement is one SW_ERR_DATABASE line, and its transaction leaves nothing behind', async () => {
      const db = await target.open();
      try {
        await assert.rejects(db.query('SELECT * FROM no_such_table'), (error: unknown) => {
          assert.ok(error instanceof StreamwatchError);
          assert.equal(error.code, 'SW_ERR_DATABASE');
          assert.match(error.message, /^SELECT \* FROM \.\.\.: relation "no_such_table" does not exist$/);
          return true;
        });
        await assert.rejects(db.transaction(async (tx) => {
          await tx.query("INSERT INTO sink_rejects (source_topic, source_partition, source_offset, reason) VALUES ('t', 0, 0, 'r')");
          await tx.query('INSERT INTO sink_rejects (source_topic) VALUES (NULL)');
        }), (error: unknown) => error instanceof StreamwatchError && error.code === 'SW_ERR_DATABASE');
        assert.deepEqual((await db.query('SELECT count(*)::integer AS n FROM sink_rejects')).rows, [{ n: 0 }]);
      } finally {
        await db.close();
      }
    });

    if (target.name === 'pglite') {
      test('the embedded directory is used by one opener at a time; a dead holder\'s lock is taken over', async () => {
        const dataDir = target.cliArgs()[1]!;
        const db = await target.open();
        try {
          await assert.rejects(target.open(), (error: unknown) => error instanceof StreamwatchError && error.code === 'SW_ERR_DATABASE_BUSY' && /in use by process \d+/.test(error.message));
        } finally {
          await db.close();
        }
        // A lock left by a process that no longer exists (pids stay below 2^22 on Linux).
        writeFileSync(`${dataDir}/pg.lock`, `${2 ** 22 + 1}\n`);
        const again = await target.open();
        await again.close();
      });
    }
  });
}
