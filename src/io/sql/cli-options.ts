// Flags shared by the commands that use the database (sink, search) and a
// duration parser (`2m`, `30s`, `500ms`, a bare number of seconds).
import { UsageError } from '../../errors.ts';
import type { DatabaseOptions } from './open.ts';

export const databaseFlagsHelp = `  --database-url URL        PostgreSQL server (default: env DATABASE_URL, else the
                            embedded PGlite database under DATA-DIR/pg)
  --data-dir DIR            where the embedded database lives (default .streamwatch)`;

export function databaseOptions(values: { url?: string | undefined; dataDir?: string | undefined }): DatabaseOptions {
  return { url: values.url || undefined, dataDir: values.dataDir };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of `90`, `1.5s`, `2m`, `500ms`, `1h`, `7d`; a UsageError naming the flag otherwise. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${flag}: '${text}' is not a duration (e.g. 500ms, 30s, 2m, 1h)`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's']!);
}
