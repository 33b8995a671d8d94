import type { StorageContext } from './context.ts';
import { asService } from './scope.ts';

// Bytes no row points at: what a crash between storing an upload's bytes and committing its row,
// or between committing a replacement and deleting the old version, leaves behind. Run when the
// stack starts, before any request, so nothing in flight can be mistaken for an orphan.
export async function sweepOrphanBlobs(ctx: StorageContext): Promise<number> {
  const stored = await ctx.blobs.inventory();
  if (stored.length === 0) return 0;
  const rows = await asService(ctx.db, 'storage.sweep', (sql) =>
    sql.query<{ bucket_id: string; name: string; version: string }>(
      'select bucket_id, name, version from storage.objects where version = any($1::text[])',
      [stored.map((ref) => ref.version)],
    ),
  );
  const live = new Set(rows.map((row) => `${row.bucket_id}\0${row.name}\0${row.version}`));
  let removed = 0;
  for (const ref of stored) {
    if (live.has(`${ref.bucket}\0${ref.key}\0${ref.version}`)) continue;
    await ctx.blobs.delete(ref.bucket, ref.key, ref.version);
    removed++;
  }
  return removed;
}
