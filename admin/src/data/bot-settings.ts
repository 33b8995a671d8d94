import { must, supabase } from './client.ts';

// A tenant's bot settings as the settings and onboarding pages edit them. Everything but the
// secrets is read and written through the Data API under RLS (owners and admins update the
// tenants row; the database checks each rule and says which one broke); secrets go through the
// SQL functions that set or rotate them and never return one twice.

export type Engine = 'ai' | 'n8n' | 'human';
export type Tone = 'friendly' | 'professional' | 'concise' | 'playful';
export const TONES: readonly Tone[] = ['friendly', 'professional', 'concise', 'playful'];

export interface PrechatField {
  name: string;
  label?: string | Record<string, string>;
  type?: 'text' | 'email';
  required?: boolean;
}

export interface BotConfig {
  name?: string;
  system_prompt?: string;
  guardrails?: string[];
  tone?: Tone;
  locale?: string;
  greeting?: string | Record<string, string>;
  quick_starts?: string[] | Record<string, string[]>;
  color?: string;
  position?: 'left' | 'right';
  avatar_url?: string | null;
  prechat_form?: { enabled?: boolean; fields?: PrechatField[] } | null;
  [other: string]: unknown;
}

export interface LlmConfig {
  provider?: 'openai' | 'anthropic';
  model?: string;
  base_url?: string;
  temperature?: number;
  [other: string]: unknown;
}

export interface BotSettings {
  id: string;
  name: string;
  widget_key: string;
  allowed_origins: string[];
  bot_engine: Engine;
  bot_config: BotConfig;
  enforce_identity: boolean;
  n8n_callback_timeout_seconds: number;
  llm_config: LlmConfig;
  n8n_webhook_url: string | null;
}

export interface SecretsStatus {
  llm_api_key_set: boolean;
  n8n_previous_expires_at: string | null;
  updated_at: string | null;
}

const TENANT_COLUMNS =
  'id, name, widget_key, allowed_origins, bot_engine, bot_config, enforce_identity, n8n_callback_timeout_seconds';

export async function loadBotSettings(tenantId: string): Promise<BotSettings> {
  const db = supabase();
  const [tenant, connection] = await Promise.all([
    db.from('tenants').select(TENANT_COLUMNS).eq('id', tenantId).single(),
    db
      .from('tenant_connections')
      .select('llm_config, n8n_webhook_url')
      .eq('tenant_id', tenantId)
      .maybeSingle(),
  ]);
  const row = must(tenant) as unknown as Omit<BotSettings, 'llm_config' | 'n8n_webhook_url'>;
  const conn = must(connection) as { llm_config: LlmConfig; n8n_webhook_url: string | null };
  return {
    ...row,
    bot_config: row.bot_config ?? {},
    llm_config: conn?.llm_config ?? {},
    n8n_webhook_url: conn?.n8n_webhook_url ?? null,
  };
}

export type TenantPatch = Partial<
  Pick<
    BotSettings,
    | 'name'
    | 'allowed_origins'
    | 'bot_engine'
    | 'bot_config'
    | 'enforce_identity'
    | 'n8n_callback_timeout_seconds'
    | 'llm_config'
    | 'n8n_webhook_url'
  >
>;

/** Writes columns of the tenant row. */
export async function saveTenant(tenantId: string, patch: TenantPatch): Promise<void> {
  // Counted, not returned: some of the row's columns are not the caller's to read back.
  const result = await supabase()
    .from('tenants')
    .update(patch, { count: 'exact' })
    .eq('id', tenantId);
  if (result.error) throw result.error;
  // RLS filters a refused update to no rows rather than an error: say so instead of "saved".
  if (result.count === 0) {
    throw new Error('Only the workspace’s owners and admins may change its settings.');
  }
}

export async function secretsStatus(tenantId: string): Promise<SecretsStatus | null> {
  const rows = must(await supabase().rpc('bot_secrets_status', { p_tenant_id: tenantId }));
  return ((rows as SecretsStatus[])[0] ?? null) as SecretsStatus | null;
}

export async function setLlmApiKey(tenantId: string, key: string | null): Promise<boolean> {
  return must(
    await supabase().rpc('set_llm_api_key', { p_tenant_id: tenantId, p_api_key: key }),
  ) as unknown as boolean;
}

type Rotation = 'rotate_identity_secret' | 'rotate_n8n_secret' | 'rotate_widget_key';

/** A new secret or key, returned this once. */
export async function rotate(tenantId: string, which: Rotation): Promise<string> {
  return must(await supabase().rpc(which, { p_tenant_id: tenantId })) as unknown as string;
}

export interface WidgetLoad {
  origin: string;
  allowed: boolean;
  first_seen_at: string;
  last_seen_at: string;
}

export async function widgetLoads(tenantId: string): Promise<WidgetLoad[]> {
  return must(
    await supabase()
      .from('widget_loads')
      .select('origin, allowed, first_seen_at, last_seen_at')
      .eq('tenant_id', tenantId)
      .order('last_seen_at', { ascending: false })
      .limit(20),
  ) as WidgetLoad[];
}

const escapeAttribute = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

/** The tag a tenant pastes into its site: the widget served beside the project, with its key. */
export function embedSnippet(widgetKey: string): string {
  const { url, key } = supabase();
  return `<script src="${escapeAttribute(`${url}/widget/widget.js`)}" data-key="${escapeAttribute(widgetKey)}" data-supabase-url="${escapeAttribute(url)}" data-supabase-key="${escapeAttribute(key)}" async></script>`;
}

/** The origin of a website address, as allowed_origins holds it; null when it is not one. */
export function originOf(address: string): string | null {
  try {
    const url = new URL(
      /^[a-z]+:\/\//i.test(address.trim()) ? address.trim() : `https://${address.trim()}`,
    );
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** Allowed origins typed one per line; a trailing slash (as copied from an address bar) dropped. */
export const originLines = (text: string) => lines(text).map((o) => o.replace(/\/+$/, ''));

/** One entry per line, blanks dropped. */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
