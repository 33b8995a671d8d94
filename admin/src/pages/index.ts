import type { ComponentType } from 'preact';
import type { Role } from '../data/tenants.ts';
import type { MessageKey } from '../i18n/index.ts';
import { InboxPage } from './inbox/index.tsx';
import type { PageProps } from './types.ts';

// Every page of the SPA, with the roles that may open it: the navigation shows only these, and
// the router refuses the rest. (RLS is what actually protects the data; this keeps people out of
// screens that would only show them refusals.)
//
// The inbox is in the main bundle (it is where staff land); every other page is a lazy chunk,
// loaded the first time it is opened, so the bundle grows by page and not all at once.

export type PageModule = { default: ComponentType<PageProps> };

export interface PageDefinition {
  id: string;
  label: MessageKey;
  roles: readonly Role[];
  /** Shown in the navigation; a page reached only by link (onboarding) leaves it out. */
  nav?: boolean;
  component?: ComponentType<PageProps>;
  load?: () => Promise<PageModule>;
}

const STAFF: readonly Role[] = ['owner', 'admin', 'agent', 'platform'];
/** Settings, knowledge, tools, billing: an agent has no business there, and RLS agrees. */
export const MANAGERS: readonly Role[] = ['owner', 'admin', 'platform'];

export const PAGES: readonly PageDefinition[] = [
  { id: 'inbox', label: 'inbox', roles: STAFF, component: InboxPage },
  {
    id: 'onboarding',
    label: 'onboarding',
    // The workspace's own first steps: operators, who only look, have none to take.
    roles: ['owner', 'admin'],
    nav: false,
    load: () => import('./onboarding/index.tsx'),
  },
  {
    id: 'settings',
    label: 'settings',
    roles: MANAGERS,
    load: () => import('./settings/index.tsx'),
  },
  {
    id: 'knowledge',
    label: 'knowledge',
    roles: MANAGERS,
    load: () => import('./knowledge/index.tsx'),
  },
  { id: 'tools', label: 'tools', roles: MANAGERS, load: () => import('./tools/index.tsx') },
  {
    id: 'whatsapp',
    label: 'whatsapp',
    roles: MANAGERS,
    load: () => import('./whatsapp/index.tsx'),
  },
  {
    id: 'playground',
    label: 'playground',
    // A playground conversation spends the tenant's quota: operators look, they do not chat.
    roles: ['owner', 'admin'],
    load: () => import('./playground/index.tsx'),
  },
  {
    id: 'analytics',
    label: 'analytics',
    roles: MANAGERS,
    load: () => import('./analytics/index.tsx'),
  },
  { id: 'billing', label: 'billing', roles: MANAGERS, load: () => import('./billing/index.tsx') },
  { id: 'team', label: 'team', roles: MANAGERS, load: () => import('./team/index.tsx') },
  {
    id: 'platform',
    label: 'platform',
    roles: ['platform'],
    load: () => import('./platform/index.tsx'),
  },
  // Where an accepted invitation lands; reached by that only.
  {
    id: 'welcome',
    label: 'team',
    roles: STAFF,
    nav: false,
    load: () => import('./welcome/index.tsx'),
  },
];

export const pagesFor = (role: Role | undefined) =>
  PAGES.filter((p) => role !== undefined && p.roles.includes(role));
