import { must, supabase } from './client.ts';
import { callFunction } from './functions.ts';

// The knowledge base as the admin sees it: documents and crawls through the Data API, files
// through Storage (under its RLS: owners and admins write their tenant's folder), the retrieval
// test through the knowledge function. Uploads go with XMLHttpRequest because it reports upload
// progress and fetch does not; the request is storage-js's own (POST /object/<bucket>/<path>).

export type DocumentStatus = 'pending' | 'processing' | 'ready' | 'failed';

export interface KnowledgeDocument {
  id: string;
  title: string;
  source_url: string | null;
  mime_type: string;
  status: DocumentStatus;
  error: string | null;
  chunk_count: number;
  storage_path: string | null;
  crawl_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface Crawl {
  id: string;
  kind: 'site' | 'sitemap';
  url: string;
  resync: 'off' | 'daily' | 'weekly';
  status: 'queued' | 'running' | 'done' | 'failed';
  run: number;
  pages_found: number;
  pages_fetched: number;
  pages_changed: number;
  pages_unchanged: number;
  pages_skipped: number;
  pages_failed: number;
  stop_reason: string | null;
  error: string | null;
  finished_at: string | null;
  next_sync_at: string | null;
  created_at: string;
}

export interface Chunk {
  chunk_index: number;
  heading: string;
  content: string;
  token_count: number;
}

export interface RankedPassage {
  rank: number;
  chunk_id: string;
  document_id: string;
  title: string;
  heading: string;
  content: string;
  score: number;
  full_text_rank: number | null;
  full_text_score: number;
  semantic_rank: number | null;
  similarity: number | null;
  semantic_score: number;
}

export interface SearchResult {
  model: string;
  semantic_weight: number;
  rrf_k: number;
  passages: RankedPassage[];
}

/** What people upload, by extension. */
export const FILE_TYPES: Readonly<Record<string, string>> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export const ACCEPT = Object.keys(FILE_TYPES)
  .map((ext) => `.${ext}`)
  .join(',');

export const MAX_FILE_BYTES = 10 * 1024 * 1024;

export function typeOf(fileName: string): string | null {
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  return FILE_TYPES[ext] ?? null;
}

const DOCUMENT_COLUMNS =
  'id, title, source_url, mime_type, status, error, chunk_count, storage_path, crawl_id, created_at, updated_at';

export async function listDocuments(tenantId: string): Promise<KnowledgeDocument[]> {
  return must(
    await supabase()
      .from('documents')
      .select(DOCUMENT_COLUMNS)
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: false })
      .limit(1000),
  ) as KnowledgeDocument[];
}

export async function listCrawls(tenantId: string): Promise<Crawl[]> {
  return must(
    await supabase()
      .from('crawls')
      .select(
        'id, kind, url, resync, status, run, pages_found, pages_fetched, pages_changed, pages_unchanged, pages_skipped, pages_failed, stop_reason, error, finished_at, next_sync_at, created_at',
      )
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: false }),
  ) as Crawl[];
}

export async function chunksOf(documentId: string): Promise<Chunk[]> {
  return must(
    await supabase()
      .from('document_chunks')
      .select('chunk_index, heading, content, token_count')
      .eq('document_id', documentId)
      .order('chunk_index')
      .limit(200),
  ) as Chunk[];
}

/** Storage's object URL for a name: each segment encoded, the slashes kept. */
function objectUrl(path: string): string {
  return `${supabase().url}/storage/v1/object/knowledge/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** A file name Storage and people both read: no slashes or control characters. */
function safeName(name: string): string {
  const cleaned = [...name.normalize('NFC')]
    .map((c) => (c === '/' || c === '\\' || c.charCodeAt(0) < 32 || c === '\u007f' ? '-' : c))
    .join('')
    .trim();
  return cleaned.slice(-120) || 'file';
}

function upload(
  path: string,
  file: Blob,
  type: string,
  token: string,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', objectUrl(path));
    xhr.setRequestHeader('apikey', supabase().key);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', type);
    xhr.setRequestHeader('x-upsert', 'false');
    xhr.setRequestHeader('cache-control', 'max-age=3600');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
        return;
      }
      let message = `Storage answered ${xhr.status}`;
      try {
        const body = JSON.parse(xhr.responseText) as { message?: string; error?: string };
        message = body.message ?? body.error ?? message;
      } catch {
        // Not JSON: the status says enough.
      }
      reject(new Error(message));
    };
    xhr.onerror = () => reject(new Error('The upload was interrupted; check the connection.'));
    xhr.send(file);
  });
}

async function removeObject(path: string): Promise<void> {
  const response = await fetch(objectUrl(path), {
    method: 'DELETE',
    headers: { apikey: supabase().key, Authorization: `Bearer ${await supabase().accessToken()}` },
  });
  // Gone already is as good as removed.
  if (!response.ok && response.status !== 404 && response.status !== 400) {
    throw new Error(`Storage answered ${response.status} while removing the file`);
  }
}

/** Uploads a file into the tenant's folder and adds it as a document, which queues its ingestion. */
export async function uploadDocument(
  tenantId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<KnowledgeDocument> {
  const type = typeOf(file.name);
  if (!type) throw new Error('unsupported');
  const path = `${tenantId}/${crypto.randomUUID()}/${safeName(file.name)}`;
  await upload(path, file, type, await supabase().accessToken(), onProgress);
  const title =
    file.name
      .replace(/\.[^.]+$/, '')
      .trim()
      .slice(0, 500) || file.name;
  const result = await supabase()
    .from('documents')
    .insert({ tenant_id: tenantId, title, mime_type: type, storage_path: path })
    .select(DOCUMENT_COLUMNS)
    .single();
  if (result.error) {
    // No document, no file: the quota refusal (or any other) leaves nothing behind.
    await removeObject(path).catch(() => {});
    throw result.error;
  }
  return result.data as KnowledgeDocument;
}

/** Deletes the document; its file is then removed from Storage by a job the deletion queues. */
export async function deleteDocument(document: KnowledgeDocument): Promise<void> {
  must(await supabase().from('documents').delete().eq('id', document.id).select('id'));
}

export async function addCrawl(
  tenantId: string,
  crawl: { kind: Crawl['kind']; url: string; resync: Crawl['resync'] },
): Promise<void> {
  must(
    await supabase()
      .from('crawls')
      .insert({ tenant_id: tenantId, ...crawl })
      .select('id'),
  );
}

export async function recrawl(crawlId: string): Promise<void> {
  must(await supabase().rpc('recrawl', { p_crawl_id: crawlId }));
}

export async function setResync(crawlId: string, resync: Crawl['resync']): Promise<void> {
  must(await supabase().from('crawls').update({ resync }).eq('id', crawlId).select('id'));
}

/** Deletes the crawl and every page it added. */
export async function deleteCrawl(crawlId: string): Promise<void> {
  must(await supabase().from('crawls').delete().eq('id', crawlId).select('id'));
}

export function searchTest(tenantId: string, query: string): Promise<SearchResult> {
  return callFunction<SearchResult>('knowledge/search', { tenant_id: tenantId, query, count: 8 });
}
