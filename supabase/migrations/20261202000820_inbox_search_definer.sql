-- search_conversations checks who is asking once instead of row by row. Run as the caller, every
-- conversation, contact and message it touched went through its row policies, each a function
-- call (is_member, is_conversation_visitor): on a page of 50 conversations that is the unread
-- counts and previews of every one of them, and most of the time the query took. The function
-- already returns nothing unless the caller is a member of p_tenant_id or a platform admin — the
-- same people those policies let read every conversation, contact and message of the tenant — and
-- it reads only that tenant's rows and the caller's own read markers, so running it as its owner
-- shows nobody anything RLS would not.
alter function public.search_conversations(uuid, text, text, text, integer, timestamptz, uuid, uuid)
  security definer;

comment on function public.search_conversations(uuid, text, text, text, integer, timestamptz, uuid, uuid) is
  'A page of a tenant''s inbox for its members and platform admins (nothing for anyone else): filters, channel, full-text search over messages, per-person unread counts.';
