import { DocumentIngestError } from './ingest-document.ts';

// The knowledge bucket as the ingestion job reads it: Storage's own HTTP API with the service key,
// the same on Supabase and on the local stack. Storage is the platform's service, not a URL a
// tenant chose, so this is plain fetch and not the outbound guard.

export const KNOWLEDGE_BUCKET = 'knowledge';

export interface StorageAccess {
  url: string;
  serviceKey: string;
  fetch: typeof fetch;
}

/** Reads one object of the knowledge bucket. */
export type FileReader = (path: string) => Promise<Uint8Array>;

/** An object name as a URL path: each segment encoded, the slashes between them kept. */
export function objectUrl(storage: StorageAccess, bucket: string, path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `${storage.url.replace(/\/$/, '')}/storage/v1/object/${bucket}/${encoded}`;
}

export function createFileReader(storage: StorageAccess): FileReader {
  return async (path) => {
    const response = await storage.fetch(objectUrl(storage, KNOWLEDGE_BUCKET, path), {
      headers: { authorization: `Bearer ${storage.serviceKey}`, apikey: storage.serviceKey },
    });
    if (response.status === 404 || response.status === 400) {
      await response.body?.cancel();
      throw new DocumentIngestError('the file is no longer in storage', true);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`storage answered ${response.status} for the document's file`);
    }
    return new Uint8Array(await response.arrayBuffer());
  };
}
