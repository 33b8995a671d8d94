-- The launcher's look and the proactive greetings, both in tenants.bot_config, which every
-- visitor's loader reads (through the widget's public config): checked where they are written, like
-- the rest of what the widget renders (20261202000400_render_shapes.sql).
--
-- bot_config.launcher: {icon?: chat|help|mail|heart, label?: text or text per language (≤ 40),
--   offset_x?, offset_y?: 0 to 200 (pixels from the corner)}
-- bot_config.proactive: at most 10 rules {trigger, message, seconds?, pattern?, percent?,
--   times?, every_days?}: trigger is time (seconds on the page), url (pattern, * as a wildcard),
--   scroll (percent of the page), exit (the pointer leaves towards the tabs) or returning (a
--   visitor seen on an earlier day); times and every_days cap how often one visitor sees it.

create or replace function private.valid_launcher(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and not exists (select 1 from jsonb_object_keys(p) as k
                      where k not in ('icon', 'label', 'offset_x', 'offset_y'))
     and coalesce(p ->> 'icon', 'chat') in ('chat', 'help', 'mail', 'heart')
     and coalesce(jsonb_typeof(p -> 'icon'), 'string') = 'string'
     and (p -> 'label' is null or private.is_localized_text(p -> 'label', 40))
     and not exists (
       select 1 from unnest(array['offset_x', 'offset_y']) as o
        where p ? o and (jsonb_typeof(p -> o) <> 'number' or (p ->> o)::numeric not between 0 and 200)
     )
$$;

create or replace function private.valid_proactive(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= 10
     and not exists (
       select 1 from jsonb_array_elements(p) as r
        where jsonb_typeof(r) <> 'object'
           or exists (select 1 from jsonb_object_keys(r) as k
                       where k not in ('trigger', 'message', 'seconds', 'pattern', 'percent',
                                       'times', 'every_days'))
           or coalesce(r ->> 'trigger', '') not in ('time', 'url', 'scroll', 'exit', 'returning')
           or r -> 'message' is null
           or not private.is_localized_text(r -> 'message', 300)
           or (r ->> 'trigger' = 'url' and (jsonb_typeof(r -> 'pattern') is distinct from 'string'
               or length(r ->> 'pattern') not between 1 and 200))
           or exists (
             select 1 from (values ('seconds', 1, 3600), ('percent', 1, 100), ('times', 1, 100),
                                   ('every_days', 1, 365)) as b (name, low, high)
              where r ? b.name and (jsonb_typeof(r -> b.name) <> 'number'
                    or (r ->> b.name)::numeric not between b.low and b.high)
           )
     )
$$;

comment on function private.valid_launcher(jsonb) is
  'bot_config.launcher: icon from a fixed set, a label of at most 40 characters (or one per language), offsets of 0 to 200 pixels.';
comment on function private.valid_proactive(jsonb) is
  'bot_config.proactive: at most 10 greeting rules (time, url, scroll, exit or returning) with their message and frequency cap.';

grant execute on function private.valid_launcher(jsonb), private.valid_proactive(jsonb)
  to authenticated, service_role;

alter table public.tenants
  add constraint tenants_launcher_shape check (
    bot_config -> 'launcher' is null or jsonb_typeof(bot_config -> 'launcher') = 'null'
    or private.valid_launcher(bot_config -> 'launcher')) not valid,
  add constraint tenants_proactive_shape check (
    bot_config -> 'proactive' is null or jsonb_typeof(bot_config -> 'proactive') = 'null'
    or private.valid_proactive(bot_config -> 'proactive')) not valid;

comment on constraint tenants_launcher_shape on public.tenants is
  'The launcher options in the shape the loader applies.';
comment on constraint tenants_proactive_shape on public.tenants is
  'Proactive greeting rules in the shape the loader evaluates.';
