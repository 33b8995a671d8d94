// JSON without the page's help: JSON.stringify calls any toJSON it finds, and pages still patch
// Array.prototype.toJSON (Prototype.js makes it return a string), which turns every array into a
// quoted string. Plain data (what the widget sends) is written here without consulting toJSON.

export function toJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value !== 'object') return 'null';
  if (Array.isArray(value)) {
    let out = '';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + toJson(value[i]);
    return `[${out}]`;
  }
  let out = '';
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${toJson(item)}`;
  }
  return `{${out}}`;
}
