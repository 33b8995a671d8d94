-- What the admin's WhatsApp page needs beyond the tables: which write-only settings of a
-- connection are set (without reading them), and a template sync on demand.

create or replace function public.whatsapp_connection_settings(p_tenant_id uuid)
returns table (
  connection_id uuid,
  phone_number_id boolean,
  business_account_id boolean,
  access_token boolean,
  app_secret boolean,
  verify_token boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id, c.phone_number_id is not null, c.business_account_id is not null,
         c.access_token is not null, c.app_secret is not null, c.verify_token is not null
    from public.whatsapp_connections c
   where c.tenant_id = p_tenant_id
     and (private.has_tenant_role(c.tenant_id, array['owner', 'admin'])
          or (select private.is_platform_admin()))
   order by c.created_at
$$;
comment on function public.whatsapp_connection_settings(uuid) is
  'For each WhatsApp connection of the tenant, whether each write-only setting is set (never its value). Owners, admins and operators; no rows for anyone else.';
revoke all on function public.whatsapp_connection_settings(uuid) from public, anon;
grant execute on function public.whatsapp_connection_settings(uuid) to authenticated;

create or replace function public.sync_whatsapp_templates(p_connection_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.whatsapp_connections;
begin
  select * into c from public.whatsapp_connections where id = p_connection_id;
  if c.id is null or not private.has_tenant_role(c.tenant_id, array['owner', 'admin']) then
    raise exception 'only the workspace''s owners and admins sync templates' using errcode = '42501';
  end if;
  if c.business_account_id is null then
    raise exception 'the connection has no WhatsApp Business Account id to read templates from'
      using errcode = '22023';
  end if;
  perform private.enqueue_job('whatsapp_templates_sync',
    jsonb_build_object('connection_id', c.id), c.tenant_id, now(),
    'whatsapp_templates:' || c.id, 5, null);
end;
$$;
comment on function public.sync_whatsapp_templates(uuid) is
  'Queues a read of the connection''s templates from its WhatsApp Business Account. Owners and admins only.';
revoke all on function public.sync_whatsapp_templates(uuid) from public, anon;
grant execute on function public.sync_whatsapp_templates(uuid) to authenticated;
