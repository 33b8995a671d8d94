import type { Conversation, PrechatField, PrechatForm, PublicConfig, TeamMember } from './types.ts';

// The server's shapes as the widget relies on them. Tenant staff write most of this (bot config,
// messages), so nothing is trusted to be the type it should be: what does not fit is dropped, or
// turned into text where text is what it was meant to be.

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Text as the visitor will read it: a number or a list of strings still says something. */
export function asText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const parts = v.map(asText).filter((p): p is string => !!p);
    return parts.length ? parts.join('\n\n') : null;
  }
  return null;
}

/** A list of short texts (quick starts, quick replies); a map per language picks `language`. */
export function asTexts(v: unknown, language?: string): string[] {
  if (isObject(v) && language !== undefined) {
    const picked = v[language] ?? v.en ?? Object.values(v)[0];
    return isObject(picked) ? [] : asTexts(picked);
  }
  if (!Array.isArray(v)) return [];
  return v
    .map((item) => (typeof item === 'number' ? String(item) : str(item)))
    .filter((item): item is string => !!item?.trim())
    .slice(0, 12);
}

function asField(v: unknown): PrechatField | null {
  if (!isObject(v) || !str(v.name)) return null;
  const label = v.label;
  const labels = isObject(label)
    ? Object.fromEntries(Object.entries(label).filter(([, l]) => typeof l === 'string'))
    : null;
  return {
    name: v.name as string,
    ...(typeof label === 'string'
      ? { label }
      : labels
        ? { label: labels as Record<string, string> }
        : {}),
    type: v.type === 'email' ? 'email' : 'text',
    required: v.required === true,
  };
}

function asForm(v: unknown): PrechatForm | null {
  if (!isObject(v)) return null;
  const fields = Array.isArray(v.fields)
    ? v.fields.map(asField).filter((f): f is PrechatField => !!f)
    : [];
  return { enabled: v.enabled === true, fields };
}

function asTeam(v: unknown): TeamMember[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter(isObject)
    .map((m) => ({ name: asText(m.name) ?? '', avatar_url: str(m.avatar_url) }))
    .filter((m) => m.name || m.avatar_url)
    .slice(0, 3);
}

/** The public config, or null when it is not one; `language` picks per-language values. */
export function toConfig(v: unknown, language = 'en'): PublicConfig | null {
  if (!isObject(v)) return null;
  const localized = (value: unknown) =>
    isObject(value) ? (value[language] ?? value.en ?? Object.values(value)[0]) : value;
  return {
    name: asText(v.name) ?? '',
    greeting: asText(localized(v.greeting)),
    quick_starts: asTexts(v.quick_starts, language),
    color: str(v.color) ?? '',
    font: str(v.font),
    avatar_url: str(v.avatar_url),
    position: v.position === 'left' ? 'left' : 'right',
    locale: str(v.locale) ?? language,
    prechat_form: asForm(v.prechat_form),
    identity_required: v.identity_required === true,
    team: asTeam(v.team),
    reply_time: asText(localized(v.reply_time)),
    launcher: v.launcher,
    proactive: v.proactive,
  };
}

export function toConversation(v: unknown): Conversation | null {
  if (!isObject(v) || !str(v.id)) return null;
  return { id: v.id as string, status: str(v.status) ?? 'bot' };
}
