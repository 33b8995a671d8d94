-- The widget's optional pre-chat form. The answers are the visitor's own, unverified words, so
-- they stay on the conversation they started instead of updating a contact that an identified
-- visitor owns.
alter table public.conversations
  add column prechat jsonb not null default '{}'::jsonb
    constraint conversations_prechat_object check (jsonb_typeof(prechat) = 'object')
    constraint conversations_prechat_size check (pg_column_size(prechat) < 8192);
