import { SignJWT } from 'jose';
import postgres from 'postgres';
import type { StackProcess } from '../support/stack.ts';

// Test-only tables and functions for the Data API suite, created through the stack's Postgres
// port after it started (so they also prove that NOTIFY pgrst reloads the schema cache).

export const FIXTURE_SQL = `
create table public.authors (id int primary key, name text not null, country text);
create table public.books (
  id int primary key,
  title text not null,
  author_id int references public.authors (id),
  editor_id int references public.authors (id),
  pages int,
  tags text[] not null default '{}',
  meta jsonb,
  published date,
  price numeric,
  summary text,
  span int4range,
  in_print boolean,
  search tsvector generated always as (to_tsvector('english', title)) stored
);
create table public.readers (id int primary key, name text not null);
create table public.book_readers (
  book_id int references public.books (id),
  reader_id int references public.readers (id),
  primary key (book_id, reader_id)
);
create table public.items (
  id bigserial primary key,
  name text unique not null,
  qty int default 1,
  note text default 'none',
  created_at timestamptz not null default now()
);
create table public.notes (
  id serial primary key,
  owner uuid not null default auth.uid(),
  body text not null
);
alter table public.notes enable row level security;
create policy notes_own on public.notes for all to authenticated
  using (owner = auth.uid()) with check (owner = auth.uid());
create view public.author_stats as
  select author_id, count(*)::int as books from public.books group by author_id;
comment on table public.books is 'Books on the shelf';
comment on column public.books.title is 'The title as printed on the cover';

insert into public.authors values (1, 'Ada', 'UK'), (2, 'Borges', 'AR'), (3, 'Cortázar', null),
  (4, 'Dickinson', 'US');
insert into public.books (id, title, author_id, editor_id, pages, tags, meta, published, price, summary, span, in_print) values
  (1, 'The Analytical Engine', 1, 2, 100, '{math,history}', '{"lang":"en","rating":{"stars":5}}',
   '2020-01-01', 10.50, 'about engines and numbers', '[1,10)', true),
  (2, 'Ficciones', 2, null, 200, '{fiction}', '{"lang":"es","rating":{"stars":4}}', '1944-01-01',
   7.25, 'labyrinths and mirrors', '[10,20)', false),
  (3, 'The Aleph', 2, 1, 150, '{fiction,classic}', '{"lang":"es"}', '1949-01-01', 9.00,
   'a point containing all points', '[20,30)', true),
  (4, 'Hopscotch', 3, null, null, '{}', null, null, null, null, null, null);
insert into public.readers values (1, 'Rita'), (2, 'Sam');
insert into public.book_readers values (1, 1), (2, 1), (2, 2);

create function public.add(a int, b int) returns int language sql immutable as $$ select a + b $$;
create function public.books_by(author int) returns setof public.books language sql stable
  as $$ select * from public.books where author_id = author order by id $$;
create function public.echo(jsonb) returns jsonb language sql immutable as $$ select $1 $$;
create function public.numbers(n int) returns setof int language sql immutable
  as $$ select generate_series(1, n) $$;
create function public.touch_item(item_name text) returns void language sql volatile
  as $$ insert into public.items (name) values (item_name) $$;
create function public.raise_it() returns void language plpgsql
  as $$ begin raise exception 'nope' using hint = 'try again'; end $$;
create function public.whoami() returns json language sql stable as $$
  select json_build_object(
    'role', current_user,
    'claims', current_setting('request.jwt.claims', true)::json,
    'method', current_setting('request.method', true),
    'path', current_setting('request.path', true),
    'probe', current_setting('request.headers', true)::json ->> 'x-probe',
    'search_path', current_setting('search_path'),
    'statement_timeout', current_setting('statement_timeout'))
$$;
create function public.secret_fn() returns int language sql as $$ select 42 $$;

grant all on public.authors, public.books, public.readers, public.book_readers, public.items,
  public.notes, public.author_stats to anon, authenticated, service_role;
grant usage on all sequences in schema public to anon, authenticated, service_role;
grant execute on function public.add(int, int), public.books_by(int), public.echo(jsonb),
  public.numbers(int), public.touch_item(text), public.raise_it(), public.whoami()
  to anon, authenticated, service_role;
revoke execute on function public.secret_fn() from public, anon, authenticated;
notify pgrst, 'reload schema';
`;

/** Runs SQL as the database owner through the stack's Postgres port, then lets go of it. */
export async function runSql(stack: StackProcess, text: string): Promise<void> {
  const sql = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(text);
  } finally {
    await sql.end();
  }
}

/** An access token as Auth would issue it, for a user that need not exist. */
export function userToken(stack: StackProcess, sub: string, extra: Record<string, unknown> = {}) {
  return new SignJWT({ role: 'authenticated', aud: 'authenticated', ...extra })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(stack.keys.jwtSecret));
}

/** Polls until the Data API serves the table (the reload is asynchronous). */
export async function waitForTable(stack: StackProcess, table: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${stack.url}/rest/v1/${table}?limit=0`, {
      headers: { apikey: stack.keys.serviceRoleKey },
    });
    await response.arrayBuffer();
    if (response.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the Data API never served ${table}`);
}
