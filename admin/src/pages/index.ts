import type { ComponentType } from 'preact';
import type { Role } from '../data/tenants.ts';
import type { MessageKey } from '../i18n/index.ts';
import { InboxPage } from './inbox/index.tsx';
import type { PageProps } from './types.ts';

// Every page of the SPA, with the roles that may open it: the navigation shows only these, and
// the router refuses the rest. (RLS is what actually protects the data; this keeps people out of
// screens that would only show them refusals.)

export interface PageDefinition {
  id: string;
  label: MessageKey;
  roles: readonly Role[];
  component: ComponentType<PageProps>;
}

export const PAGES: readonly PageDefinition[] = [
  {
    id: 'inbox',
    label: 'inbox',
    roles: ['owner', 'admin', 'agent', 'platform'],
    component: InboxPage,
  },
];

export const pagesFor = (role: Role | undefined) =>
  PAGES.filter((p) => role !== undefined && p.roles.includes(role));
