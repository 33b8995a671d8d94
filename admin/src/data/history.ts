import { must, supabase } from './client.ts';

// The visitor's other conversations with the tenant, for the details pane: those of the same
// verified contact, and those the same browser session (anonymous user) started. Read under RLS,
// like the rest of the inbox.

export interface EarlierConversation {
  id: string;
  status: string;
  channel: string;
  message_count: number;
  created_at: string;
}

export async function earlierConversations(current: {
  id: string;
  tenant_id: string;
  contact_id: string | null;
}): Promise<EarlierConversation[]> {
  const db = supabase();
  const own = must(
    await db.from('conversations').select('visitor_id').eq('id', current.id).single(),
  ) as { visitor_id: string | null };
  const who = [
    current.contact_id ? `contact_id.eq.${current.contact_id}` : null,
    own.visitor_id ? `visitor_id.eq.${own.visitor_id}` : null,
  ].filter((part): part is string => part !== null);
  if (who.length === 0) return [];
  return must(
    await db
      .from('conversations')
      .select('id, status, channel, message_count, created_at')
      .eq('tenant_id', current.tenant_id)
      .neq('id', current.id)
      .or(who.join(','))
      .order('created_at', { ascending: false })
      .limit(20),
  ) as EarlierConversation[];
}
