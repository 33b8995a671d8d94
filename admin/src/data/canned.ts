import { signal } from '@preact/signals';
import { supabase } from './client.ts';

/** A tenant's saved reply (public.canned_responses), typed as /shortcut in the composer. */
export interface CannedResponse {
  shortcut: string;
  content: string;
}

export const cannedResponses = signal<CannedResponse[]>([]);
let loadedFor: string | null = null;

/** Once per tenant: the list changes rarely, and a stale one only misses a new shortcut. */
export async function loadCannedResponses(tenantId: string): Promise<void> {
  if (loadedFor === tenantId) return;
  loadedFor = tenantId;
  const { data } = await supabase()
    .from('canned_responses')
    .select('shortcut, content')
    .eq('tenant_id', tenantId)
    .order('shortcut');
  if (loadedFor === tenantId) cannedResponses.value = (data ?? []) as CannedResponse[];
}

// A slash at the start or after whitespace, so URLs and paths typed in a reply never expand.
const SHORTCUT_BEFORE_CARET = /(^|\s)\/([a-z0-9][a-z0-9_-]{0,31})$/;

/**
 * The composer's text with the /shortcut that ends at the caret replaced by its reply, and where
 * the caret goes; null when the word before the caret is no known shortcut.
 */
export function expandShortcut(
  text: string,
  caret: number,
  responses: readonly CannedResponse[],
): { text: string; caret: number } | null {
  const match = SHORTCUT_BEFORE_CARET.exec(text.slice(0, caret));
  if (!match) return null;
  const shortcut = match[2] as string;
  const response = responses.find((r) => r.shortcut === shortcut);
  if (!response) return null;
  const start = caret - shortcut.length - 1;
  return {
    text: text.slice(0, start) + response.content + text.slice(caret),
    caret: start + response.content.length,
  };
}
