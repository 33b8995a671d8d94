import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { vector } from '@electric-sql/pglite/vector';

// Stand-in for the real migrations: the three PostgREST roles and one RLS-protected table.
const SCHEMA = `
create extension if not exists vector;
create extension if not exists pgcrypto;

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
grant usage on schema public to anon, authenticated, service_role;

-- nullif: once set transaction-locally, the setting reads '' (not NULL) outside transactions
create function request_sub() returns uuid language sql stable as $$
  select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
$$;

create table notes (
  id bigint generated always as identity primary key,
  owner uuid not null default request_sub(),
  body text not null
);
alter table notes enable row level security;
create policy notes_own on notes for all to authenticated
  using (owner = request_sub()) with check (owner = request_sub());
grant select, insert, update, delete on notes to authenticated, service_role;
grant select on notes to anon;
`;

export async function createFixtureDb(): Promise<PGlite> {
  const pg = await PGlite.create({ extensions: { vector, pgcrypto } });
  await pg.exec(SCHEMA);
  return pg;
}
