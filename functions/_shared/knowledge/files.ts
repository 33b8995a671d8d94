import { z } from 'zod';
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

const removalPayload = z.object({
  // Only a tenant's own folder of the knowledge bucket, as documents.storage_path requires.
  path: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/.+/i),
});

/** The remove_knowledge_file job: gone already counts as removed. */
export function createFileRemovalHandler(storage: StorageAccess) {
  return async (payload: unknown): Promise<{ removed: string; existed: boolean }> => {
    const { path } = removalPayload.parse(payload);
    const response = await storage.fetch(objectUrl(storage, KNOWLEDGE_BUCKET, path), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${storage.serviceKey}`, apikey: storage.serviceKey },
    });
    await response.body?.cancel();
    if (response.ok) return { removed: path, existed: true };
    if (response.status === 404 || response.status === 400)
      return { removed: path, existed: false };
    throw new Error(`storage answered ${response.status} while removing a knowledge file`);
  };
}
