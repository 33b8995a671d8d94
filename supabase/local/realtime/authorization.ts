import {
  type Db,
  type JwtClaims,
  type Sql,
  USER_ROLES,
} from '../../../functions/_shared/db/port.ts';

// Private channels are authorized the way Supabase Realtime does it: the project's own RLS
// policies on realtime.messages decide, evaluated as the joining user with realtime.topic() set
// to the channel's topic. Read access = the user can SELECT a probe row of that topic and
// extension; write access = the user may INSERT one. Everything happens in one transaction that
// is always rolled back, so no probe row ever persists.

export type Extension = 'broadcast' | 'presence';

export interface Access {
  read: boolean;
  write: boolean;
}

export interface Policies {
  broadcast: Access;
  /** null until presence is used on the channel (Realtime evaluates it lazily too). */
  presence: Access | null;
}

export interface Authorizer {
  authorize(claims: JwtClaims, subTopic: string, options: { presence: boolean }): Promise<Policies>;
}

const everything = (presence: boolean): Policies => ({
  broadcast: { read: true, write: true },
  presence: presence ? { read: true, write: true } : null,
});
const nothing = (presence: boolean): Policies => ({
  broadcast: { read: false, write: false },
  presence: presence ? { read: false, write: false } : null,
});

class Rollback extends Error {
  constructor(readonly policies: Policies) {
    super('rollback');
  }
}

// The settings Realtime puts in place besides PostgREST's role and request.jwt.claims.
const CONTEXT = `select set_config('realtime.topic', $1, true),
  set_config('request.jwt.claim.sub', $2, true),
  set_config('request.jwt.claim.role', $3, true),
  set_config('request.headers', '{}', true)`;

/** Runs one statement in a savepoint: its rows, or null if Postgres refused it. */
async function attempt(sql: Sql, text: string, params: unknown[]) {
  await sql.query('savepoint realtime_authorization');
  try {
    const rows = await sql.query<Record<string, unknown>>(text, params);
    await sql.query('release savepoint realtime_authorization');
    return rows;
  } catch {
    // insufficient_privilege, an RLS WITH CHECK violation or a failing policy: all mean "no".
    await sql.query('rollback to savepoint realtime_authorization');
    return null;
  }
}

async function evaluate(sql: Sql, claims: JwtClaims, subTopic: string, extensions: Extension[]) {
  await sql.query(CONTEXT, [subTopic, claims.sub ?? '', claims.role]);

  // Probe rows are written with Realtime's own privileges, then looked at as the user.
  await sql.query(`select set_config('role', 'service_role', true)`);
  const probes = await sql.query<{ id: string }>(
    `insert into realtime.messages (topic, extension, private)
     select $1, extension, true from unnest($2::text[]) as extension
     returning id::text`,
    [subTopic, extensions],
  );
  await sql.query(`select set_config('role', $1, true)`, [claims.role]);

  const visible = await attempt(
    sql,
    'select extension from realtime.messages where id = any($1::uuid[])',
    [probes.map((p) => p.id)],
  );
  const readable = new Set((visible ?? []).map((row) => row.extension));

  const access = async (extension: Extension): Promise<Access> => ({
    read: readable.has(extension),
    write:
      (await attempt(
        sql,
        'insert into realtime.messages (topic, extension, private) values ($1, $2, true)',
        [subTopic, extension],
      )) !== null,
  });
  return {
    broadcast: await access('broadcast'),
    presence: extensions.includes('presence') ? await access('presence') : null,
  };
}

export function createAuthorizer(deps: { db: Db }): Authorizer {
  return {
    async authorize(claims, subTopic, { presence }) {
      // service_role bypasses RLS; any other role than the API ones cannot be assumed here.
      if (claims.role === 'service_role') return everything(presence);
      if (!(USER_ROLES as readonly string[]).includes(claims.role)) return nothing(presence);

      const extensions: Extension[] = presence ? ['broadcast', 'presence'] : ['broadcast'];
      try {
        await deps.db.asUser(claims, async (sql) => {
          throw new Rollback(await evaluate(sql, claims, subTopic, extensions));
        });
      } catch (error) {
        if (error instanceof Rollback) return error.policies;
        throw error;
      }
      throw new Error('unreachable: the authorization transaction always rolls back');
    },
  };
}
