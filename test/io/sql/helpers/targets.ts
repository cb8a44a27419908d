// The two database targets every SQL test runs against: the embedded PGlite
// (a copy of a template data directory, so initdb runs once per machine, not
// once per test) and a real PostgreSQL server: PG_TEST_URL when set (a
// database is created on it per test file), else a server this helper
// starts itself from the Debian binaries in a temporary directory on a free
// localhost port, stopped afterwards. The server target is skipped, with a
// message saying why, only when there is neither a URL nor binaries.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from '../../../../src/io/sql/database.ts';
import { openDatabase } from '../../../../src/io/sql/open.ts';

export interface SqlTarget {
  readonly name: 'pglite' | 'postgres';
  /** Why the target cannot run here, or null. */
  readonly skip: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The target's database, migrated. On PGlite only one opener at a time: close it before a child process uses it. */
  open(): Promise<Database>;
  /** Flags that point a streamwatch command at the same database. */
  cliArgs(): string[];
}

/** Per PGlite version: a data directory made by another version may not open. */
const PGLITE_VERSION = (JSON.parse(readFileSync(new URL('../../../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const TEMPLATE = join(tmpdir(), `streamwatch-pglite-template-${PGLITE_VERSION}`);

/** A PGlite data directory made once per machine; copying it costs far less than initdb in WASM. */
async function pgliteTemplate(): Promise<string> {
  if (existsSync(join(TEMPLATE, 'PG_VERSION'))) return TEMPLATE;
  const building = mkdtempSync(join(tmpdir(), 'streamwatch-pglite-build-'));
  const db = await PGlite.create(join(building, 'pg'));
  await db.close();
  try {
    renameSync(join(building, 'pg'), TEMPLATE);
  } catch {
    // Another test file made it first.
  }
  rmSync(building, { recursive: true, force: true });
  return TEMPLATE;
}

function pgliteTarget(): SqlTarget {
  let dataDir = '';
  return {
    name: 'pglite',
    skip: null,
    async start() {
      const template = await pgliteTemplate();
      dataDir = mkdtempSync(join(tmpdir(), 'sw-pglite-test-'));
      cpSync(template, join(dataDir, 'pg'), { recursive: true });
    },
    async stop() {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
    open: () => openDatabase({ dataDir, env: {} }),
    cliArgs: () => ['--data-dir', dataDir],
  };
}

function serverBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : null;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** initdb refuses root: as root the server runs as the `postgres` user. */
function asServerUser(command: string, args: string[]): string[] {
  return userInfo().uid === 0 ? ['runuser', '-u', 'postgres', '--', command, ...args] : [command, ...args];
}

function runChecked(argv: string[]): void {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

function postgresTarget(durable: boolean): SqlTarget {
  const given = process.env.PG_TEST_URL || null;
  const bin = given ? null : serverBinDir();
  let skip: string | null = null;
  if (!given && !bin) skip = 'no PostgreSQL server: PG_TEST_URL is unset and no server binaries under /usr/lib/postgresql (apt-get install postgresql)';
  else if (!given && userInfo().uid === 0 && spawnSync('id', ['postgres']).status !== 0) skip = 'running as root and there is no postgres user to run the server as';
  let adminUrl = '';
  let databaseUrl = '';
  let dir = '';
  let databaseName = '';
  return {
    name: 'postgres',
    skip,
    async start() {
      if (given) {
        adminUrl = given;
      } else {
        dir = mkdtempSync(join(tmpdir(), 'sw-pg-server-'));
        if (userInfo().uid === 0) {
          const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
          const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
          chownSync(dir, uid, gid);
        }
        const port = await freePort();
        runChecked(asServerUser(join(bin!, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']));
        runChecked(asServerUser(join(bin!, 'pg_ctl'), [
          '-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start',
          '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${durable ? 'on' : 'off'} -c max_connections=40 -c shared_buffers=32MB`,
        ]));
        adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
      }
      databaseName = `sw_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${databaseName}`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${databaseName}`;
      databaseUrl = url.toString();
    },
    async stop() {
      if (given && databaseName) {
        const admin = new pg.Client({ connectionString: adminUrl });
        await admin.connect();
        try {
          await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
        } finally {
          await admin.end();
        }
      }
      if (dir) {
        const argv = asServerUser(join(bin!, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
        spawnSync(argv[0]!, argv.slice(1), { timeout: 30_000 });
        rmSync(dir, { recursive: true, force: true });
      }
    },
    open: () => openDatabase({ url: databaseUrl }),
    cliArgs: () => ['--database-url', databaseUrl],
  };
}

/** `durable`: a server started here keeps fsync on (benchmarks); tests turn it off for speed. */
export function sqlTargets(options: { durable?: boolean } = {}): SqlTarget[] {
  return [pgliteTarget(), postgresTarget(options.durable ?? false)];
}

/** Empties every table of ours (between tests sharing a database). */
export async function truncateAll(db: Database): Promise<void> {
  await db.query('TRUNCATE server_metrics, nginx_events, window_results, incidents, sink_rejects, sink_timelines');
}
