// `npm run bench:inbox`: how soon an agent's reply reaches the visitor, printed, never asserted.
//   - the agent posts through the Data API (rpc post_agent_message, as the admin SPA does) and the
//     visitor's Realtime client (supabase-js, as the widget) receives the message_created
//     broadcast on conversation:<id>: p50/p95/p99 from the call to the visitor seeing it, and of
//     the Data API call alone, for 1 conversation and for 10 worked at once
// The inbox list's query timings on a big tenant are in `npm run bench:admin`.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import { createLocalKeys } from '../supabase/local/keys.ts';
import { ms as millis, percentile, startStack } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);
const PASSWORD = 'bench-password-123';

const client = (url: string, key: string) =>
  createClient(url, key, { auth: { autoRefreshToken: false, persistSession: false } });

async function main() {
  const keys = await createLocalKeys();
  const stack = await startStack(['--memory'], {
    CHAT_VISITOR_MESSAGES_PER_MINUTE: '100000',
    CHAT_TENANT_MESSAGES_PER_MINUTE: '100000',
    CHAT_VISITOR_SESSIONS_PER_MINUTE: '100000',
  });
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  try {
    const [tenant] = await db.asService((sql) =>
      sql.query<{ id: string; widget_key: string }>(
        `insert into public.tenants (name, slug, plan_id) values ('Bench inbox', 'bench-inbox', 'business')
         returning id, widget_key`,
      ),
    );
    if (!tenant) throw new Error('no tenant');

    // The agent: signed up through Auth like a real account, then made a member.
    const email = `agent-${crypto.randomUUID().slice(0, 8)}@bench.example`;
    const signup = await client(stack.url, keys.anonKey).auth.signUp({ email, password: PASSWORD });
    if (signup.error || !signup.data.user) throw signup.error ?? new Error('no user');
    const agentId = signup.data.user.id;
    await db.asService(async (sql) => {
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role, display_name) values ($1, $2, 'agent', 'Bench agent')`,
        [tenant.id, agentId],
      );
      await sql.query(`select set_config('role', 'none', true)`);
      await sql.query('update auth.users set email_confirmed_at = now() where id = $1', [agentId]);
    });
    const agent = client(stack.url, keys.anonKey);
    const signin = await agent.auth.signInWithPassword({ email, password: PASSWORD });
    if (signin.error) throw signin.error;

    console.log(
      'agent reply (Data API rpc post_agent_message) → visitor receives it on Realtime (conversation:<id>)',
    );
    for (const [conversations, perConversation] of [
      [1, 50],
      [10, 10],
    ] as const) {
      const visitors: { client: SupabaseClient; conversationId: string }[] = [];
      for (let i = 0; i < conversations; i++) {
        const visitor = client(stack.url, keys.anonKey);
        const { data, error } = await visitor.auth.signInAnonymously();
        if (error || !data.session) throw error ?? new Error('no session');
        const session = await visitor.functions.invoke('chat/sessions', {
          body: { key: tenant.widget_key },
        });
        if (session.error) throw session.error;
        const conversationId = session.data.conversation.id as string;
        // The agent takes the conversation, so the bot stays out of the measurement.
        const taken = await agent.rpc('take_over_conversation', {
          p_conversation_id: conversationId,
        });
        if (taken.error) throw taken.error;
        await visitor.realtime.setAuth(data.session.access_token);
        visitors.push({ client: visitor, conversationId });
      }

      const endToEnd: number[] = [];
      const apiOnly: number[] = [];
      const started = performance.now();
      await Promise.all(
        visitors.map(async ({ client: visitor, conversationId }) => {
          const waiting = new Map<string, (at: number) => void>();
          await new Promise<void>((resolve, reject) => {
            visitor
              .channel(`conversation:${conversationId}`, { config: { private: true } })
              .on('broadcast', { event: 'message_created' }, ({ payload }) => {
                if (payload.role === 'agent') waiting.get(payload.content)?.(performance.now());
              })
              .subscribe((status, err) => {
                if (status === 'SUBSCRIBED') resolve();
                else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
                  reject(err ?? new Error(status));
              });
          });
          for (let i = 0; i < perConversation; i++) {
            const content = `Reply ${i} from the team ${crypto.randomUUID().slice(0, 8)}`;
            const received = new Promise<number>((resolve) => waiting.set(content, resolve));
            const sentAt = performance.now();
            const { error } = await agent.rpc('post_agent_message', {
              p_conversation_id: conversationId,
              p_content: content,
              p_client_msg_id: crypto.randomUUID(),
            });
            if (error) throw error;
            apiOnly.push(performance.now() - sentAt);
            endToEnd.push((await received) - sentAt);
          }
          await visitor.removeAllChannels();
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `  ${String(conversations).padStart(2)} conversation(s) × ${perConversation}   reply → visitor p50 ${ms(percentile(endToEnd, 50))}  p95 ${ms(percentile(endToEnd, 95))}  p99 ${ms(percentile(endToEnd, 99))}   Data API call p50 ${ms(percentile(apiOnly, 50))}  p95 ${ms(percentile(apiOnly, 95))}   ${(endToEnd.length / seconds).toFixed(1)} replies/s`,
      );
    }
  } finally {
    await db.close();
    await stack.stop();
  }
}

await main();
Deno.exit(0);
