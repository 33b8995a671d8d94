import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createUser, userClaims } from '../support/world.ts';

// Team invitations and the operators' functions in SQL: who may invite whom, seats held by
// members and pending invitations, acceptance bound to the invited address, the last owner kept;
// suspend and resume, the read-only view and the append-only audit log.

let local: LocalDatabase;
let db: Db;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
});
afterAll(() => local?.close());

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e as Error & { code?: string; hint?: string },
  );

/** A confirmed email user (what the invite link leaves behind). */
async function confirmedUser(sql: Sql, email: string) {
  const id = await createUser(sql, { email });
  const [{ role } = { role: 'service_role' }] = await sql.query<{ role: string }>(
    `select current_user as role, set_config('role', 'none', true)`,
  );
  await sql.query('update auth.users set email_confirmed_at = now() where id = $1', [id]);
  await sql.query(`select set_config('role', $1, true)`, [role]);
  return id;
}

interface Team {
  id: string;
  owner: JwtClaims;
  admin: JwtClaims;
  agent: JwtClaims;
}

/** A tenant on a plan with `seats` seats, its owner, an admin and an agent. */
async function team(seats: number): Promise<Team> {
  return db.asService(async (sql) => {
    const plan = `team-${crypto.randomUUID().slice(0, 8)}`;
    await sql.query('insert into public.plans (id, name, limits) values ($1, $1, $2::jsonb)', [
      plan,
      { seats },
    ]);
    const [tenant] = await sql.query<{ id: string }>(
      'insert into public.tenants (name, slug, plan_id) values ($1, $1, $1) returning id',
      [plan],
    );
    const id = tenant?.id as string;
    const [owner, admin, agent] = [
      await createUser(sql),
      await createUser(sql),
      await createUser(sql),
    ];
    await sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role)
       values ($1, $2, 'owner'), ($1, $3, 'admin'), ($1, $4, 'agent')`,
      [id, owner, admin, agent],
    );
    return {
      id,
      owner: userClaims(owner as string),
      admin: userClaims(admin as string),
      agent: userClaims(agent as string),
    };
  });
}

const invite = (who: JwtClaims, tenant: string, email: string, role: string) =>
  db.asUser(who, (sql) =>
    sql.query<{ id: string; role: string; email: string }>(
      'select * from public.invite_member($1, $2, $3)',
      [tenant, email, role],
    ),
  );

const accept = (who: JwtClaims, invitation: string) =>
  db.asUser(who, (sql) =>
    sql.query<{ tenant_id: string; role: string }>('select * from public.accept_invitation($1)', [
      invitation,
    ]),
  );

describe('invitations', () => {
  it('an owner invites, the invited address accepts and joins with the role', async () => {
    const t = await team(10);
    const email = `new-${crypto.randomUUID().slice(0, 6)}@example.test`;
    const [invitation] = await invite(t.owner, t.id, ` ${email.toUpperCase()} `, 'admin');
    expect(invitation).toMatchObject({ email, role: 'admin' });
    const joiner = await db.asService((sql) => confirmedUser(sql, email));
    const [member] = await accept(userClaims(joiner), invitation?.id as string);
    expect(member).toMatchObject({ tenant_id: t.id, role: 'admin' });
    // Used once.
    const again = await failure(accept(userClaims(joiner), invitation?.id as string));
    expect(codeOf(again)).toBe('P0002');
    const listed = await db.asUser(t.agent, (sql) =>
      sql.query<{ email: string; role: string }>('select * from public.team_members($1)', [t.id]),
    );
    expect(listed).toContainEqual(expect.objectContaining({ email, role: 'admin' }));
  });

  it('only the invited, confirmed address can accept', async () => {
    const t = await team(10);
    const email = `x-${crypto.randomUUID().slice(0, 6)}@example.test`;
    const [invitation] = await invite(t.owner, t.id, email, 'agent');
    const stranger = await db.asService((sql) =>
      confirmedUser(sql, `other-${crypto.randomUUID().slice(0, 6)}@example.test`),
    );
    expect(codeOf(await failure(accept(userClaims(stranger), invitation?.id as string)))).toBe(
      'P0002',
    );
    const unconfirmed = await db.asService((sql) =>
      createUser(sql, { email: `u-${crypto.randomUUID().slice(0, 6)}@example.test` }),
    );
    expect(codeOf(await failure(accept(userClaims(unconfirmed), invitation?.id as string)))).toBe(
      '42501',
    );
  });

  it('an admin invites agents but not admins or owners; an agent invites nobody', async () => {
    const t = await team(10);
    await invite(t.admin, t.id, 'agent-by-admin@example.test', 'agent');
    for (const role of ['owner', 'admin']) {
      const refused = await failure(invite(t.admin, t.id, `${role}@example.test`, role));
      expect(codeOf(refused), role).toBe('42501');
      expect(refused?.message).toMatch(/Only owners/);
    }
    const byAgent = await failure(invite(t.agent, t.id, 'a@example.test', 'agent'));
    expect(codeOf(byAgent)).toBe('42501');
    const outsider = await team(10);
    expect(codeOf(await failure(invite(outsider.owner, t.id, 'b@example.test', 'agent')))).toBe(
      '42501',
    );
  });

  it('refuses a bad address, an unknown role and an existing member', async () => {
    const t = await team(10);
    expect(codeOf(await failure(invite(t.owner, t.id, 'not-an-address', 'agent')))).toBe('22023');
    expect(codeOf(await failure(invite(t.owner, t.id, 'a@example.test', 'boss')))).toBe('22023');
    const email = `m-${crypto.randomUUID().slice(0, 6)}@example.test`;
    const [invitation] = await invite(t.owner, t.id, email, 'agent');
    const joiner = await db.asService((sql) => confirmedUser(sql, email));
    await accept(userClaims(joiner), invitation?.id as string);
    expect(codeOf(await failure(invite(t.owner, t.id, email, 'agent')))).toBe('23505');
  });

  it('members and pending invitations hold the plan seats; a renewed invitation holds one', async () => {
    const t = await team(4); // owner, admin, agent: one seat left
    await invite(t.owner, t.id, 'first@example.test', 'agent');
    await invite(t.owner, t.id, 'first@example.test', 'admin'); // renews, no second seat
    const full = await failure(invite(t.owner, t.id, 'second@example.test', 'agent'));
    expect(codeOf(full)).toBe('P0001');
    expect(full?.hint).toBe('quota_exceeded:seats');
    expect(full?.message).toMatch(/allows 4 seats/);
    // Withdrawing the invitation frees the seat.
    const removed = await db.asUser(t.owner, (sql) =>
      sql.query('delete from public.tenant_invitations where tenant_id = $1 returning id', [t.id]),
    );
    expect(removed).toHaveLength(1);
    await invite(t.owner, t.id, 'second@example.test', 'agent');
  });

  it('accepting past the plan seats is refused by the seats check of tenant_members', async () => {
    const t = await team(4);
    const email = `late-${crypto.randomUUID().slice(0, 6)}@example.test`;
    const [invitation] = await invite(t.owner, t.id, email, 'agent');
    // The plan shrinks (a downgrade) before the person accepts.
    await db.asService((sql) =>
      sql.query(
        `update public.plans set limits = '{"seats": 3}' where id = (select plan_id from public.tenants where id = $1)`,
        [t.id],
      ),
    );
    const joiner = await db.asService((sql) => confirmedUser(sql, email));
    const refused = await failure(accept(userClaims(joiner), invitation?.id as string));
    expect(codeOf(refused)).toBe('P0001');
    expect(refused?.message).toMatch(/allows 3 seats/);
  });

  it('agents do not see invitations; an admin withdraws only agent invitations', async () => {
    const t = await team(10);
    await invite(t.owner, t.id, 'adm@example.test', 'admin');
    await invite(t.owner, t.id, 'agt@example.test', 'agent');
    const seen = await db.asUser(t.agent, (sql) =>
      sql.query('select id from public.tenant_invitations where tenant_id = $1', [t.id]),
    );
    expect(seen).toEqual([]);
    const withdrawn = await db.asUser(t.admin, (sql) =>
      sql.query<{ email: string }>(
        'delete from public.tenant_invitations where tenant_id = $1 returning email',
        [t.id],
      ),
    );
    expect(withdrawn).toEqual([{ email: 'agt@example.test' }]);
    // Nobody writes invitations but invite_member.
    const inserted = await failure(
      db.asUser(t.owner, (sql) =>
        sql.query(
          `insert into public.tenant_invitations (tenant_id, email, role) values ($1, 'z@example.test', 'owner')`,
          [t.id],
        ),
      ),
    );
    expect(codeOf(inserted)).toBe('42501');
  });
});

describe('roles', () => {
  it('an admin cannot promote anyone to owner; an owner can; the last owner stays', async () => {
    const t = await team(10);
    const promoted = await db.asUser(t.admin, (sql) =>
      sql
        .query(
          `update public.tenant_members set role = 'owner' where tenant_id = $1 and user_id = $2 returning 1`,
          [t.id, t.agent.sub],
        )
        .catch((e: unknown) => e),
    );
    expect(Array.isArray(promoted) ? promoted.length : codeOf(promoted)).not.toBe(1);
    const stillAgent = await db.asService((sql) =>
      sql.query<{ role: string }>(
        'select role from public.tenant_members where tenant_id = $1 and user_id = $2',
        [t.id, t.agent.sub],
      ),
    );
    expect(stillAgent).toEqual([{ role: 'agent' }]);

    const removeLast = await failure(
      db.asUser(t.owner, (sql) =>
        sql.query('delete from public.tenant_members where tenant_id = $1 and user_id = $2', [
          t.id,
          t.owner.sub,
        ]),
      ),
    );
    expect(codeOf(removeLast)).toBe('P0001');
    expect(removeLast?.message).toMatch(/at least one owner/);
    await db.asUser(t.owner, (sql) =>
      sql.query(
        `update public.tenant_members set role = 'owner' where tenant_id = $1 and user_id = $2`,
        [t.id, t.admin.sub],
      ),
    );
    await db.asUser(t.owner, (sql) =>
      sql.query('delete from public.tenant_members where tenant_id = $1 and user_id = $2', [
        t.id,
        t.owner.sub,
      ]),
    );
  });
});

describe('platform operators', () => {
  let operator: JwtClaims;
  beforeAll(async () => {
    const id = await db.asService(async (sql) => {
      const user = await createUser(sql);
      await sql.query('insert into public.platform_admins (user_id) values ($1)', [user]);
      return user;
    });
    operator = userClaims(id);
  });

  const status = (tenant: string) =>
    db.asService(async (sql) => {
      const [row] = await sql.query<{ status: string }>(
        'select status from public.tenants where id = $1',
        [tenant],
      );
      return row?.status;
    });

  const audit = (tenant: string) =>
    db.asUser(operator, (sql) =>
      sql.query<{ action: string; actor_id: string; detail: Record<string, unknown> }>(
        'select action, actor_id, detail from public.platform_audit_log where tenant_id = $1 order by id',
        [tenant],
      ),
    );

  it('lists tenants with plan, usage and status', async () => {
    const t = await team(5);
    const rows = await db.asUser(operator, (sql) =>
      sql.query<{ id: string; members: string; status: string; plan_id: string }>(
        'select * from public.platform_tenants()',
      ),
    );
    const row = rows.find((r) => r.id === t.id);
    expect(row).toMatchObject({ status: 'active' });
    expect(Number(row?.members)).toBe(3);
    expect(row?.plan_id).toMatch(/^team-/);
  });

  it('suspends and resumes, each written to the audit log with the reason', async () => {
    const t = await team(5);
    await db.asUser(operator, (sql) =>
      sql.query('select public.suspend_tenant($1, $2)', [t.id, 'unpaid invoices']),
    );
    expect(await status(t.id)).toBe('suspended');
    const suspended = await db.asService((sql) =>
      sql.query<{ reason: string | null }>('select private.quota_exceeded($1) as reason', [t.id]),
    );
    expect(suspended).toEqual([{ reason: 'tenant_suspended' }]);
    await db.asUser(operator, (sql) => sql.query('select public.resume_tenant($1)', [t.id]));
    expect(await status(t.id)).toBe('active');
    expect(await audit(t.id)).toEqual([
      { action: 'suspend', actor_id: operator.sub, detail: { reason: 'unpaid invoices' } },
      { action: 'resume', actor_id: operator.sub, detail: {} },
    ]);
  });

  it('the read-only view returns the tenant and is audited, every time', async () => {
    const t = await team(5);
    const view = () =>
      db.asUser(operator, (sql) =>
        sql.query<{ v: { tenant: { id: string }; members: unknown[]; usage: unknown[] } }>(
          'select public.platform_view_tenant($1) as v',
          [t.id],
        ),
      );
    const [first] = await view();
    expect(first?.v.tenant.id).toBe(t.id);
    expect(first?.v.members).toHaveLength(3);
    expect(first?.v.usage.length).toBeGreaterThan(0);
    await view();
    await db.asUser(operator, (sql) =>
      sql.query('select public.record_platform_view($1, $2)', [t.id, 'inbox']),
    );
    expect((await audit(t.id)).map((a) => [a.action, a.detail.what])).toEqual([
      ['view', 'summary'],
      ['view', 'summary'],
      ['view', 'inbox'],
    ]);
  });

  it('members, owners included, can neither suspend, view, list nor read the audit log', async () => {
    const t = await team(5);
    await db.asUser(operator, (sql) => sql.query('select public.platform_view_tenant($1)', [t.id]));
    for (const who of [t.owner, t.admin, t.agent]) {
      for (const [text, params] of [
        ['select public.suspend_tenant($1)', [t.id]],
        ['select public.resume_tenant($1)', [t.id]],
        ['select public.platform_view_tenant($1)', [t.id]],
        ['select public.record_platform_view($1, $2)', [t.id, 'inbox']],
        ['select * from public.platform_tenants()', []],
      ] as const) {
        const refused = await failure(db.asUser(who, (sql) => sql.query(text, [...params])));
        expect(codeOf(refused), text).toBe('42501');
      }
      const log = await db.asUser(who, (sql) =>
        sql.query('select id from public.platform_audit_log'),
      );
      expect(log).toEqual([]);
      const status = await failure(
        db.asUser(who, (sql) =>
          sql.query(`update public.tenants set status = 'suspended' where id = $1`, [t.id]),
        ),
      );
      expect(codeOf(status)).toBe('42501');
    }
    expect(await status(t.id)).toBe('active');
  });

  it('the audit log is append-only, even for the service role and operators', async () => {
    const t = await team(5);
    await db.asUser(operator, (sql) => sql.query('select public.platform_view_tenant($1)', [t.id]));
    for (const text of [
      'update public.platform_audit_log set detail = $2 where tenant_id = $1',
      'delete from public.platform_audit_log where tenant_id = $1',
    ]) {
      const params = text.startsWith('update') ? [t.id, '{}'] : [t.id];
      const service = await failure(db.asService((sql) => sql.query(text, params)));
      expect(codeOf(service), text).toBe('42501');
      const byOperator = await failure(db.asUser(operator, (sql) => sql.query(text, params)));
      expect(codeOf(byOperator), text).toBe('42501');
    }
    const forged = await failure(
      db.asUser(operator, (sql) =>
        sql.query(
          `insert into public.platform_audit_log (action, tenant_id) values ('resume', $1)`,
          [t.id],
        ),
      ),
    );
    expect(codeOf(forged)).toBe('42501');
    const truncated = await failure(
      db.asService((sql) => sql.query('truncate public.platform_audit_log')),
    );
    expect(codeOf(truncated)).toBe('42501');
    expect(await audit(t.id)).toHaveLength(1);
  });
});
