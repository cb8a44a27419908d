// Chooses the database: `--database-url`, else env DATABASE_URL, else the
// embedded PGlite under `<data-dir>/pg`; then brings the schema up to date.
import { join } from 'node:path';
import type { Database } from './database.ts';
import { migrate } from './migrations.ts';

export interface DatabaseOptions {
  /** postgres://... ; when absent, DATABASE_URL, then the embedded database. */
  url?: string | undefined;
  /** Data directory of the embedded database's parent (default `.streamwatch`). */
  dataDir?: string | undefined;
  /** Environment to read DATABASE_URL from (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

export function embeddedDir(dataDir = '.streamwatch'): string {
  return join(dataDir, 'pg');
}

/** Opens the database and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const url = options.url ?? ((options.env ?? process.env).DATABASE_URL || undefined);
  // Loaded on demand: each engine's module is large, and a command only needs one.
  const db = url ? await (await import('./server.ts')).openServer(url) : await (await import('./embedded.ts')).openEmbedded(embeddedDir(options.dataDir));
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return db;
}
