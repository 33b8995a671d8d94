import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// Read receipts, business hours and the follow-up email in SQL
// (supabase/migrations/*_receipts_handoff_hours.sql): receipts move only from what was really
// read, by the people who read it; the hours follow the tenant's zone, weekdays and holidays.

let local: LocalDatabase;
let db: Db;
let w: World;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const svc = <T>(text: string, params: unknown[] = []) =>
  db.asService((sql) => sql.query<T>(text, params));
const as = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) => db.asUser(w.claims[actor], fn);

async function refusal(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

const receipts = async (id: string) =>
  (
    await svc<{ staff_read_at: Date | null; visitor_read_at: Date | null }>(
      'select staff_read_at, visitor_read_at from public.conversations where id = $1',
      [id],
    )
  )[0];

const readEvents = (id: string) =>
  svc<{ payload: { by: string; read_at: string } }>(
    `select payload from realtime.messages where topic = $1 and event = 'read' order by inserted_at, id`,
    [`conversation:${id}`],
  );

async function conversationWith(...roles: string[]): Promise<{ id: string; messages: string[] }> {
  const [c] = await svc<{ id: string }>(
    `insert into public.conversations (tenant_id, visitor_id, status) values ($1, $2, 'open') returning id`,
    [w.a.tenantId, w.users.visitorA],
  );
  const messages: string[] = [];
  for (const [i, role] of roles.entries()) {
    const [m] = await svc<{ id: string }>(
      `insert into public.messages (conversation_id, role, content, is_private, created_at)
       values ($1, $2, $3, $4, now() + make_interval(secs => $5)) returning id`,
      [c?.id, role === 'note' ? 'agent' : role, `message ${i}`, role === 'note', i],
    );
    messages.push(m?.id as string);
  }
  return { id: c?.id as string, messages };
}

const visitorRead = (visitor: string, conversation: string, message: string) =>
  svc<{ at: Date | null }>('select private.note_visitor_read($1, $2, $3) as at', [
    visitor,
    conversation,
    message,
  ]).then((rows) => rows[0]?.at ?? null);

describe('read receipts', () => {
  it('staff opening the conversation tells the visitor, once per new visitor message', async () => {
    const { id } = await conversationWith('user', 'agent');
    await as('agentA', (sql) => sql.query('select public.mark_conversation_read($1)', [id]));
    const first = await receipts(id);
    expect(first?.staff_read_at).toBeInstanceOf(Date);
    await as('adminA', (sql) => sql.query('select public.mark_conversation_read($1)', [id]));
    expect((await receipts(id))?.staff_read_at).toEqual(first?.staff_read_at);
    const events = await readEvents(id);
    expect(events.map((e) => e.payload.by)).toEqual(['agent']);
  });

  it('the visitor reads a staff message: the receipt takes that message time, never later', async () => {
    const { id, messages } = await conversationWith('user', 'agent', 'assistant', 'user');
    const [, agentMessage, botMessage, ownMessage] = messages as [string, string, string, string];
    const [agentAt] = await svc<{ created_at: Date }>(
      'select created_at from public.messages where id = $1',
      [agentMessage],
    );
    expect(await visitorRead(w.users.visitorA, id, agentMessage)).toEqual(agentAt?.created_at);
    const after = await visitorRead(w.users.visitorA, id, botMessage);
    expect(after?.getTime()).toBeGreaterThan(agentAt?.created_at.getTime() as number);
    // An older message does not move it back; its own message is no receipt.
    expect(await visitorRead(w.users.visitorA, id, agentMessage)).toEqual(after);
    expect(await visitorRead(w.users.visitorA, id, ownMessage)).toBeNull();
    expect((await readEvents(id)).filter((e) => e.payload.by === 'visitor')).toHaveLength(2);
  });

  it('nobody marks another conversation read, a private note read, or writes a receipt directly', async () => {
    const mine = await conversationWith('agent', 'note');
    const theirs = await conversationWith('agent');
    // visitorB names visitorA's conversation, or a message of another one.
    expect(await visitorRead(w.users.visitorB, mine.id, mine.messages[0] as string)).toBeNull();
    expect(await visitorRead(w.users.visitorA, mine.id, theirs.messages[0] as string)).toBeNull();
    expect(await visitorRead(w.users.visitorA, mine.id, mine.messages[1] as string)).toBeNull();
    expect((await receipts(mine.id))?.visitor_read_at).toBeNull();

    // Through the Data API: staff may update their conversations, but not the receipts.
    for (const column of ['visitor_read_at', 'staff_read_at']) {
      expect(
        await refusal(() =>
          as('agentA', (sql) =>
            sql.query(`update public.conversations set ${column} = now() where id = $1`, [mine.id]),
          ),
        ),
      ).toBe('42501');
    }
    // The visitor cannot update its conversation at all, nor run the server's helpers.
    const updated = await as('visitorA', (sql) =>
      sql.query(
        `update public.conversations set visitor_read_at = now() where id = $1 returning id`,
        [mine.id],
      ),
    );
    expect(updated).toHaveLength(0);
    expect(
      await refusal(() =>
        as('visitorA', (sql) =>
          sql.query('select private.note_visitor_read($1, $2, $3)', [
            w.users.visitorA,
            mine.id,
            mine.messages[0],
          ]),
        ),
      ),
    ).toBe('42501');
    expect(
      await refusal(() =>
        as('ownerB', (sql) => sql.query('select public.mark_conversation_read($1)', [mine.id])),
      ),
    ).toBe('42501');
  });
});

describe('business hours', () => {
  const setHours = (hours: unknown, zone = 'Europe/Berlin') =>
    svc('update public.tenants set business_hours = $2::jsonb, time_zone = $3 where id = $1', [
      w.a.tenantId,
      hours,
      zone,
    ]);
  const nextOpen = async (at: string) =>
    (
      await svc<{ t: Date | null }>('select private.next_open_at($1, $2::timestamptz) as t', [
        w.a.tenantId,
        at,
      ])
    )[0]?.t ?? null;

  it('open now, later today, after the weekend and past a holiday, in the tenant zone', async () => {
    await setHours({
      mon: [['09:00', '17:00']],
      tue: [
        ['09:00', '12:00'],
        ['13:00', '17:00'],
      ],
      wed: [['09:00', '17:00']],
      thu: [['09:00', '17:00']],
      fri: [['09:00', '17:00']],
      holidays: ['2026-12-25'],
    });
    // Tue 1 Dec 2026, 10:00 in Berlin (UTC+1): open.
    expect(await nextOpen('2026-12-01T09:00:00Z')).toEqual(new Date('2026-12-01T09:00:00Z'));
    // Tue at the lunch break: back at 13:00 Berlin.
    expect(await nextOpen('2026-12-01T11:30:00Z')).toEqual(new Date('2026-12-01T12:00:00Z'));
    // Friday evening: Monday 09:00 Berlin.
    expect(await nextOpen('2026-12-04T17:00:00Z')).toEqual(new Date('2026-12-07T08:00:00Z'));
    // Thursday 24 Dec after hours, Friday is a holiday: Monday 28 Dec.
    expect(await nextOpen('2026-12-24T18:00:00Z')).toEqual(new Date('2026-12-28T08:00:00Z'));
    // Summer time moves the UTC instant: Mon 6 July 2026 09:00 Berlin is 07:00 UTC.
    expect(await nextOpen('2026-07-05T12:00:00Z')).toEqual(new Date('2026-07-06T07:00:00Z'));
  });

  it('no hours means always open; never-open means null; malformed hours are refused', async () => {
    await setHours(null);
    expect(await nextOpen('2026-12-05T03:00:00Z')).toEqual(new Date('2026-12-05T03:00:00Z'));
    await setHours({ holidays: [] });
    expect(await nextOpen('2026-12-05T03:00:00Z')).toBeNull();
    for (const bad of [
      { mon: [['17:00', '09:00']] },
      { mon: [['9:00', '17:00']] },
      { mon: '09-17' },
      { someday: [] },
      { holidays: ['25.12.2026'] },
      [],
    ]) {
      expect(await refusal(() => setHours(bad))).toBe('23514');
    }
    // The tenant's admins set them through the Data API; agents cannot.
    const hours = { sat: [['10:00', '14:00']] };
    await as('adminA', (sql) =>
      sql.query('update public.tenants set business_hours = $2::jsonb where id = $1', [
        w.a.tenantId,
        hours,
      ]),
    );
    const changed = await as('agentA', (sql) =>
      sql.query(`update public.tenants set business_hours = null where id = $1 returning id`, [
        w.a.tenantId,
      ]),
    );
    expect(changed).toHaveLength(0);
    await setHours(null);
  });
});

describe('follow-up email', () => {
  it('stored on the conversation and an empty contact, noted for staff only', async () => {
    const { id } = await conversationWith('user');
    await svc('update public.conversations set contact_id = $2 where id = $1', [id, w.a.contactId]);
    await svc('update public.contacts set email = null where id = $1', [w.a.contactId]);
    const [ok] = await svc<{ ok: boolean }>(
      'select private.capture_followup_email($1, $2, $3) as ok',
      [w.users.visitorA, id, ' Pat@Example.COM '],
    );
    expect(ok?.ok).toBe(true);
    const [row] = await svc<{ followup_email: string; email: string }>(
      `select c.followup_email, ct.email from public.conversations c
         join public.contacts ct on ct.id = c.contact_id where c.id = $1`,
      [id],
    );
    expect(row).toEqual({ followup_email: 'pat@example.com', email: 'pat@example.com' });
    // A second address replaces the conversation's, never a contact's known one.
    await svc('select private.capture_followup_email($1, $2, $3)', [
      w.users.visitorA,
      id,
      'other@example.com',
    ]);
    const [again] = await svc<{ followup_email: string; email: string }>(
      `select c.followup_email, ct.email from public.conversations c
         join public.contacts ct on ct.id = c.contact_id where c.id = $1`,
      [id],
    );
    expect(again).toEqual({ followup_email: 'other@example.com', email: 'pat@example.com' });
    const visible = await as('visitorA', (sql) =>
      sql.query(
        `select content from public.messages where conversation_id = $1 and role = 'system'`,
        [id],
      ),
    );
    expect(visible).toHaveLength(0);
  });

  it('refuses another visitor and anything that is not an address', async () => {
    const { id } = await conversationWith('user');
    const [ok] = await svc<{ ok: boolean }>(
      'select private.capture_followup_email($1, $2, $3) as ok',
      [w.users.visitorB, id, 'b@example.com'],
    );
    expect(ok?.ok).toBe(false);
    for (const bad of ['nope', 'a@b', 'a b@example.com', `${'x'.repeat(320)}@example.com`]) {
      expect(
        await refusal(() =>
          svc('select private.capture_followup_email($1, $2, $3)', [w.users.visitorA, id, bad]),
        ),
      ).toBe('22023');
    }
    expect(
      await refusal(() =>
        as('visitorA', (sql) =>
          sql.query('select private.capture_followup_email($1, $2, $3)', [
            w.users.visitorA,
            id,
            'me@example.com',
          ]),
        ),
      ),
    ).toBe('42501');
  });
});
