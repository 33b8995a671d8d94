import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import {
  ACCEPT,
  addCrawl,
  type Chunk,
  type Crawl,
  chunksOf,
  deleteCrawl,
  deleteDocument,
  type KnowledgeDocument,
  listCrawls,
  listDocuments,
  MAX_FILE_BYTES,
  recrawl,
  type SearchResult,
  searchTest,
  typeOf,
  uploadDocument,
} from '../../data/knowledge.ts';
import { listen, live } from '../../data/realtime.ts';
import { t } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// The Knowledge page: upload files with progress, add websites to crawl (progress arrives over
// Realtime on tenant:<id>:knowledge, which only the server sends on), the documents with their
// state, passages and errors, and a retrieval test box showing how the bot ranks passages.

interface Upload {
  id: number;
  name: string;
  progress: number;
  state: 'uploading' | 'done' | 'failed';
  message?: string;
}

const TYPE_LABELS: Record<string, string> = {
  'text/markdown': 'Markdown',
  'text/plain': 'Text',
  'text/html': 'HTML',
  'application/pdf': 'PDF',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
};

let uploadIds = 0;

export default function KnowledgePage({ tenantId }: PageProps) {
  const [documents, setDocuments] = useState<KnowledgeDocument[] | null>(null);
  const [crawls, setCrawls] = useState<Crawl[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const [docs, sites] = await Promise.all([listDocuments(tenantId), listCrawls(tenantId)]);
      setDocuments(docs);
      setCrawls(sites);
      setError(null);
    } catch (e) {
      setError(problem(e));
    }
  }, [tenantId]);

  useEffect(() => {
    void reload();
    // The server says what changed; the lists are read again, at most every half second.
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        void reload();
      }, 500);
    };
    const stop = listen(
      `tenant:${tenantId}:knowledge`,
      (event, payload) => {
        if (event === 'crawl_progress') {
          setCrawls((list) =>
            list.some((c) => c.id === payload.crawl_id)
              ? list.map((c) =>
                  c.id === payload.crawl_id ? { ...c, ...(payload as Partial<Crawl>) } : c,
                )
              : list,
          );
        }
        if (event === 'document_status') {
          setDocuments((list) =>
            list?.some((d) => d.id === payload.document_id)
              ? list.map((d) =>
                  d.id === payload.document_id
                    ? {
                        ...d,
                        status: payload.status as KnowledgeDocument['status'],
                        chunk_count: Number(payload.chunk_count ?? d.chunk_count),
                        error: (payload.error as string | null) ?? null,
                      }
                    : d,
                )
              : list,
          );
        }
        soon();
      },
      () => void reload(),
    );
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [tenantId, reload]);

  return (
    <section class="page knowledge" aria-labelledby="knowledge-title">
      <header class="page-head">
        <h1 id="knowledge-title">{m('title')}</h1>
        <span class="muted small" data-admin="knowledge-live">
          {live.value ? m('live') : m('offline')}
        </span>
      </header>
      <p class="muted">{m('intro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p role="status" class="small" aria-live="polite">
        {notice}
      </p>
      <div class="knowledge-sources">
        <UploadPanel tenantId={tenantId} onAdded={reload} />
        <CrawlForm tenantId={tenantId} onAdded={reload} onNotice={setNotice} />
      </div>
      <CrawlList crawls={crawls} onChanged={reload} onError={setError} />
      <DocumentList
        documents={documents}
        onChanged={reload}
        onError={setError}
        onNotice={setNotice}
      />
      <SearchBox tenantId={tenantId} />
    </section>
  );
}

function UploadPanel({ tenantId, onAdded }: { tenantId: string; onAdded: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const patch = (id: number, change: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.id === id ? { ...u, ...change } : u)));

  async function send(event: Event) {
    event.preventDefault();
    const files = [...(input.current?.files ?? [])];
    if (input.current) input.current.value = '';
    for (const file of files) {
      const id = ++uploadIds;
      const entry: Upload = { id, name: file.name, progress: 0, state: 'uploading' };
      setUploads((list) => [entry, ...list].slice(0, 20));
      if (!typeOf(file.name)) {
        patch(id, { state: 'failed', message: m('unsupported', { name: file.name }) });
        continue;
      }
      if (file.size > MAX_FILE_BYTES) {
        patch(id, { state: 'failed', message: m('tooLarge', { name: file.name }) });
        continue;
      }
      try {
        await uploadDocument(tenantId, file, (progress) => patch(id, { progress }));
        patch(id, { state: 'done', progress: 1, message: m('uploaded', { name: file.name }) });
        onAdded();
      } catch (e) {
        patch(id, {
          state: 'failed',
          message: m('uploadFailed', { name: file.name, reason: problem(e) }),
        });
      }
    }
  }

  return (
    <form class="panel" onSubmit={send} data-admin="upload-form">
      <h2>{m('uploadTitle')}</h2>
      <p class="muted small" id="upload-help">
        {m('uploadHelp')}
      </p>
      <label>
        {m('chooseFiles')}
        <input
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          aria-describedby="upload-help"
          data-admin="upload-input"
        />
      </label>
      <div class="actions">
        <button type="submit" class="primary">
          {m('upload')}
        </button>
      </div>
      {uploads.length > 0 && (
        <ul class="upload-list" aria-live="polite" data-admin="uploads">
          {uploads.map((u) => (
            <li key={u.id} data-state={u.state}>
              {u.state === 'uploading' ? (
                <label>
                  {m('uploading', { name: u.name })}
                  <progress max={1} value={u.progress} />
                </label>
              ) : (
                <span class={u.state === 'failed' ? 'error' : 'ok'}>{u.message}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function CrawlForm({
  tenantId,
  onAdded,
  onNotice,
}: {
  tenantId: string;
  onAdded: () => void;
  onNotice: (text: string) => void;
}) {
  const [url, setUrl] = useState('');
  const [kind, setKind] = useState<Crawl['kind']>('site');
  const [resync, setResync] = useState<Crawl['resync']>('off');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const trimmed = url.trim();
    if (!/^https?:\/\/[^\s/]+/i.test(trimmed)) {
      setError(m('invalidUrl'));
      return;
    }
    setBusy(true);
    try {
      await addCrawl(tenantId, { kind, url: trimmed, resync });
      setUrl('');
      setError(null);
      onNotice(m('crawlAdded', { url: trimmed }));
      onAdded();
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel" onSubmit={submit} data-admin="crawl-form">
      <h2>{m('crawlTitle')}</h2>
      <p class="muted small" id="crawl-help">
        {m('crawlHelp')}
      </p>
      <label>
        {m('crawlUrl')}
        <input
          type="url"
          required
          value={url}
          placeholder="https://"
          aria-describedby="crawl-help"
          aria-invalid={error ? 'true' : undefined}
          onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
          data-admin="crawl-url"
        />
      </label>
      <label>
        {m('crawlKind')}
        <select
          value={kind}
          onChange={(e) => setKind((e.target as HTMLSelectElement).value as Crawl['kind'])}
          data-admin="crawl-kind"
        >
          <option value="site">{m('kindSite')}</option>
          <option value="sitemap">{m('kindSitemap')}</option>
        </select>
      </label>
      <label>
        {m('resync')}
        <select
          value={resync}
          onChange={(e) => setResync((e.target as HTMLSelectElement).value as Crawl['resync'])}
        >
          <option value="off">{m('resyncOff')}</option>
          <option value="daily">{m('resyncDaily')}</option>
          <option value="weekly">{m('resyncWeekly')}</option>
        </select>
      </label>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {m('addCrawl')}
        </button>
      </div>
    </form>
  );
}

function CrawlList({
  crawls,
  onChanged,
  onError,
}: {
  crawls: Crawl[];
  onChanged: () => void;
  onError: (text: string) => void;
}) {
  const act = (fn: () => Promise<void>) => () => {
    fn()
      .then(onChanged)
      .catch((e) => onError(problem(e)));
  };
  return (
    <section class="panel" aria-labelledby="crawls-title">
      <h2 id="crawls-title">{m('crawlsTitle')}</h2>
      {crawls.length === 0 && <p class="empty-note">{m('noCrawls')}</p>}
      <ul class="crawl-list" data-admin="crawls">
        {crawls.map((crawl) => (
          <li key={crawl.id} data-crawl={crawl.url} data-status={crawl.status}>
            <div class="crawl-head">
              <strong dir="ltr">{crawl.url}</strong>
              <span class="badge">{m(`crawlStatus_${crawl.status}`)}</span>
            </div>
            <label class="small">
              {m('crawlProgress', { fetched: crawl.pages_fetched, found: crawl.pages_found })}
              <progress
                max={Math.max(crawl.pages_found, 1)}
                value={
                  crawl.status === 'done' ? Math.max(crawl.pages_found, 1) : crawl.pages_fetched
                }
                data-admin="crawl-progress"
              />
            </label>
            <p class="small muted">
              {m('crawlCounts', {
                changed: crawl.pages_changed,
                unchanged: crawl.pages_unchanged,
                skipped: crawl.pages_skipped,
                failed: crawl.pages_failed,
              })}
            </p>
            {crawl.stop_reason && (
              <p class="small">{m('stopped', { reason: crawl.stop_reason })}</p>
            )}
            {crawl.error && (
              <p class="small error" role="alert">
                {crawl.error}
              </p>
            )}
            {crawl.next_sync_at && crawl.resync !== 'off' && (
              <p class="small muted">
                {m('nextSync', { when: new Date(crawl.next_sync_at).toLocaleString() })}
              </p>
            )}
            <div class="actions">
              <button
                type="button"
                disabled={crawl.status === 'queued' || crawl.status === 'running'}
                onClick={act(() => recrawl(crawl.id))}
              >
                {m('recrawl')}
              </button>
              <button
                type="button"
                class="danger"
                onClick={() => {
                  if (confirm(m('confirmDeleteCrawl', { url: crawl.url })))
                    act(() => deleteCrawl(crawl.id))();
                }}
              >
                {m('deleteCrawl')}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function DocumentList({
  documents,
  onChanged,
  onError,
  onNotice,
}: {
  documents: KnowledgeDocument[] | null;
  onChanged: () => void;
  onError: (text: string) => void;
  onNotice: (text: string) => void;
}) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section class="panel" aria-labelledby="documents-title">
      <h2 id="documents-title">{m('documentsTitle')}</h2>
      {documents === null && <p aria-live="polite">{t('loading')}</p>}
      {documents?.length === 0 && <p class="empty-note">{m('noDocuments')}</p>}
      {documents && documents.length > 0 && (
        <div class="table-scroll">
          <table class="data-table" data-admin="documents">
            <thead>
              <tr>
                <th scope="col">{m('colTitle')}</th>
                <th scope="col">{m('colType')}</th>
                <th scope="col">{m('colStatus')}</th>
                <th scope="col">{m('colChunks')}</th>
                <th scope="col">{m('colActions')}</th>
              </tr>
            </thead>
            <tbody>
              {documents.map((doc) => (
                <DocumentRow
                  key={doc.id}
                  doc={doc}
                  open={open === doc.id}
                  onToggle={() => setOpen(open === doc.id ? null : doc.id)}
                  onDelete={() => {
                    if (!confirm(m('confirmDelete', { title: doc.title }))) return;
                    deleteDocument(doc)
                      .then(() => {
                        onNotice(m('deleted', { title: doc.title }));
                        onChanged();
                      })
                      .catch((e) => onError(problem(e)));
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DocumentRow({
  doc,
  open,
  onToggle,
  onDelete,
}: {
  doc: KnowledgeDocument;
  open: boolean;
  onToggle: () => void;
  onDelete: () => void;
}) {
  const previewId = `chunks-${doc.id}`;
  return (
    <>
      <tr data-document={doc.title} data-status={doc.status}>
        <th scope="row">
          {doc.source_url ? (
            <a href={doc.source_url} target="_blank" rel="noopener noreferrer" dir="auto">
              {doc.title}
            </a>
          ) : (
            <span dir="auto">{doc.title}</span>
          )}
        </th>
        <td>{doc.crawl_id ? m('fromSite') : (TYPE_LABELS[doc.mime_type] ?? doc.mime_type)}</td>
        <td>
          <span class="badge" data-admin="document-status">
            {m(`status_${doc.status}`)}
          </span>
          {doc.error && (
            <p class="small error" data-admin="document-error">
              {doc.error}
            </p>
          )}
        </td>
        <td data-admin="chunk-count">{doc.chunk_count}</td>
        <td class="row-actions">
          <button type="button" aria-expanded={open} aria-controls={previewId} onClick={onToggle}>
            {open ? m('hidePreview') : m('preview')}
          </button>
          <button type="button" class="danger" onClick={onDelete}>
            {m('delete')}
          </button>
        </td>
      </tr>
      {open && (
        <tr class="chunk-row">
          <td colSpan={5} id={previewId}>
            <ChunkPreview doc={doc} />
          </td>
        </tr>
      )}
    </>
  );
}

function ChunkPreview({ doc }: { doc: KnowledgeDocument }) {
  const [chunks, setChunks] = useState<Chunk[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    chunksOf(doc.id)
      .then((list) => current && setChunks(list))
      .catch((e) => current && setError(problem(e)));
    return () => {
      current = false;
    };
  }, [doc.id, doc.chunk_count]);
  return (
    <section aria-label={m('previewOf', { title: doc.title })} data-admin="chunk-preview">
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {chunks === null && !error && <p>{t('loading')}</p>}
      {chunks?.length === 0 && <p class="empty-note">{m('noChunks')}</p>}
      <ol class="chunk-list">
        {chunks?.map((chunk) => (
          <li key={chunk.chunk_index}>
            {chunk.heading && (
              <p class="small muted" dir="auto">
                {chunk.heading}
              </p>
            )}
            <p dir="auto">{chunk.content}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}

const score = (value: number) => value.toFixed(4);

function SearchBox({ tenantId }: { tenantId: string }) {
  const [query, setQuery] = useState('');
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    if (!query.trim()) return;
    setBusy(true);
    try {
      setResult(await searchTest(tenantId, query.trim()));
      setError(null);
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel" aria-labelledby="search-title" data-admin="retrieval-test">
      <h2 id="search-title">{m('searchTitle')}</h2>
      <p class="muted small" id="search-help">
        {m('searchHelp')}
      </p>
      <form class="search-form" onSubmit={submit}>
        <label>
          {m('question')}
          <input
            type="search"
            value={query}
            maxLength={1000}
            aria-describedby="search-help"
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
            data-admin="search-input"
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? m('searching') : m('search')}
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {result && (
        <div aria-live="polite">
          <p class="small muted">
            {m('scoring', {
              k: result.rrf_k,
              weight: result.semantic_weight,
              model: result.model,
            })}
          </p>
          {result.passages.length === 0 && <p class="empty-note">{m('noPassages')}</p>}
          <ol class="passage-list" data-admin="passages">
            {result.passages.map((p) => (
              <li key={p.chunk_id} data-title={p.title}>
                <p>
                  <strong dir="auto">{p.heading || p.title}</strong>
                </p>
                <dl class="scores">
                  <div>
                    <dt>{m('fused')}</dt>
                    <dd data-score="fused">{score(p.score)}</dd>
                  </div>
                  <div>
                    <dt>{m('fullText')}</dt>
                    <dd data-score="full-text">
                      {score(p.full_text_score)} (
                      {p.full_text_rank === null
                        ? m('notRanked')
                        : m('rank', { rank: p.full_text_rank })}
                      )
                    </dd>
                  </div>
                  <div>
                    <dt>{m('vector')}</dt>
                    <dd data-score="vector">
                      {score(p.semantic_score)} (
                      {p.semantic_rank === null
                        ? m('notRanked')
                        : m('rank', { rank: p.semantic_rank })}
                      {p.similarity !== null &&
                        `, ${m('similarity', { value: p.similarity.toFixed(3) })}`}
                      )
                    </dd>
                  </div>
                </dl>
                <p class="passage" dir="auto">
                  {p.content}
                </p>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
