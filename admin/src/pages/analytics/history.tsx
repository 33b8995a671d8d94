import { useEffect, useState } from 'preact/hooks';
import {
  type HistoryFilters,
  type HistoryRow,
  loadAllHistory,
  loadHistory,
  type Range,
} from '../../data/analytics.ts';
import { problem } from '../../data/client.ts';
import { team } from '../../data/tenants.ts';
import { locale } from '../../i18n/index.ts';
import { href } from '../../router.ts';
import { toCsv } from './csv.ts';
import { m } from './messages.ts';

// The tenant's conversations over the page's range, filtered by status, channel, rating, assignee
// and words, a page at a time; the export takes every matching row, not just the page shown.

const PAGE = 50;
const EMPTY: HistoryFilters = { status: '', channel: '', rating: '', assignee: '', query: '' };

const STATUS: Record<string, Parameters<typeof m>[0]> = {
  bot: 'statusBot',
  handoff: 'statusHandoff',
  open: 'statusOpen',
  resolved: 'statusResolved',
};
const CHANNEL: Record<string, Parameters<typeof m>[0]> = {
  web: 'channelWeb',
  whatsapp: 'channelWhatsapp',
};

const when = (iso: string) =>
  new Intl.DateTimeFormat(locale.value, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );

const CSV_COLUMNS: { header: string; value: (r: HistoryRow) => unknown }[] = [
  { header: 'id', value: (r) => r.id },
  { header: 'started_at', value: (r) => r.created_at },
  { header: 'status', value: (r) => r.status },
  { header: 'channel', value: (r) => r.channel },
  { header: 'contact_name', value: (r) => r.contact_name },
  { header: 'contact_email', value: (r) => r.contact_email },
  { header: 'assignee', value: (r) => r.assignee_name ?? r.assignee_id },
  { header: 'messages', value: (r) => r.message_count },
  { header: 'handoff_at', value: (r) => r.handoff_at },
  { header: 'resolved_at', value: (r) => r.resolved_at },
  { header: 'last_message_at', value: (r) => r.last_message_at },
  { header: 'csat', value: (r) => r.csat },
  { header: 'csat_comment', value: (r) => r.csat_comment },
  { header: 'first_message', value: (r) => r.first_message },
];

function download(name: string, text: string) {
  // A byte-order mark so spreadsheet programs read the file as UTF-8 (Hebrew names included).
  const url = URL.createObjectURL(new Blob(['\ufeff', text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function History({ tenantId, range }: { tenantId: string; range: Range }) {
  const [draft, setDraft] = useState<HistoryFilters>(EMPTY);
  const [filters, setFilters] = useState<HistoryFilters>(EMPTY);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ rows: HistoryRow[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [exportState, setExportState] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    loadHistory(tenantId, range, filters, offset, PAGE)
      .then((p) => live && setPage(p))
      .catch((e) => live && setError(m('loadFailed', { reason: problem(e) })));
    return () => {
      live = false;
    };
  }, [tenantId, range, filters, offset]);

  const set = (key: keyof HistoryFilters) => (e: Event) =>
    setDraft({ ...draft, [key]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });

  const exportCsv = async () => {
    setExporting(true);
    setExportState(m('exporting', { done: 0, total: page?.total ?? 0 }));
    try {
      const rows = await loadAllHistory(tenantId, range, filters, (done, total) =>
        setExportState(m('exporting', { done, total })),
      );
      download(`conversations-${range.from}-${range.to}.csv`, toCsv(CSV_COLUMNS, rows));
      setExportState(m('exported', { count: rows.length }));
    } catch (e) {
      setExportState(m('exportFailed', { reason: problem(e) }));
    } finally {
      setExporting(false);
    }
  };

  const total = page?.total ?? 0;
  return (
    <section class="history" aria-labelledby="history-title" data-admin="history">
      <h2 id="history-title">{m('history')}</h2>
      <form
        class="history-filters"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setFilters(draft);
        }}
      >
        <label>
          {m('status')}
          <select data-admin="history-status" value={draft.status} onChange={set('status')}>
            <option value="">{m('any')}</option>
            {Object.entries(STATUS).map(([value, key]) => (
              <option key={value} value={value}>
                {m(key)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m('channel')}
          <select data-admin="history-channel" value={draft.channel} onChange={set('channel')}>
            <option value="">{m('any')}</option>
            {Object.entries(CHANNEL).map(([value, key]) => (
              <option key={value} value={value}>
                {m(key)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m('rating')}
          <select data-admin="history-rating" value={draft.rating} onChange={set('rating')}>
            <option value="">{m('any')}</option>
            <option value="rated">{m('rated')}</option>
            <option value="unrated">{m('unrated')}</option>
            {[5, 4, 3, 2, 1].map((n) => (
              <option key={n} value={String(n)}>
                {m('stars', { n })}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m('assignee')}
          <select data-admin="history-assignee" value={draft.assignee} onChange={set('assignee')}>
            <option value="">{m('any')}</option>
            <option value="none">{m('unassigned')}</option>
            {team.value.map((member) => (
              <option key={member.user_id} value={member.user_id}>
                {member.display_name ?? member.user_id.slice(0, 8)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m('search')} <span class="muted">({m('searchHint')})</span>
          <input
            type="search"
            data-admin="history-query"
            value={draft.query}
            onInput={set('query')}
            maxLength={200}
          />
        </label>
        <button type="submit" class="primary" data-admin="history-apply">
          {m('apply')}
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="history-bar">
        <p aria-live="polite" data-admin="history-count">
          {page &&
            (total === 0
              ? m('noneFound')
              : m('count', {
                  from: offset + 1,
                  to: offset + page.rows.length,
                  total,
                }))}
        </p>
        <button
          type="button"
          data-admin="history-export"
          disabled={exporting || total === 0}
          onClick={() => void exportCsv()}
        >
          {m('exportCsv')}
        </button>
        <span aria-live="polite" data-admin="history-export-state" class="muted">
          {exportState}
        </span>
      </div>
      {page && page.rows.length > 0 && (
        <div class="table-scroll">
          <table class="history-table" data-admin="history-table">
            <caption class="visually-hidden">{m('history')}</caption>
            <thead>
              <tr>
                <th scope="col">{m('started')}</th>
                <th scope="col">{m('status')}</th>
                <th scope="col">{m('channel')}</th>
                <th scope="col">{m('contact')}</th>
                <th scope="col">{m('assignee')}</th>
                <th scope="col">{m('messages')}</th>
                <th scope="col">{m('rating')}</th>
                <th scope="col">{m('firstMessage')}</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((r) => (
                <tr key={r.id} data-history={r.id}>
                  <td>
                    <a href={href(tenantId, 'inbox', r.id)} title={m('open')}>
                      {when(r.created_at)}
                    </a>
                  </td>
                  <td>{STATUS[r.status] ? m(STATUS[r.status] as 'statusBot') : r.status}</td>
                  <td>{CHANNEL[r.channel] ? m(CHANNEL[r.channel] as 'channelWeb') : r.channel}</td>
                  <td>{r.contact_name ?? r.contact_email ?? m('visitor')}</td>
                  <td>
                    {r.assignee_name ?? (r.assignee_id ? r.assignee_id.slice(0, 8) : m('none'))}
                  </td>
                  <td>{r.message_count}</td>
                  <td>{r.csat ?? m('none')}</td>
                  <td class="first-message" dir="auto">
                    {r.first_message ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE && (
        <nav class="pager" aria-label={m('history')}>
          <button
            type="button"
            data-admin="history-previous"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE))}
          >
            {m('previous')}
          </button>
          <button
            type="button"
            data-admin="history-next"
            disabled={offset + PAGE >= total}
            onClick={() => setOffset(offset + PAGE)}
          >
            {m('next')}
          </button>
        </nav>
      )}
    </section>
  );
}
