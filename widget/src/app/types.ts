export type Role = 'user' | 'assistant' | 'agent' | 'system';

export interface Source {
  title?: string;
  url?: string | null;
}

export interface Message {
  id?: string;
  client_msg_id?: string | null;
  role: Role;
  content: string;
  quick_replies?: string[] | null;
  sources?: Source[] | null;
  /** Files sent with the message, checked by the chunk that shows them (ui/attach.ts). */
  attachments?: unknown;
  /** Buttons and cards, checked by the chunk that renders them (ui/rich.ts). */
  rich?: unknown;
  status?: string | null;
  author?: { name?: string | null; avatar_url?: string | null } | null;
  feedback?: number | string | null;
  created_at: string;
  updated_at?: string;
  /** Only on the visitor's own messages before the server has them. */
  local?: 'sending' | 'failed';
  error?: string;
}

export interface PublicConfig {
  name: string;
  greeting: string | null;
  quick_starts: string[];
  color: string;
  font: string | null;
  avatar_url: string | null;
  position: 'left' | 'right';
  locale: string;
  prechat_form: PrechatForm | null;
  identity_required?: boolean;
  /** Who answers, when the tenant shows its team. */
  team?: TeamMember[];
  /** The tenant's own words, e.g. "Usually replies in a few minutes". */
  reply_time?: string | null;
  /** For the loader, unchecked here: it applies them (launcher.ts, proactive). */
  launcher?: unknown;
  proactive?: unknown;
}

export interface TeamMember {
  name: string;
  avatar_url: string | null;
}

export interface PrechatField {
  name: string;
  /** The tenant's own words: one string, or one per language. */
  label?: string | Record<string, string>;
  type?: 'text' | 'email';
  required?: boolean;
}

export interface PrechatForm {
  enabled?: boolean;
  fields?: PrechatField[];
}

export interface Prechat {
  name?: string;
  email?: string;
  fields?: Record<string, string>;
}

export interface Conversation {
  id: string;
  status: string;
}
