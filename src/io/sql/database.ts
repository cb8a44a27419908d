// The one database interface of streamwatch. Two engines run the same SQL
// behind it: PGlite (PostgreSQL compiled to WASM, embedded, the default) and
// a PostgreSQL server reached with `pg`. Callers see plain rows; numeric
// columns come back as strings (exact), timestamptz as Date, on both; a
// failed statement is one SW_ERR_DATABASE line on both.
import { StreamwatchError } from '../../errors.ts';

export type SqlParam = string | number | boolean | null | Date | readonly (string | number | boolean | null)[];

export interface SqlResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted by the statement (0 for a SELECT on some engines). */
  rowCount: number;
}

/** Something that runs one statement: the database or an open transaction. */
export interface SqlSession {
  query<Row extends object = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<SqlResult<Row>>;
}

export interface Database extends SqlSession {
  readonly engine: 'pglite' | 'postgres';
  /** Where the data lives, for logs (a path, or the URL without its password). */
  readonly location: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A failed statement as one line: the server's message and the statement's first words (never its parameters). */
export function statementError(error: unknown, sql: string): StreamwatchError {
  if (error instanceof StreamwatchError) return error;
  const words = sql.trim().split(/\s+/).slice(0, 3).join(' ');
  return new StreamwatchError('SW_ERR_DATABASE', `${words} ...: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
