// U+0000 is valid JSON and valid JavaScript, but Postgres stores it in neither text nor jsonb: a
// single one makes the whole write fail. Input from a caller is refused for it (they can fix it);
// text from upstream (a model, a tool) has it removed, since nobody could resend it without.

/** The path of the first string (or object key) holding U+0000 in a JSON value, or null. */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path || 'body' : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\0')) return path || 'body';
    const found = nulPath(item, path ? `${path}.${key}` : key);
    if (found !== null) return found;
  }
  return null;
}

/** The same JSON value with every U+0000 removed from its strings and keys. */
export function stripNul<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\0', '') as T;
  if (Array.isArray(value)) return value.map(stripNul) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key.replaceAll('\0', ''), stripNul(item)]),
  ) as T;
}
