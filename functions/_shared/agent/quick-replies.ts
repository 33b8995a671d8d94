// The model suggests quick replies in a trailing <quick_replies>["…","…"]</quick_replies> block:
// plain text works with every provider and model, where JSON modes and schemas differ. The block is
// taken off the reply, and never streamed to the widget.

const OPEN = '<quick_replies>';
const BLOCK = /<quick_replies>([\s\S]*?)(?:<\/quick_replies>|$)/i;

export function splitQuickReplies(text: string): { content: string; quickReplies: string[] } {
  const match = BLOCK.exec(text);
  if (!match) return { content: text.trim(), quickReplies: [] };
  let quickReplies: string[] = [];
  try {
    const parsed: unknown = JSON.parse(match[1]?.trim() ?? '');
    if (Array.isArray(parsed)) {
      quickReplies = parsed
        .filter((q): q is string => typeof q === 'string')
        .map((q) => q.trim())
        .filter((q) => q.length > 0 && q.length <= 80)
        .slice(0, 4);
    }
  } catch {
    // A malformed block is dropped, not shown.
  }
  return { content: text.replace(BLOCK, '').trim(), quickReplies };
}

/** The part of a partial reply that is safe to show: everything before a (possibly partial) block. */
export function visiblePrefix(partial: string): string {
  const at = partial.toLowerCase().indexOf(OPEN);
  if (at >= 0) return partial.slice(0, at);
  // Hold back a trailing fragment that could be the start of the block.
  for (let keep = Math.min(OPEN.length - 1, partial.length); keep > 0; keep--) {
    if (OPEN.startsWith(partial.slice(-keep).toLowerCase())) return partial.slice(0, -keep);
  }
  return partial;
}
