import { session } from '../data/session.ts';
import { type Member, team } from '../data/tenants.ts';
import { t } from '../i18n/index.ts';

/** What to call a member of the team: the name the tenant shows, else a short stand-in. */
export function memberName(
  userId: string | null | undefined,
  members: Member[] = team.value,
): string {
  if (!userId) return t('unassigned');
  const member = members.find((m) => m.user_id === userId);
  const name =
    member?.display_name ||
    (userId === session.value?.user.id ? session.value?.user.email : null) ||
    `${t('roleStaff')} ${userId.slice(0, 6)}`;
  return userId === session.value?.user.id ? t('me', { name }) : name;
}

/** What to call the visitor of a conversation. */
export function visitorName(c: {
  id: string;
  contact_name?: string | null;
  contact_email?: string | null;
}): string {
  return c.contact_name || c.contact_email || t('anonymousVisitor', { id: c.id.slice(0, 6) });
}
