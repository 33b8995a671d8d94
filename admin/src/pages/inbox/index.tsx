import { useEffect, useMemo, useRef } from 'preact/hooks';
import { createAlerts } from '../../data/alerts.ts';
import { createInbox } from '../../data/inbox.ts';
import { navigate } from '../../router.ts';
import { useShortcut } from '../../ui/shortcuts.ts';
import type { PageProps } from '../types.ts';
import { ConversationPane, EmptyPane } from './conversation.tsx';
import { ConversationList } from './list.tsx';

/** The inbox: the live list on one side, the conversation picked from it on the other. */
export function InboxPage({ tenantId, params }: PageProps) {
  const inbox = useMemo(() => createInbox(tenantId), [tenantId]);
  useEffect(() => () => inbox.dispose(), [inbox]);
  const selected = params[0] ?? null;
  // The title count and the chime. data/alerts.ts is part of the shell (the settings page shares
  // it), so it is there as soon as the inbox is.
  const alerts = useRef<ReturnType<typeof createAlerts> | null>(null);
  const viewing = useRef(selected);
  viewing.current = selected;
  useEffect(() => {
    const current = createAlerts(tenantId);
    current.view(viewing.current);
    alerts.current = current;
    return () => {
      current.dispose();
      alerts.current = null;
    };
  }, [tenantId]);
  useEffect(() => alerts.current?.view(selected), [selected]);
  const search = useRef<HTMLInputElement>(null);

  const step = (delta: number) => {
    const rows = inbox.rows.value;
    if (!rows.length) return;
    const at = rows.findIndex((r) => r.id === selected);
    const next = rows[Math.min(Math.max(at === -1 ? 0 : at + delta, 0), rows.length - 1)];
    if (next) {
      navigate(tenantId, 'inbox', next.id);
      // Keep the keyboard where the eyes are: on the row just opened.
      requestAnimationFrame(() =>
        document.querySelector<HTMLElement>(`[data-conversation="${next.id}"]`)?.focus(),
      );
    }
  };
  useShortcut('j', 'keyNext', () => step(1));
  useShortcut('k', 'keyPrevious', () => step(-1));
  useShortcut('/', 'keySearch', () => search.current?.focus());

  return (
    <div class="inbox">
      <ConversationList inbox={inbox} tenantId={tenantId} selected={selected} searchRef={search} />
      {selected ? (
        <ConversationPane
          key={selected}
          tenantId={tenantId}
          conversationId={selected}
          onRead={() => inbox.markRead(selected)}
        />
      ) : (
        <EmptyPane />
      )}
    </div>
  );
}
