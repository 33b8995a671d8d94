-- URLs Parley calls on a tenant's behalf (tool webhooks, the n8n relay, an LLM base URL, event
-- webhooks) are checked where they are saved, so a tenant learns at once, with a 400 from the Data
-- API, that a URL will never be called. The functions check again at call time, resolving the host
-- (functions/_shared/net/outbound.ts): a name can point anywhere later, the database cannot
-- resolve names, and whether loopback may be called is a setting of the platform the functions run
-- on. What the database can refuse for good is refused here: other schemes, credentials in the URL,
-- IP addresses spelled in the forms only parsers understand (127.1, 0x7f000001, 2130706433),
-- addresses outside the public unicast space, and names that are internal by definition.

create or replace function private.outbound_url_problem(p_url text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  authority text;
  host text;
  address inet;
begin
  if p_url is null or btrim(p_url) = '' then
    return null;
  end if;
  if length(p_url) > 2048 then
    return 'the URL is longer than 2048 characters';
  end if;
  -- Parsers disagree about these; a URL that means one thing to every parser has none of them.
  if p_url ~ '[[:space:][:cntrl:]]' or position(E'\\' in p_url) > 0 then
    return 'the URL contains spaces, control characters or backslashes';
  end if;
  if p_url !~* '^https?://' then
    return 'only http and https URLs are called';
  end if;
  authority := substring(p_url from '^[A-Za-z]+://([^/?#]*)');
  if position('@' in authority) > 0 then
    return 'user names and passwords do not belong in the URL';
  end if;

  if authority like '[%' then
    host := substring(authority from '^\[([0-9A-Fa-f:.]+)\](:[0-9]{0,5})?$');
    if host is null then
      return 'the host is not a valid IPv6 address';
    end if;
    begin
      address := host::inet;
    exception when others then
      return 'the host is not a valid IPv6 address';
    end;
  else
    host := rtrim(lower(substring(authority from '^([^:]*)(:[0-9]{0,5})?$')), '.');
    if host is null then
      return 'the port is not a number';
    end if;
    if host = '' then
      return 'the URL has no host';
    end if;
    if position('%' in host) > 0 then
      return 'the host name is percent-encoded';
    end if;
    -- A host whose last label is a number is an IPv4 address to every URL parser, however it is
    -- spelled; only the plain four-number form is accepted, so what is saved is what is called.
    if substring(host from '([^.]*)$') ~ '^(0x[0-9a-f]*|[0-9]+)$' then
      if host !~ '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$' then
        return 'write an IP address as four decimal numbers';
      end if;
      address := host::inet;
    elsif host = 'localhost' or host like '%.localhost' then
      -- Loopback: allowed or refused at call time, by the platform's setting.
      return null;
    elsif position('.' in host) = 0 then
      return 'a host name without a domain is an internal name';
    elsif host ~ '\.(internal|local|localdomain|lan|home\.arpa)$' then
      return 'the host name is internal';
    else
      return null;
    end if;
  end if;

  if address <<= '127.0.0.0/8'::inet or address = '::1'::inet then
    return null;
  end if;
  if address <<= any (array[
    '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12',
    '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
    '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
    '::/96', '::ffff:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23',
    '2001:db8::/32', '2002::/16', '3fff::/20', '5f00::/16', 'fc00::/7', 'fe80::/10', 'fec0::/10',
    'ff00::/8'
  ]::inet[]) then
    return 'the address is not a public one';
  end if;
  return null;
end;
$$;

comment on function private.outbound_url_problem(text) is
  'Why Parley would never call this URL on a tenant''s behalf, or null when it may (subject to the call-time check of the resolved address).';

grant execute on function private.outbound_url_problem(text) to authenticated, service_role;

-- NOT VALID: rows saved before this check are not rewritten by a migration; the call-time guard
-- refuses them anyway, and the next edit of such a row has to fix its URL.
alter table public.tenant_tools
  add constraint tenant_tools_webhook_url_callable
  check (private.outbound_url_problem(webhook_url) is null) not valid;
alter table public.tenants
  add constraint tenants_n8n_webhook_url_callable
  check (private.outbound_url_problem(n8n_webhook_url) is null) not valid;
alter table public.tenants
  add constraint tenants_llm_base_url_callable
  check (private.outbound_url_problem(llm_config ->> 'base_url') is null) not valid;
alter table public.webhook_endpoints
  add constraint webhook_endpoints_url_callable
  check (private.outbound_url_problem(url) is null) not valid;

comment on constraint tenant_tools_webhook_url_callable on public.tenant_tools is
  'http(s), no credentials, and not an address or name Parley refuses to call (private.outbound_url_problem).';
comment on constraint tenants_n8n_webhook_url_callable on public.tenants is
  'http(s), no credentials, and not an address or name Parley refuses to call (private.outbound_url_problem).';
comment on constraint tenants_llm_base_url_callable on public.tenants is
  'llm_config.base_url: http(s), no credentials, and not an address or name Parley refuses to call.';
comment on constraint webhook_endpoints_url_callable on public.webhook_endpoints is
  'http(s), no credentials, and not an address or name Parley refuses to call (private.outbound_url_problem).';
