import { effect, type Signal, signal } from '@preact/signals';
import { must, problem, supabase } from './client.ts';
import { listen } from './realtime.ts';

// The inbox list: one page of public.search_conversations at a time, kept current by the
// tenant's inbox topic. An event names a conversation; that one row is fetched again through the
// same function (same filters, same RLS), so the list never shows what the query would not.

export type Filter = 'all' | 'waiting' | 'mine' | 'unassigned' | 'bot' | 'open' | 'resolved';
export const FILTERS: Filter[] = [
  'all',
  'waiting',
  'mine',
  'unassigned',
  'bot',
  'open',
  'resolved',
];
export type Channel = 'web' | 'whatsapp';

export interface InboxRow {
  id: string;
  tenant_id: string;
  status: 'bot' | 'handoff' | 'open' | 'resolved';
  channel: Channel;
  assignee_id: string | null;
  contact_id: string | null;
  contact_name: string | null;
  contact_email: string | null;
  identity_verified: boolean;
  locale: string | null;
  page_url: string | null;
  message_count: number;
  unread: number;
  activity_at: string;
  created_at: string;
  handoff_at: string | null;
  resolved_at: string | null;
  last_message: string | null;
  last_message_role: string | null;
  last_message_private: boolean | null;
  matched: string | null;
}

const PAGE = 50;

export interface Inbox {
  filter: Signal<Filter>;
  channel: Signal<Channel | null>;
  query: Signal<string>;
  rows: Signal<InboxRow[]>;
  loading: Signal<boolean>;
  error: Signal<string | null>;
  hasMore: Signal<boolean>;
  loadMore(): Promise<void>;
  /** Sets the unread count of a row at once (the conversation was just read). */
  markRead(id: string): void;
  dispose(): void;
}

const sortRows = (rows: InboxRow[]) =>
  rows.sort((a, b) =>
    a.activity_at === b.activity_at
      ? b.id.localeCompare(a.id)
      : Date.parse(b.activity_at) - Date.parse(a.activity_at),
  );

export function createInbox(tenantId: string): Inbox {
  const filter = signal<Filter>('all');
  const channel = signal<Channel | null>(null);
  const query = signal('');
  const rows = signal<InboxRow[]>([]);
  const loading = signal(true);
  const error = signal<string | null>(null);
  const hasMore = signal(false);
  let generation = 0;

  const args = (extra: Record<string, unknown>) => ({
    p_tenant_id: tenantId,
    p_query: query.value.trim() || null,
    p_filter: filter.value,
    p_channel: channel.value,
    ...extra,
  });

  async function fetchPage(more: boolean) {
    const mine = ++generation;
    const last = more ? rows.value.at(-1) : undefined;
    loading.value = true;
    try {
      const page = must(
        await supabase().rpc(
          'search_conversations',
          args({
            p_limit: PAGE,
            p_before_at: last?.activity_at ?? null,
            p_before_id: last?.id ?? null,
          }),
        ),
      ) as InboxRow[];
      if (mine !== generation) return;
      rows.value = more ? [...rows.value, ...page] : page;
      hasMore.value = page.length === PAGE;
      error.value = null;
    } catch (e) {
      if (mine === generation) error.value = problem(e);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  const pending = new Map<string, ReturnType<typeof setTimeout>>();
  // Several events about one conversation arrive together (a message moves last_message_at and
  // the status at once): one fetch answers them all.
  function refresh(id: string) {
    clearTimeout(pending.get(id));
    pending.set(
      id,
      setTimeout(async () => {
        pending.delete(id);
        const mine = generation;
        const { data } = await supabase().rpc(
          'search_conversations',
          args({ p_conversation_id: id, p_limit: 1 }),
        );
        if (mine !== generation) return;
        const row = (data as InboxRow[] | null)?.[0];
        const others = rows.value.filter((r) => r.id !== id);
        const oldest = rows.value.at(-1);
        // A row older than the last one loaded belongs to a later page.
        const fits =
          row &&
          (!hasMore.value ||
            !oldest ||
            Date.parse(row.activity_at) >= Date.parse(oldest.activity_at));
        rows.value = fits ? sortRows([...others, row]) : others;
      }, 120),
    );
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  let firstRun = true;
  const stopEffect = effect(() => {
    // Read every input so that any change reloads.
    void filter.value;
    void channel.value;
    void query.value;
    clearTimeout(debounce);
    if (firstRun) {
      firstRun = false;
      void fetchPage(false);
    } else debounce = setTimeout(() => void fetchPage(false), 200);
  });

  const stopListening = listen(
    `tenant:${tenantId}:inbox`,
    (event, payload) => {
      if (
        event === 'conversation_created' ||
        event === 'conversation_updated' ||
        event === 'handoff'
      ) {
        if (typeof payload.id === 'string') refresh(payload.id);
      } else if (event === 'message_created' && typeof payload.conversation_id === 'string') {
        refresh(payload.conversation_id);
      }
    },
    () => void fetchPage(false),
  );

  return {
    filter,
    channel,
    query,
    rows,
    loading,
    error,
    hasMore,
    loadMore: () => fetchPage(true),
    markRead(id) {
      rows.value = rows.value.map((r) => (r.id === id && r.unread ? { ...r, unread: 0 } : r));
    },
    dispose() {
      generation++;
      stopEffect();
      stopListening();
      clearTimeout(debounce);
      for (const timer of pending.values()) clearTimeout(timer);
    },
  };
}
