// Versioned schema migrations, applied in order on start. Each runs in its own
// transaction together with its row in `schema_migrations`, under an advisory
// lock, so two processes starting at once against one server do not race.
// Never edit a migration that has shipped: add the next version.
//
// Time columns are timestamptz. Absolute inputs (ISO 8601, epoch seconds)
// are stored as they are. A time-of-day input (`20:53:00`) has no date: it is
// stored on the reference date 1970-01-01 UTC, and a replay that crosses
// midnight (SEMANTICS.md section 1) continues on 1970-01-02 and so on, so
// order and durations stay right. `sink_timelines` keeps the latest instant
// placed (one timeline for all inputs, saved as topic `*`, partition -1), so
// a restarted sink continues on the same day.
import { StreamwatchError } from '../../errors.ts';
import type { Database } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'metrics, nginx events, window results, incidents, rejects',
    sql: `
      CREATE TABLE server_metrics (
        server_id text NOT NULL,
        ts timestamptz NOT NULL,
        cpu_pct numeric,
        mem_pct numeric,
        net_in numeric,
        net_out numeric,
        disk_io numeric,
        PRIMARY KEY (server_id, ts)
      );
      CREATE INDEX server_metrics_ts ON server_metrics (ts);

      CREATE TABLE nginx_events (
        event_id text PRIMARY KEY,
        ts timestamptz NOT NULL,
        client_ip text NOT NULL,
        host text,
        country text NOT NULL,
        method text NOT NULL,
        status smallint NOT NULL,
        request_time numeric,
        server text,
        request text,
        raw text NOT NULL,
        source_topic text NOT NULL,
        source_partition integer NOT NULL,
        source_offset bigint NOT NULL
      );
      CREATE INDEX nginx_events_ts ON nginx_events (ts);
      CREATE INDEX nginx_events_host ON nginx_events (host, ts);
      CREATE INDEX nginx_events_client_ip ON nginx_events (client_ip, ts);
      CREATE INDEX nginx_events_status ON nginx_events (status, ts);
      CREATE INDEX nginx_events_country ON nginx_events (country, ts);

      CREATE TABLE window_results (
        detector text NOT NULL,
        key text NOT NULL,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        alert text NOT NULL DEFAULT '',
        avg_cpu numeric,
        avg_mem numeric,
        max_net_in numeric,
        max_disk_io numeric,
        count bigint,
        avg_request_time numeric,
        source_topic text NOT NULL,
        PRIMARY KEY (detector, key, window_start)
      );
      CREATE INDEX window_results_start ON window_results (window_start);

      CREATE TABLE incidents (
        detector text NOT NULL,
        key text NOT NULL,
        alert text NOT NULL,
        start_ts timestamptz NOT NULL,
        end_ts timestamptz NOT NULL,
        windows integer NOT NULL,
        peak numeric,
        state text NOT NULL,
        source_topic text NOT NULL,
        PRIMARY KEY (detector, key, alert, start_ts)
      );
      CREATE INDEX incidents_start ON incidents (start_ts);

      CREATE TABLE sink_rejects (
        source_topic text NOT NULL,
        source_partition integer NOT NULL,
        source_offset bigint NOT NULL,
        reason text NOT NULL,
        raw text,
        rejected_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_topic, source_partition, source_offset)
      );

      CREATE TABLE sink_timelines (
        source_topic text NOT NULL,
        source_partition integer NOT NULL,
        latest_ms double precision NOT NULL,
        PRIMARY KEY (source_topic, source_partition)
      );
    `,
  },
];

/** Any number: identifies streamwatch's migration lock among advisory locks. */
const MIGRATION_LOCK = 0x5757_0001;

/** Applies the migrations not yet recorded; returns the versions applied now. */
export async function migrate(db: Database, list: readonly Migration[] = migrations): Promise<number[]> {
  const applied: number[] = [];
  try {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    });
    for (const migration of list) {
      await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
        if (done.rows.length > 0) return;
        for (const statement of splitStatements(migration.sql)) await tx.query(statement);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        applied.push(migration.version);
      });
    }
  } catch (error) {
    if (error instanceof StreamwatchError && error.code !== 'SW_ERR_DATABASE') throw error;
    throw new StreamwatchError('SW_ERR_DATABASE', `migrating the schema of ${db.location}: ${(error as Error).message}`, { cause: error });
  }
  return applied;
}

/** The statements of a migration (ours hold no semicolons inside literals). */
function splitStatements(sql: string): string[] {
  return sql.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
}
