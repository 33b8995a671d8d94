import type { RefObject } from 'preact';
import { type Channel, FILTERS, type Filter, type Inbox, type InboxRow } from '../../data/inbox.ts';
import { formatTime, type MessageKey, t } from '../../i18n/index.ts';
import { href } from '../../router.ts';
import { visitorName } from '../../ui/names.ts';
import { PresenceBar } from './presence.tsx';
import { SoundToggle } from './sound.tsx';
import { StatusBadge } from './status.tsx';

const FILTER_LABEL: Record<Filter, MessageKey> = {
  all: 'filterAll',
  waiting: 'filterWaiting',
  mine: 'filterMine',
  unassigned: 'filterUnassigned',
  bot: 'filterBot',
  open: 'filterOpen',
  resolved: 'filterResolved',
};

interface Props {
  inbox: Inbox;
  tenantId: string;
  selected: string | null;
  searchRef: RefObject<HTMLInputElement | null>;
}

export function ConversationList({ inbox, tenantId, selected, searchRef }: Props) {
  const rows = inbox.rows.value;
  return (
    <section class="inbox-list" aria-labelledby="inbox-title" data-admin="inbox-list">
      <h1 id="inbox-title" class="visually-hidden">
        {t('conversations')}
      </h1>
      <div class="list-tools">
        <label class="search">
          <span class="visually-hidden">{t('search')}</span>
          <input
            ref={searchRef}
            type="search"
            placeholder={t('search')}
            value={inbox.query.value}
            onInput={(e) => {
              inbox.query.value = (e.currentTarget as HTMLInputElement).value;
            }}
            onKeyDown={(e) => e.key === 'Escape' && (e.currentTarget as HTMLInputElement).blur()}
            data-admin="search"
          />
        </label>
        <fieldset class="filters">
          <legend class="visually-hidden">{t('filters')}</legend>
          {FILTERS.map((f) => (
            <button
              key={f}
              type="button"
              class="chip"
              aria-pressed={inbox.filter.value === f}
              onClick={() => {
                inbox.filter.value = f;
              }}
              data-filter={f}
            >
              {t(FILTER_LABEL[f])}
            </button>
          ))}
        </fieldset>
        <label class="channel">
          <span class="visually-hidden">{t('channel')}</span>
          <select
            value={inbox.channel.value ?? ''}
            onChange={(e) => {
              const value = (e.currentTarget as HTMLSelectElement).value;
              inbox.channel.value = value ? (value as Channel) : null;
            }}
            data-admin="channel"
          >
            <option value="">{t('channelAll')}</option>
            <option value="web">{t('channelWeb')}</option>
            <option value="whatsapp">{t('channelWhatsapp')}</option>
          </select>
        </label>
        <SoundToggle />
      </div>
      <PresenceBar tenantId={tenantId} />
      {inbox.error.value && (
        <p class="error" role="alert">
          {t('actionFailed', { message: inbox.error.value })}
        </p>
      )}
      {!inbox.loading.value && rows.length === 0 && <p class="empty">{t('noConversations')}</p>}
      <ul class="rows" aria-busy={inbox.loading.value}>
        {rows.map((row) => (
          <Row key={row.id} row={row} tenantId={tenantId} selected={row.id === selected} />
        ))}
      </ul>
      {inbox.hasMore.value && (
        <button type="button" class="more" onClick={() => void inbox.loadMore()}>
          {t('loadMore')}
        </button>
      )}
    </section>
  );
}

function Row({ row, tenantId, selected }: { row: InboxRow; tenantId: string; selected: boolean }) {
  const preview = row.matched ?? row.last_message ?? '';
  return (
    <li>
      <a
        href={href(tenantId, 'inbox', row.id)}
        class={`row${row.unread ? ' unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
        data-conversation={row.id}
        data-status={row.status}
      >
        <span class="row-top">
          <span class="row-name" dir="auto">
            {visitorName(row)}
          </span>
          <time dateTime={row.activity_at}>{formatTime(row.activity_at)}</time>
        </span>
        <span class="row-preview" dir="auto">
          {row.last_message_private && !row.matched ? `${t('internalNote')}: ` : ''}
          {preview}
        </span>
        <span class="row-bottom">
          <StatusBadge status={row.status} />
          {row.channel !== 'web' && <span class="tag">{t('channelWhatsapp')}</span>}
          {row.unread > 0 && (
            <span class="unread-count" data-admin="unread">
              <span aria-hidden="true">{row.unread}</span>
              <span class="visually-hidden">{t('unread', { n: row.unread })}</span>
            </span>
          )}
        </span>
      </a>
    </li>
  );
}
