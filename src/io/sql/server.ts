// A PostgreSQL server through `pg`: a small pool, one client held for the
// length of a transaction. Connection failures become SW_ERR_DATABASE lines
// naming the server (never the password).
import pg from 'pg';
import { StreamwatchError } from '../../errors.ts';
import { statementError, type Database, type SqlParam, type SqlResult, type SqlSession } from './database.ts';

/** The URL as it may be printed: the password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

function session(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []): Promise<SqlResult<Row>> {
      try {
        const result = await client.query<Row>(text, params as unknown[]);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      } catch (error) {
        throw statementError(error, text);
      }
    },
  };
}

export async function openServer(url: string): Promise<Database> {
  const location = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StreamwatchError('SW_ERR_DATABASE', `cannot connect to PostgreSQL at ${location}: ${(error as Error).message}`, { cause: error });
  }
  const direct = session(pool);
  return {
    engine: 'postgres',
    location,
    query: direct.query,
    async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work(session(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw statementError(error, 'transaction');
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
