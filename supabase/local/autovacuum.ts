import type { PGlite } from '@electric-sql/pglite';
import { identifier, whenIdle } from './idle-session.ts';
import type { BackgroundService, Logger } from './services.ts';

// Postgres' autovacuum, which PGlite does not run. Without it the local database kept the
// statistics it had when it opened: a table that was empty then (rate limits, jobs, Realtime's
// messages) stayed "empty" to the planner however large it grew, and the plans kept for the
// session's functions went on scanning it whole: a rate-limit check cost 2.3 ms a call over its
// first 1,000 calls and 4.1 ms over the next 1,000, and 2.1 ms over a third 1,000 once analyzed.
//
// Every naptime the tables past Postgres' default thresholds are vacuumed or analyzed, one at a
// time, each while no transaction is open (idle-session.ts), as autovacuum's workers do (but see
// DUE for tables with a vector index):
//   vacuum  when dead rows exceed 50 + 20% of the table's rows (autovacuum_vacuum_threshold,
//           autovacuum_vacuum_scale_factor)
//   analyze when rows changed since the last analyze exceed 50 + 10% of them
//           (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor)
// A fresh statistic invalidates the plans built on the old one, so they are made again.

/** Postgres' autovacuum_naptime is a minute; a laptop's database is small enough to look oftener. */
export const AUTOVACUUM_NAPTIME_MS = 10_000;

export interface AutovacuumRound {
  vacuumed: string[];
  analyzed: string[];
}

/**
 * What each table needs, by Postgres' default thresholds. A table with a vector index is analyzed
 * but never vacuumed here: autovacuum's workers run beside the database's work, where this holds
 * the one session, and an HNSW index's vacuum (which mends the graph around every deleted vector)
 * took 101 s for 20k rows with half of them deleted, against 0.1 s for the same table without it.
 * Searches skip the dead rows meanwhile, as they always did locally.
 */
const DUE = `
  select s.schemaname, s.relname,
         s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0) and not slow.vectors as vacuum
    from pg_stat_user_tables s
    join pg_class c on c.oid = s.relid
    cross join lateral (
      select exists (
        select 1 from pg_index i
          join pg_class ic on ic.oid = i.indexrelid
          join pg_am am on am.oid = ic.relam
         where i.indrelid = s.relid and am.amname in ('hnsw', 'ivfflat')
      ) as vectors
    ) slow
   where (s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0) and not slow.vectors)
      or s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
   order by 1, 2`;

/** One round: the tables due, each vacuumed (and analyzed with it) or analyzed. */
export async function autovacuumOnce(pg: PGlite, signal?: AbortSignal): Promise<AutovacuumRound> {
  // The session's own counts reach the statistics views once flushed, at its next statement's end.
  const due = await whenIdle(
    pg,
    async (session) => {
      await session.rows('select pg_stat_force_next_flush()');
      return session.rows(DUE);
    },
    signal,
  );
  const round: AutovacuumRound = { vacuumed: [], analyzed: [] };
  for (const [schema, relation, vacuum] of due) {
    if (!schema || !relation) continue;
    const name = `${schema}.${relation}`;
    const table = `${identifier(schema)}.${identifier(relation)}`;
    // One table at a time, the session free for others in between.
    if (vacuum === 't') {
      await whenIdle(pg, (session) => session.rows(`vacuum (analyze) ${table}`), signal);
      round.vacuumed.push(name);
    } else {
      await whenIdle(pg, (session) => session.rows(`analyze ${table}`), signal);
      round.analyzed.push(name);
    }
  }
  return round;
}

export function startAutovacuum(
  pg: PGlite,
  log: Logger,
  naptimeMs = AUTOVACUUM_NAPTIME_MS,
): BackgroundService {
  const stopping = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  const schedule = () => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      running = autovacuumOnce(pg, stopping.signal)
        .then(
          () => {},
          (error) => {
            if (!stopping.signal.aborted) log('autovacuum: a round failed', error);
          },
        )
        .finally(schedule);
    }, naptimeMs);
  };
  schedule();

  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
