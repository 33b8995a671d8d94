import { useEffect, useMemo } from 'preact/hooks';
import { createPresence, type PresenceStatus } from '../../data/presence.ts';
import { memberName } from '../../ui/names.ts';
import { live } from './live-messages.ts';

const STATUSES: PresenceStatus[] = ['online', 'away', 'offline'];

/** The person's own status (routing gives conversations to those online) and the team's. */
export function PresenceBar({ tenantId }: { tenantId: string }) {
  const presence = useMemo(() => createPresence(tenantId), [tenantId]);
  useEffect(() => () => presence.dispose(), [presence]);
  return (
    <details class="presence" data-admin="presence">
      <summary>
        <span class={`dot dot-${presence.mine.value}`} aria-hidden="true" />
        {live('myStatus')}: {live(presence.mine.value)}
      </summary>
      {presence.staff && (
        <label>
          {live('myStatus')}
          <select
            value={presence.mine.value}
            onChange={(e) =>
              void presence.set((e.currentTarget as HTMLSelectElement).value as PresenceStatus)
            }
            data-admin="my-status"
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {live(s)}
              </option>
            ))}
          </select>
        </label>
      )}
      {presence.error.value && (
        <p class="error" role="alert">
          {live('presenceFailed', { message: presence.error.value })}
        </p>
      )}
      <ul aria-label={live('team')}>
        {presence.agents.value.map((a) => (
          <li key={a.user_id} data-agent={a.user_id} data-presence={a.status}>
            <span class={`dot dot-${a.status}`} aria-hidden="true" />
            <span dir="auto">{a.display_name || memberName(a.user_id)}</span>
            <span class="muted">
              {live(a.status)} · {live('load', { count: a.open_conversations })}
            </span>
          </li>
        ))}
      </ul>
    </details>
  );
}
