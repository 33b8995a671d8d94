// Where the SPA finds its Supabase project: a config.json beside index.html (set at deploy time),
// else what the build baked in, else the origin that served the SPA (the local stack).

declare const __PARLEY_SUPABASE_URL__: string;
declare const __PARLEY_SUPABASE_KEY__: string;

export interface AdminConfig {
  supabaseUrl: string;
  supabaseKey: string;
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : '');

export async function loadConfig(): Promise<AdminConfig> {
  let file: Record<string, unknown> = {};
  try {
    const res = await fetch(new URL('config.json', document.baseURI), { cache: 'no-cache' });
    // A host that answers every path with index.html (an SPA fallback) has no config file.
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) file = await res.json();
  } catch {
    // No config file: the built-in defaults apply.
  }
  return {
    supabaseUrl: (
      text(file.supabaseUrl) ||
      __PARLEY_SUPABASE_URL__ ||
      window.location.origin
    ).replace(/\/+$/, ''),
    supabaseKey: text(file.supabaseKey) || __PARLEY_SUPABASE_KEY__,
  };
}
