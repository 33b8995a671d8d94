-- The tenant's own reasons to hand a conversation to a person before the bot answers
-- (docs/admin.md, "Handoff triggers"): keywords per language, a retrieval confidence floor, and
-- the visitor asking the same thing twice. Read by the reply job; owners and admins set them.

create or replace function private.valid_handoff_rules(p jsonb) returns boolean
language sql
immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and (select coalesce(bool_and(k in ('keywords', 'low_confidence', 'repeated_question')), true)
            from jsonb_object_keys(p) k)
     and (p -> 'keywords' is null or jsonb_typeof(p -> 'keywords') = 'null'
          or private.is_localized_list(p -> 'keywords', 50, 100))
     and (p -> 'low_confidence' is null or jsonb_typeof(p -> 'low_confidence') = 'null'
          or (jsonb_typeof(p -> 'low_confidence') = 'number'
              and (p ->> 'low_confidence')::numeric between 0 and 1))
     and coalesce(jsonb_typeof(p -> 'repeated_question'), 'boolean') in ('boolean', 'null')
$$;

comment on function private.valid_handoff_rules(jsonb) is
  'tenants.handoff_rules: {keywords?: list or {lang: list}, low_confidence?: 0..1, repeated_question?: boolean}.';

alter table public.tenants
  add column handoff_rules jsonb not null default '{}'::jsonb
    check (private.valid_handoff_rules(handoff_rules));

comment on column public.tenants.handoff_rules is
  'When the bot hands over before answering: {"keywords": {"en": ["refund"], "*": ["GDPR"]}, "low_confidence": 0.3, "repeated_question": true}.';

grant select (handoff_rules) on public.tenants to anon, authenticated;
grant update (handoff_rules) on public.tenants to authenticated;

-- Evaluated in the tenants check constraint, so whoever may update tenants runs it.
revoke execute on function private.valid_handoff_rules(jsonb) from public, anon;
grant execute on function private.valid_handoff_rules(jsonb) to authenticated, service_role;
