import { ApiError } from './errors.ts';

// Request headers that shape the answer: Prefer (first recognised value of each kind wins, the
// rest is ignored, as in PostgREST's lenient mode), Accept, and Range.

export interface Preferences {
  return: 'minimal' | 'representation' | 'headers-only' | null;
  count: 'exact' | 'planned' | 'estimated' | null;
  resolution: 'merge-duplicates' | 'ignore-duplicates' | null;
  missing: 'default' | 'null' | null;
}

const ALLOWED: { [K in keyof Preferences]: readonly string[] } = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
};

export interface StrictPreferences {
  /** handling=strict: unknown preferences are an error instead of being ignored. */
  strict: boolean;
  /** max-affected=N (with handling=strict): a write touching more rows is rolled back. */
  maxAffected: number | null;
}

const OTHER_KNOWN = new Set(['handling', 'max-affected', 'tx', 'timezone', 'params']);

export function parsePrefer(headers: Headers): Preferences & StrictPreferences {
  const prefs: Preferences & StrictPreferences = {
    return: null,
    count: null,
    resolution: null,
    missing: null,
    strict: false,
    maxAffected: null,
  };
  const invalid: string[] = [];
  for (const raw of (headers.get('prefer') ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [key = '', value = ''] = entry.split('=').map((s) => s.trim());
    if (key === 'handling' && value === 'strict') prefs.strict = true;
    else if (key === 'max-affected' && /^\d+$/.test(value)) prefs.maxAffected = Number(value);
    else if (key in ALLOWED && ALLOWED[key as keyof Preferences].includes(value)) {
      const k = key as keyof Preferences;
      if (prefs[k] === null) (prefs as unknown as Record<string, string>)[k] = value;
    } else if (!OTHER_KNOWN.has(key) || key === 'max-affected') {
      invalid.push(entry);
    }
  }
  if (prefs.strict && invalid.length > 0) {
    throw new ApiError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${invalid.join(', ')}`,
    );
  }
  // Without handling=strict PostgREST ignores max-affected.
  if (!prefs.strict) prefs.maxAffected = null;
  return prefs;
}

/** What PostgREST reports back in Preference-Applied. */
export function appliedPreferences(prefs: Preferences): string {
  const applied: string[] = [];
  if (prefs.resolution) applied.push(`resolution=${prefs.resolution}`);
  if (prefs.missing) applied.push(`missing=${prefs.missing}`);
  if (prefs.return) applied.push(`return=${prefs.return}`);
  if (prefs.count) applied.push(`count=${prefs.count}`);
  return applied.join(', ');
}

export type MediaType = 'json' | 'object' | 'csv' | 'openapi';

export interface Accepted {
  media: MediaType;
  stripNulls: boolean;
}

/** The first acceptable media type of the Accept header, or 406 PGRST107. */
export function negotiate(headers: Headers, options: { openapi?: boolean } = {}): Accepted {
  const accept = headers.get('accept');
  if (!accept) return { media: options.openapi ? 'openapi' : 'json', stripNulls: false };
  for (const entry of accept.split(',')) {
    const [type = '', ...params] = entry.split(';').map((s) => s.trim().toLowerCase());
    const stripNulls = params.includes('nulls=stripped');
    switch (type) {
      case '*/*':
      case 'application/*':
        return { media: options.openapi ? 'openapi' : 'json', stripNulls: false };
      case 'application/json':
      case 'application/vnd.pgrst.array+json':
      case 'application/vnd.pgrst.array':
        return { media: 'json', stripNulls };
      case 'application/vnd.pgrst.object+json':
      case 'application/vnd.pgrst.object':
        return { media: 'object', stripNulls };
      case 'text/csv':
        return { media: 'csv', stripNulls: false };
      case 'application/openapi+json':
        if (options.openapi) return { media: 'openapi', stripNulls: false };
        break;
    }
  }
  throw new ApiError(406, 'PGRST107', `None of these media types are available: ${accept}`);
}

export const CONTENT_TYPES: Record<MediaType, string> = {
  json: 'application/json; charset=utf-8',
  object: 'application/vnd.pgrst.object+json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  openapi: 'application/openapi+json; charset=utf-8',
};

/** `Range: 0-9` (items) as offset and limit; null when absent or not an item range. */
export function parseRange(headers: Headers): { offset: number; limit: number | null } | null {
  const range = headers.get('range');
  if (!range) return null;
  const unit = headers.get('range-unit');
  if (unit && unit.toLowerCase() !== 'items') return null;
  const m = /^(?:items=)?(\d+)-(\d*)$/.exec(range.trim());
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === '' ? null : Number(m[2]);
  if (to !== null && to < from) {
    throw new ApiError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `The lower boundary must be lower than or equal to the upper boundary in the Range header.`,
    );
  }
  return { offset: from, limit: to === null ? null : to - from + 1 };
}
