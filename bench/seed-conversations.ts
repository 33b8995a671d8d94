// One big tenant for the admin's benchmarks (bench:admin's inbox queries, bench:analytics's
// dashboard queries): conversations of every status and both channels, assigned, handed off and
// rated in fixed proportions, each with its messages (visitor, bot with tokens and cost, and the
// team's replies where a person took over) and, for half of them, a tool call.
import type { Db } from '../functions/_shared/db/port.ts';

export interface SeedOptions {
  conversations: number;
  messagesPerConversation: number;
  /** Minutes between one conversation's start and the next, newest now. */
  minutesApart?: number;
}

export interface SeededTenant {
  tenantId: string;
  agentId: string;
  ownerId: string;
  /** A conversation some way down the newest-first list. */
  someId: string;
}

export async function seedConversations(db: Db, options: SeedOptions): Promise<SeededTenant> {
  const { conversations, messagesPerConversation, minutesApart = 1 } = options;
  return db.asService(async (sql) => {
    await sql.query(`select set_config('role', 'none', true)`);
    const [agent] = await sql.query<{ id: string }>(
      `insert into auth.users (email) values ('bench-agent@example.test') returning id`,
    );
    const [owner] = await sql.query<{ id: string }>(
      `insert into auth.users (email) values ('bench-owner@example.test') returning id`,
    );
    const [tenant] = await sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ('Bench', 'bench') returning id`,
    );
    await sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role, display_name)
       values ($1, $2, 'agent', 'Agent'), ($1, $3, 'owner', 'Owner')`,
      [tenant?.id, agent?.id, owner?.id],
    );
    // Bulk data, not live traffic: triggers (broadcasts, reply jobs, counters, quotas) stay off
    // while it goes in, and the counters they would keep are set once afterwards.
    await sql.query(`select set_config('session_replication_role', 'replica', true)`);
    await sql.query(
      `insert into public.conversations
         (tenant_id, status, assignee_id, channel, created_at, handoff_at, resolved_at, csat)
       select $1,
              (array['bot','handoff','open','resolved'])[1 + i % 4],
              case when i % 3 = 0 then $2::uuid when i % 4 = 2 then $3::uuid end,
              case when i % 10 = 0 then 'whatsapp' else 'web' end,
              now() - (i * $5::int || ' minutes')::interval,
              case when i % 4 in (1, 2) then now() - (i * $5::int || ' minutes')::interval + interval '5 seconds' end,
              case when i % 4 = 3 then now() - (i * $5::int || ' minutes')::interval + interval '20 minutes' end,
              case when i % 5 = 0 then (1 + (i / 5) % 5)::smallint end
         from generate_series(1, $4::int) i`,
      [tenant?.id, agent?.id, owner?.id, conversations, minutesApart],
    );
    // Words from a small vocabulary plus one rare word per conversation, so searches have both
    // common and selective terms. Where a person took over, the last two messages are theirs.
    await sql.query(
      `insert into public.messages
         (conversation_id, tenant_id, role, content, created_at, tokens_in, tokens_out, cost_usd)
       select c.id, c.tenant_id, r.role,
              (array['order','refund','shipping','boots','jacket','tent','size','return'])[1 + (m + n) % 8]
                || ' question about my ' ||
              (array['delivery','exchange','warranty','payment'])[1 + m % 4]
                || ' ticket' || n,
              c.created_at + (m || ' seconds')::interval,
              case when r.role = 'assistant' then 100 + m else 0 end,
              case when r.role = 'assistant' then 20 + m else 0 end,
              case when r.role = 'assistant' then 0.0001 * m else 0 end
         from (select id, tenant_id, created_at, handoff_at, row_number() over () as n
                 from public.conversations) c,
              generate_series(1, $1::int) m,
              lateral (select case
                when c.handoff_at is not null and m > $1::int - 2 then 'agent'
                when m % 2 = 0 then 'user' else 'assistant' end as role) r`,
      [messagesPerConversation],
    );
    await sql.query(
      `insert into public.tool_executions (tenant_id, conversation_id, tool_name, call_id, success, created_at)
       select c.tenant_id, c.id, 'order_status', 'call-' || c.n, c.n % 7 <> 0, c.created_at + interval '3 seconds'
         from (select id, tenant_id, created_at, row_number() over () as n
                 from public.conversations) c
        where c.n % 2 = 0`,
    );
    await sql.query(
      `update public.conversations c
          set message_count = m.n, last_message_at = m.last
         from (select conversation_id, count(*)::int as n, max(created_at) as last
                 from public.messages group by conversation_id) m
        where m.conversation_id = c.id`,
    );
    await sql.query(`select set_config('session_replication_role', 'origin', true)`);
    await sql.query('select private.analytics_rebuild($1)', [tenant?.id]);
    await sql.query('analyze');
    const [some] = await sql.query<{ id: string }>(
      'select id from public.conversations order by created_at desc offset 500 limit 1',
    );
    return {
      tenantId: tenant?.id as string,
      agentId: agent?.id as string,
      ownerId: owner?.id as string,
      someId: some?.id as string,
    };
  });
}
