// PGlite on disk: PostgreSQL in WASM inside this process. Only one process
// may open a data directory at a time (two would corrupt it), so opening
// takes a lock file next to the directory holding our process id; a lock
// left by a process that died (kill -9) is taken over.
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StreamwatchError } from '../../errors.ts';
import { statementError, type Database, type SqlParam, type SqlResult, type SqlSession } from './database.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (its own pid in a lock file is stale otherwise: pids are reused after restarts in containers). */
const held = new Set<string>();

/** Takes `<dir>.lock`; returns its release function. */
function takeLock(dir: string): () => void {
  const path = resolve(`${dir}.lock`);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      held.add(path);
      return () => {
        held.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StreamwatchError('SW_ERR_DATABASE', `cannot create ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    const ours = holder === process.pid;
    if ((ours && held.has(path)) || (!ours && Number.isInteger(holder) && holder > 0 && alive(holder))) {
      throw new StreamwatchError('SW_ERR_DATABASE_BUSY', `the embedded database ${dir} is in use by process ${holder} (stop it, or use --database-url with a PostgreSQL server)`);
    }
    rmSync(path, { force: true });
  }
  throw new StreamwatchError('SW_ERR_DATABASE_BUSY', `cannot lock the embedded database ${dir}`);
}

/** PGlite may throw non-Error values (the WASM module's exit status): say what it was. */
function describe(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  try {
    return `${String(error)} ${JSON.stringify(error)}`;
  } catch {
    return String(error);
  }
}

function session(target: PGlite | Transaction): SqlSession {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []): Promise<SqlResult<Row>> {
      try {
        const result = await target.query<Row>(text, params as unknown[]);
        return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
      } catch (error) {
        throw statementError(error, text);
      }
    },
  };
}

export async function openEmbedded(dir: string): Promise<Database> {
  const release = takeLock(dir);
  let db: PGlite;
  try {
    mkdirSync(dirname(dir), { recursive: true });
    db = await PGlite.create(dir);
  } catch (error) {
    release();
    throw new StreamwatchError('SW_ERR_DATABASE', `cannot open the embedded database at ${dir}: ${describe(error)}`, { cause: error });
  }
  const direct = session(db);
  return {
    engine: 'pglite',
    location: dir,
    query: direct.query,
    transaction: <T>(work: (tx: SqlSession) => Promise<T>): Promise<T> =>
      db.transaction((tx) => work(session(tx))).catch((error: unknown) => {
        throw statementError(error, 'transaction');
      }),
    async close(): Promise<void> {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
