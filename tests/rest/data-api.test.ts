import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type StackProcess, startStack } from '../support/stack.ts';
import { FIXTURE_SQL, runSql, userToken, waitForTable } from './fixtures.ts';

// The Data API stand-in driven by supabase-js, one row per call: what the client sends and what
// PostgREST's documentation says comes back (data, count, status, error code). The fixture
// tables are created over the Postgres port after start-up and announced with NOTIFY pgrst.

let stack: StackProcess;
let service: SupabaseClient;
let anon: SupabaseClient;
let alice: SupabaseClient;
let bob: SupabaseClient;
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

function client(key: string, token?: string): SupabaseClient {
  return createClient(stack.url, key, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
    ...(token ? { global: { headers: { Authorization: `Bearer ${token}` } } } : {}),
  });
}

beforeAll(async () => {
  stack = await startStack();
  await runSql(stack, FIXTURE_SQL);
  await waitForTable(stack, 'notes');
  service = client(stack.keys.serviceRoleKey);
  anon = client(stack.keys.anonKey);
  alice = client(stack.keys.anonKey, await userToken(stack, ALICE));
  bob = client(stack.keys.anonKey, await userToken(stack, BOB));
});

afterAll(async () => {
  await stack?.stop();
});

interface Outcome {
  data: unknown;
  error: { code?: string; message?: string; details?: unknown; hint?: unknown } | null;
  count: number | null;
  status: number;
}

interface Case {
  name: string;
  call: () => PromiseLike<Outcome>;
  data?: unknown;
  /** Compared with toMatchObject. */
  error?: Record<string, unknown>;
  count?: number | null;
  status?: number;
  check?: (outcome: Outcome) => void;
}

function runCases(cases: Case[]) {
  for (const c of cases) {
    it(c.name, async () => {
      const outcome = (await c.call()) as Outcome;
      if (c.error) expect(outcome.error).toMatchObject(c.error);
      else expect(outcome.error).toBeNull();
      if ('data' in c) expect(outcome.data).toEqual(c.data);
      if ('count' in c) expect(outcome.count).toBe(c.count);
      if (c.status !== undefined) expect(outcome.status).toBe(c.status);
      c.check?.(outcome);
    });
  }
}

const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
const books = () => service.from('books').select('id').order('id');

describe('select', () => {
  runCases([
    {
      name: 'all columns',
      call: () => service.from('authors').select('*').order('id'),
      data: [
        { id: 1, name: 'Ada', country: 'UK' },
        { id: 2, name: 'Borges', country: 'AR' },
        { id: 3, name: 'Cortázar', country: null },
        { id: 4, name: 'Dickinson', country: 'US' },
      ],
      status: 200,
    },
    {
      name: 'column list with an alias and a cast',
      call: () => service.from('books').select('id, heading:title, pages::text').eq('id', 1),
      data: [{ id: 1, heading: 'The Analytical Engine', pages: '100' }],
    },
    {
      name: 'JSON paths are named after their last key',
      call: () => service.from('books').select('id, meta->lang, meta->rating->>stars').eq('id', 1),
      data: [{ id: 1, lang: 'en', stars: '5' }],
    },
    {
      name: 'an alias on a JSON path',
      call: () => service.from('books').select('id, language:meta->>lang').eq('id', 2),
      data: [{ id: 2, language: 'es' }],
    },
    {
      name: 'numeric, date and array columns keep their JSON types',
      call: () => service.from('books').select('price, published, tags').eq('id', 2),
      data: [{ price: 7.25, published: '1944-01-01', tags: ['fiction'] }],
    },
    {
      name: 'an unknown column is a 400 naming it',
      call: () => service.from('books').select('id, nope'),
      error: { code: '42703' },
      status: 400,
    },
    {
      name: 'an unknown table is 404 PGRST205',
      call: () => service.from('shelves').select('*'),
      error: {
        code: 'PGRST205',
        message: "Could not find the table 'public.shelves' in the schema cache",
      },
      status: 404,
    },
  ]);
});

describe('embedding', () => {
  runCases([
    {
      name: 'two foreign keys to the same table are ambiguous: 300 PGRST201',
      call: () => service.from('books').select('id, authors(name)'),
      error: { code: 'PGRST201' },
      status: 300,
      check: ({ error }) => expect(Array.isArray(error?.details)).toBe(true),
    },
    {
      name: 'many-to-one by a column hint is an object',
      call: () =>
        service.from('books').select('id, author:authors!author_id(name)').order('id').limit(2),
      data: [
        { id: 1, author: { name: 'Ada' } },
        { id: 2, author: { name: 'Borges' } },
      ],
    },
    {
      name: 'many-to-one by a constraint hint, null when the key is null',
      call: () =>
        service.from('books').select('id, editor:authors!books_editor_id_fkey(name)').order('id'),
      data: [
        { id: 1, editor: { name: 'Borges' } },
        { id: 2, editor: null },
        { id: 3, editor: { name: 'Ada' } },
        { id: 4, editor: null },
      ],
    },
    {
      name: 'one-to-many is an array, ordered and limited inside the embed',
      call: () =>
        service
          .from('authors')
          .select('id, books!author_id(id)')
          .eq('id', 2)
          .order('id', { referencedTable: 'books', ascending: false })
          .limit(1, { referencedTable: 'books' }),
      data: [{ id: 2, books: [{ id: 3 }] }],
    },
    {
      name: 'a filter on the embed narrows the embed, not the parents',
      call: () =>
        service.from('authors').select('id, books!author_id(id)').eq('books.id', 1).order('id'),
      data: [
        { id: 1, books: [{ id: 1 }] },
        { id: 2, books: [] },
        { id: 3, books: [] },
        { id: 4, books: [] },
      ],
    },
    {
      name: '!inner drops the parents whose embed is empty',
      call: () =>
        service
          .from('authors')
          .select('name, books!author_id!inner(title)')
          .eq('books.title', 'Ficciones'),
      data: [{ name: 'Borges', books: [{ title: 'Ficciones' }] }],
    },
    {
      name: 'count with !inner counts the parents that are left',
      call: () =>
        service
          .from('authors')
          .select('id, books!author_id!inner(id)', { count: 'exact', head: true })
          .gt('books.pages', 120),
      count: 1,
    },
    {
      name: 'or inside an embed',
      call: () =>
        service
          .from('authors')
          .select('id, books!author_id(id)')
          .eq('id', 2)
          .or('id.eq.2,id.eq.4', { referencedTable: 'books' }),
      data: [{ id: 2, books: [{ id: 2 }] }],
    },
    {
      name: 'embed=is.null is an anti-join',
      call: () => service.from('authors').select('id, books!author_id(id)').is('books', null),
      data: [{ id: 4, books: [] }],
    },
    {
      name: 'embed=not.is.null keeps parents with a match',
      call: () =>
        service
          .from('authors')
          .select('id, books!author_id(id)')
          .not('books', 'is', null)
          .order('id'),
      check: ({ data }) => expect(ids(data as { id: number }[])).toEqual([1, 2, 3]),
    },
    {
      name: 'many-to-many through a junction table',
      call: () =>
        service
          .from('books')
          .select('id, readers(name)')
          .eq('id', 2)
          .order('name', { referencedTable: 'readers' }),
      data: [{ id: 2, readers: [{ name: 'Rita' }, { name: 'Sam' }] }],
    },
    {
      name: 'nested embeds',
      call: () =>
        service
          .from('readers')
          .select('name, books(title, author:authors!author_id(name))')
          .eq('id', 2),
      data: [{ name: 'Sam', books: [{ title: 'Ficciones', author: { name: 'Borges' } }] }],
    },
    {
      name: 'a to-one spread puts the related columns beside the parent’s',
      call: () =>
        service
          .from('books')
          .select('id, ...authors!author_id(author:name, country)')
          .in('id', [2, 4])
          .order('id'),
      data: [
        { id: 2, author: 'Borges', country: 'AR' },
        { id: 4, author: 'Cortázar', country: null },
      ],
    },
    {
      name: 'a to-many spread is 400 PGRST119',
      call: () => service.from('authors').select('id, ...books!author_id(title)'),
      error: { code: 'PGRST119' },
      status: 400,
    },
    {
      name: 'rel(count) counts the related rows',
      call: () =>
        service.from('authors').select('id, books!author_id(count)').lte('id', 4).order('id'),
      data: [
        { id: 1, books: [{ count: 1 }] },
        { id: 2, books: [{ count: 2 }] },
        { id: 3, books: [{ count: 1 }] },
        { id: 4, books: [{ count: 0 }] },
      ],
    },
    {
      name: 'no relationship is 400 PGRST200',
      call: () => service.from('readers').select('id, items(id)'),
      error: { code: 'PGRST200' },
      status: 400,
    },
    {
      name: 'filtering an embed that is not selected is 400 PGRST108',
      call: () => service.from('authors').select('id').eq('books.id', 1),
      error: { code: 'PGRST108' },
      status: 400,
    },
  ]);
});

describe('filters', () => {
  const filters: [string, () => PromiseLike<Outcome>, number[]][] = [
    ['eq', () => books().eq('pages', 100), [1]],
    ['neq', () => books().neq('pages', 100), [2, 3]],
    ['gt', () => books().gt('pages', 100), [2, 3]],
    ['gte', () => books().gte('pages', 150), [2, 3]],
    ['lt', () => books().lt('pages', 150), [1]],
    ['lte', () => books().lte('pages', 150), [1, 3]],
    ['like with *', () => books().like('title', '*Aleph'), [3]],
    ['like with %', () => books().like('title', 'The%'), [1, 3]],
    ['ilike', () => books().ilike('title', '%the %'), [1, 3]],
    ['match', () => books().match({ id: 1, pages: 100 }), [1]],
    ['match (regex)', () => books().filter('title', 'match', '^The'), [1, 3]],
    ['imatch', () => books().filter('title', 'imatch', '^the'), [1, 3]],
    ['is null', () => books().is('pages', null), [4]],
    ['not is null', () => books().not('pages', 'is', null), [1, 2, 3]],
    ['is true', () => books().is('in_print', true), [1, 3]],
    ['is false', () => books().is('in_print', false), [2]],
    ['is unknown', () => books().filter('in_print', 'is', 'unknown'), [4]],
    ['not is true', () => books().not('in_print', 'is', true), [2, 4]],
    ['eq true', () => books().eq('in_print', true), [1, 3]],
    ['eq false', () => books().eq('in_print', false), [2]],
    ['neq true', () => books().neq('in_print', true), [2]],
    ['in booleans', () => books().in('in_print', [false]), [2]],
    ['in', () => books().in('id', [1, 3]), [1, 3]],
    ['in with quoted values', () => books().in('title', ['Ficciones', 'a,b']), [2]],
    ['not in', () => books().not('id', 'in', '(1,2)'), [3, 4]],
    ['cs on arrays', () => books().contains('tags', ['fiction']), [2, 3]],
    ['cd on arrays', () => books().containedBy('tags', ['fiction', 'classic']), [2, 3, 4]],
    ['ov on arrays', () => books().overlaps('tags', ['math', 'classic']), [1, 3]],
    ['cs on jsonb', () => books().contains('meta', { lang: 'es' }), [2, 3]],
    ['JSON path filter', () => books().eq('meta->>lang', 'es'), [2, 3]],
    ['sl', () => books().rangeLt('span', '[15,16)'), [1]],
    ['sr', () => books().rangeGt('span', '[15,16)'), [3]],
    ['nxr', () => books().rangeLte('span', '[15,16)'), [1]],
    ['nxl', () => books().rangeGte('span', '[15,16)'), [3]],
    ['adj', () => books().rangeAdjacent('span', '[30,40)'), [3]],
    ['ov on ranges', () => books().overlaps('span', '[5,15)'), [1, 2]],
    ['fts on a tsvector', () => books().textSearch('search', 'engine'), [1]],
    [
      'fts with a config',
      () => books().textSearch('summary', 'labyrinths', { config: 'english' }),
      [2],
    ],
    [
      'plfts',
      () =>
        books().textSearch('summary', 'points containing', { type: 'plain', config: 'english' }),
      [3],
    ],
    [
      'phfts',
      () =>
        books().textSearch('summary', 'engines and numbers', { type: 'phrase', config: 'english' }),
      [1],
    ],
    [
      'wfts',
      () =>
        books().textSearch('summary', '"labyrinths" -engines', {
          type: 'websearch',
          config: 'english',
        }),
      [2],
    ],
    ['like(any)', () => books().filter('title', 'like(any)', '{*Aleph,*Engine}'), [1, 3]],
    ['or', () => books().or('id.eq.1,pages.gt.180'), [1, 2]],
    ['or with nested and', () => books().or('id.eq.4,and(pages.gt.100,pages.lt.200)'), [3, 4]],
    [
      'or with not and quoted values',
      () => books().or('id.not.gte.3,title.eq."The Aleph"'),
      [1, 2, 3],
    ],
    ['isdistinct', () => books().filter('pages', 'isdistinct', '100'), [2, 3, 4]],
  ];
  for (const [name, call, expected] of filters) {
    it(name, async () => {
      const { data, error } = (await call()) as Outcome;
      expect(error).toBeNull();
      expect(ids(data as { id: number }[])).toEqual(expected);
    });
  }

  it('and=(…) and not.or=(…) as PostgREST reads them', async () => {
    const get = async (query: string) => {
      const response = await fetch(`${stack.url}/rest/v1/books?select=id&order=id&${query}`, {
        headers: { apikey: stack.keys.serviceRoleKey },
      });
      return ids((await response.json()) as { id: number }[]);
    };
    expect(await get('and=(pages.gte.100,pages.lte.150)')).toEqual([1, 3]);
    expect(await get('not.or=(id.eq.1,id.eq.2)')).toEqual([3, 4]);
    expect(await get('not.and=(id.gte.2,id.lte.3)')).toEqual([1, 4]);
  });

  it('a top-level value is literal: commas and quotes included', async () => {
    const { data } = await service.from('books').select('id').eq('title', 'a,"b"');
    expect(data).toEqual([]);
  });
});

describe('order, ranges and counts', () => {
  runCases([
    {
      name: 'desc nulls first',
      call: () =>
        service.from('books').select('id').order('pages', { ascending: false, nullsFirst: true }),
      data: [{ id: 4 }, { id: 2 }, { id: 3 }, { id: 1 }],
    },
    {
      name: 'asc nulls last, then a second key',
      call: () =>
        service
          .from('books')
          .select('id')
          .order('author_id', { ascending: true, nullsFirst: false })
          .order('id', { ascending: false }),
      data: [{ id: 1 }, { id: 3 }, { id: 2 }, { id: 4 }],
    },
    {
      name: 'order by a column of an embedded to-one resource',
      call: () =>
        service
          .from('books')
          .select('id, author:authors!author_id(name)')
          .lte('id', 4)
          .order('author(name)', { ascending: false })
          .order('id'),
      data: [
        { id: 4, author: { name: 'Cortázar' } },
        { id: 2, author: { name: 'Borges' } },
        { id: 3, author: { name: 'Borges' } },
        { id: 1, author: { name: 'Ada' } },
      ],
    },
    {
      name: 'ordering by a to-many embed is 400 PGRST118',
      call: () => service.from('authors').select('id, books!author_id(id)').order('books(id)'),
      error: { code: 'PGRST118' },
      status: 400,
    },
    {
      name: 'range with an exact count is 206 Partial Content',
      call: () => service.from('books').select('id', { count: 'exact' }).order('id').range(1, 2),
      data: [{ id: 2 }, { id: 3 }],
      count: 4,
      status: 206,
    },
    {
      name: 'the whole set with a count is 200',
      call: () => service.from('authors').select('id', { count: 'exact' }),
      count: 4,
      status: 200,
    },
    {
      name: 'limit without a count',
      call: () => service.from('books').select('id').order('id').limit(2),
      data: [{ id: 1 }, { id: 2 }],
      count: null,
      status: 200,
    },
    {
      name: 'head with an exact count has no body',
      call: () =>
        service.from('books').select('*', { count: 'exact', head: true }).gt('pages', 100),
      data: null,
      count: 2,
      status: 200,
    },
    {
      name: 'planned count',
      call: () => service.from('books').select('id', { count: 'planned', head: true }),
      check: ({ count }) => expect(typeof count).toBe('number'),
    },
    {
      name: 'estimated count below max_rows is exact',
      call: () => service.from('books').select('id', { count: 'estimated', head: true }),
      count: 4,
    },
    {
      name: 'an offset past the end is 416 PGRST103',
      call: () => service.from('books').select('id', { count: 'exact' }).range(10, 12),
      error: { code: 'PGRST103' },
      status: 416,
    },
  ]);

  it('Range header and Content-Range', async () => {
    const response = await fetch(`${stack.url}/rest/v1/books?select=id&order=id`, {
      headers: {
        apikey: stack.keys.serviceRoleKey,
        Range: '1-2',
        'Range-Unit': 'items',
        Prefer: 'count=exact',
      },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('1-2/4');
    expect(await response.json()).toEqual([{ id: 2 }, { id: 3 }]);
  });

  it('an empty result is */0 with a count, */* without', async () => {
    const headers = { apikey: stack.keys.serviceRoleKey };
    const counted = await fetch(`${stack.url}/rest/v1/books?id=eq.99`, {
      headers: { ...headers, Prefer: 'count=exact' },
    });
    expect(counted.headers.get('content-range')).toBe('*/0');
    await counted.arrayBuffer();
    const plain = await fetch(`${stack.url}/rest/v1/books?id=eq.99`, { headers });
    expect(plain.headers.get('content-range')).toBe('*/*');
    await plain.arrayBuffer();
  });

  it('max_rows from config.toml caps reads silently', async () => {
    const { data, error } = await service.rpc('numbers', { n: 1500 });
    expect(error).toBeNull();
    expect((data as number[]).length).toBe(1000);
  });
});

describe('single, maybeSingle, csv', () => {
  runCases([
    {
      name: '.single() returns the object',
      call: () => service.from('authors').select('name').eq('id', 1).single(),
      data: { name: 'Ada' },
      status: 200,
    },
    {
      name: '.single() with several rows is 406 PGRST116',
      call: () => service.from('authors').select('name').single(),
      error: { code: 'PGRST116', details: 'The result contains 4 rows' },
      status: 406,
    },
    {
      name: '.single() with no row is 406 PGRST116',
      call: () => service.from('authors').select('name').eq('id', 99).single(),
      error: { code: 'PGRST116', details: 'The result contains 0 rows' },
      status: 406,
    },
    {
      name: '.maybeSingle() with no row is null',
      call: () => service.from('authors').select('name').eq('id', 99).maybeSingle(),
      data: null,
    },
    {
      name: '.maybeSingle() with one row is the object',
      call: () => service.from('authors').select('name').eq('id', 2).maybeSingle(),
      data: { name: 'Borges' },
    },
    {
      name: '.csv() is a header line and one line per row',
      call: () => service.from('authors').select('id,name,country').order('id').limit(3).csv(),
      data: 'id,name,country\n1,Ada,UK\n2,Borges,AR\n3,Cortázar,',
    },
  ]);
});

describe('insert, upsert, update, delete', () => {
  runCases([
    {
      name: 'insert one: 201 and no body by default',
      call: () => service.from('items').insert({ name: 'alpha' }),
      data: null,
      status: 201,
    },
    {
      name: 'insert with select returns the row with its defaults',
      call: () => service.from('items').insert({ name: 'beta', qty: 3 }).select('name, qty, note'),
      data: [{ name: 'beta', qty: 3, note: 'none' }],
      status: 201,
    },
    {
      name: 'bulk insert: keys missing from a row are NULL (columns=)',
      call: () =>
        service
          .from('items')
          .insert([{ name: 'gamma', qty: 5 }, { name: 'delta' }])
          .select('name, qty, note')
          .order('name'),
      data: [
        { name: 'delta', qty: null, note: 'none' },
        { name: 'gamma', qty: 5, note: 'none' },
      ],
    },
    {
      name: 'bulk insert with defaultToNull: false uses the defaults (missing=default)',
      call: () =>
        service
          .from('items')
          .insert([{ name: 'eps', qty: 7, note: 'n' }, { name: 'zeta' }], { defaultToNull: false })
          .select('name, qty, note')
          .order('name'),
      data: [
        { name: 'eps', qty: 7, note: 'n' },
        { name: 'zeta', qty: 1, note: 'none' },
      ],
    },
    {
      name: 'upsert merges on on_conflict: 200 when it only updated',
      call: () =>
        service
          .from('items')
          .upsert({ name: 'alpha', qty: 9 }, { onConflict: 'name' })
          .select('name, qty'),
      data: [{ name: 'alpha', qty: 9 }],
      status: 200,
    },
    {
      name: 'upsert that inserts is 201',
      call: () =>
        service
          .from('items')
          .upsert(
            [
              { name: 'alpha', qty: 9 },
              { name: 'omega', qty: 2 },
            ],
            { onConflict: 'name' },
          )
          .select('name, qty')
          .order('name'),
      data: [
        { name: 'alpha', qty: 9 },
        { name: 'omega', qty: 2 },
      ],
      status: 201,
    },
    {
      name: 'upsert with ignoreDuplicates leaves the row alone',
      call: () =>
        service
          .from('items')
          .upsert({ name: 'alpha', qty: 100 }, { onConflict: 'name', ignoreDuplicates: true })
          .select('name, qty'),
      data: [],
    },
    {
      name: '…and the row still has the merged value',
      call: () => service.from('items').select('qty').eq('name', 'alpha').single(),
      data: { qty: 9 },
    },
    {
      name: 'upsert by primary key without on_conflict',
      call: () =>
        service
          .from('authors')
          .upsert({ id: 4, name: 'Emily Dickinson' })
          .select('id, name, country'),
      data: [{ id: 4, name: 'Emily Dickinson', country: 'US' }],
    },
    {
      name: 'update with select returns the changed rows',
      call: () =>
        service.from('items').update({ note: 'x' }).eq('name', 'alpha').select('name, note'),
      data: [{ name: 'alpha', note: 'x' }],
      status: 200,
    },
    {
      name: 'update with a count: 204 and the count',
      call: () =>
        service
          .from('items')
          .update({ note: 'y' }, { count: 'exact' })
          .in('name', ['alpha', 'beta']),
      data: null,
      count: 2,
      status: 204,
    },
    {
      name: 'update matching nothing is not an error',
      call: () =>
        service.from('items').update({ note: 'y' }, { count: 'exact' }).eq('name', 'nobody'),
      count: 0,
      status: 204,
    },
    {
      name: 'delete with a count',
      call: () => service.from('items').delete({ count: 'exact' }).eq('name', 'delta'),
      count: 1,
      status: 204,
    },
    {
      name: 'delete with select returns the deleted rows',
      call: () => service.from('items').delete().eq('name', 'gamma').select('name'),
      data: [{ name: 'gamma' }],
      status: 200,
    },
    {
      name: 'delete without a filter is refused (safeupdate)',
      call: () => service.from('items').delete(),
      error: { code: '21000' },
      status: 400,
    },
    {
      name: 'update without a filter is refused (safeupdate)',
      call: () => service.from('items').update({ note: 'all' }),
      error: { code: '21000' },
      status: 400,
    },
    {
      name: 'an unknown column in the body is 400 PGRST204',
      call: () => service.from('items').insert({ name: 'x', colour: 'red' }),
      error: {
        code: 'PGRST204',
        message: "Could not find the 'colour' column of 'items' in the schema cache",
      },
      status: 400,
    },
    {
      name: 'a unique violation is 409 23505',
      call: () => service.from('items').insert({ name: 'alpha' }),
      error: { code: '23505' },
      status: 409,
    },
    {
      name: 'a foreign key violation is 409 23503',
      call: () => service.from('books').insert({ id: 9, title: 'Orphan', author_id: 99 }),
      error: { code: '23503' },
      status: 409,
    },
    {
      name: 'a not-null violation is 400 23502',
      call: () => service.from('books').insert({ id: 9 }),
      error: { code: '23502' },
      status: 400,
    },
    {
      name: 'a value of the wrong type is 400 22P02',
      call: () => service.from('items').insert({ name: 'bad', qty: 'many' }),
      error: { code: '22P02' },
      status: 400,
    },
    {
      name: 'a filter value that is not a boolean is 400 22P02',
      call: () => service.from('books').select('id').eq('in_print', 'maybe'),
      error: { code: '22P02' },
      status: 400,
    },
    {
      name: 'insert…select…single with two rows is 406 and rolled back',
      call: () =>
        service
          .from('items')
          .insert([{ name: 'r1' }, { name: 'r2' }])
          .select('name')
          .single(),
      error: { code: 'PGRST116' },
      status: 406,
    },
    {
      name: '…so neither row exists',
      call: () => service.from('items').select('name').in('name', ['r1', 'r2']),
      data: [],
    },
    {
      name: 'insert with an embed in the returned select',
      call: () =>
        service
          .from('books')
          .insert({ id: 5, title: 'Labyrinths', author_id: 2 })
          .select('title, author:authors!author_id(name)')
          .single(),
      data: { title: 'Labyrinths', author: { name: 'Borges' } },
    },
  ]);

  it('max-affected: a write touching more rows is refused and undone (PGRST124)', async () => {
    // What postgrest-js's maxAffected() sends (typed for PostgREST 13 clients only).
    const patch = (filter: string) =>
      fetch(`${stack.url}/rest/v1/items?${filter}`, {
        method: 'PATCH',
        headers: {
          apikey: stack.keys.serviceRoleKey,
          'Content-Type': 'application/json',
          Prefer: 'handling=strict, max-affected=1',
        },
        body: JSON.stringify({ note: 'capped' }),
      });
    const over = await patch('name=in.(alpha,beta)');
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({
      code: 'PGRST124',
      details: 'The query affects 2 rows',
    });
    const { data } = await service.from('items').select('name').eq('note', 'capped');
    expect(data).toEqual([]);
    const within = await patch('name=eq.alpha');
    expect(within.status).toBe(204);
    expect(within.headers.get('content-range')).toBe('0-0/1');
  });

  it('handling=strict refuses preferences it does not know (PGRST122)', async () => {
    const response = await fetch(`${stack.url}/rest/v1/items?name=eq.alpha`, {
      method: 'PATCH',
      headers: {
        apikey: stack.keys.serviceRoleKey,
        'Content-Type': 'application/json',
        Prefer: 'handling=strict, return=everything',
      },
      body: JSON.stringify({ note: 'z' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'PGRST122' });
  });

  it('POST without columns= needs identical keys in every object (PGRST102)', async () => {
    const response = await fetch(`${stack.url}/rest/v1/items`, {
      method: 'POST',
      headers: { apikey: stack.keys.serviceRoleKey, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ name: 'k1' }, { name: 'k2', qty: 2 }]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'PGRST102',
      message: 'All object keys must match',
    });
  });

  it('invalid JSON is 400 PGRST102', async () => {
    const response = await fetch(`${stack.url}/rest/v1/items`, {
      method: 'POST',
      headers: { apikey: stack.keys.serviceRoleKey, 'Content-Type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 'PGRST102',
      details: null,
      hint: null,
      message: 'Empty or invalid json',
    });
  });

  it('return=headers-only answers a Location for the new row', async () => {
    const response = await fetch(`${stack.url}/rest/v1/authors`, {
      method: 'POST',
      headers: {
        apikey: stack.keys.serviceRoleKey,
        'Content-Type': 'application/json',
        Prefer: 'return=headers-only',
      },
      body: JSON.stringify({ id: 7, name: 'Gödel' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/authors?id=eq.7');
    expect(response.headers.get('content-range')).toBe('*/1');
    expect(await response.text()).toBe('');
  });
});

describe('rpc', () => {
  runCases([
    {
      name: 'a scalar function by POST',
      call: () => service.rpc('add', { a: 1, b: 2 }),
      data: 3,
    },
    {
      name: 'a scalar function by GET',
      call: () => anon.rpc('add', { a: 20, b: 22 }, { get: true }),
      data: 42,
    },
    {
      name: 'a set-returning function, with select, filters and order on its result',
      call: () =>
        service.rpc('books_by', { author: 2 }).select('id, title').neq('id', 5).order('id'),
      data: [
        { id: 2, title: 'Ficciones' },
        { id: 3, title: 'The Aleph' },
      ],
    },
    {
      name: 'embedding from a function returning a table',
      call: () =>
        service.rpc('books_by', { author: 1 }).select('title, editor:authors!editor_id(name)'),
      data: [{ title: 'The Analytical Engine', editor: { name: 'Borges' } }],
    },
    {
      name: '.single() on a set-returning function',
      call: () => service.rpc('books_by', { author: 1 }).select('title').single(),
      data: { title: 'The Analytical Engine' },
    },
    {
      name: 'a single unnamed jsonb parameter takes the whole body',
      call: () => service.rpc('echo', { x: [1, 2], y: { z: true } }),
      data: { x: [1, 2], y: { z: true } },
    },
    {
      name: 'set of scalars with a count',
      call: () => service.rpc('numbers', { n: 5 }, { count: 'exact' }),
      data: [1, 2, 3, 4, 5],
      count: 5,
    },
    {
      name: 'head and count on a function',
      call: () => service.rpc('numbers', { n: 7 }, { head: true, count: 'exact' }),
      data: null,
      count: 7,
    },
    {
      name: 'head and count with an object argument (POST, return=minimal)',
      call: () => service.rpc('echo', { nested: { a: 1 } }, { head: true, count: 'exact' }),
      data: null,
      count: 1,
    },
    {
      name: 'a void function is 204',
      call: () => service.rpc('touch_item', { item_name: 'touched' }),
      data: null,
      status: 204,
    },
    {
      name: '…and its write was committed',
      call: () => service.from('items').select('name').eq('name', 'touched'),
      data: [{ name: 'touched' }],
    },
    {
      name: 'a write by GET runs read-only: 405 25006',
      call: () => service.rpc('touch_item', { item_name: 'by-get' }, { get: true }),
      error: { code: '25006' },
      status: 405,
    },
    {
      name: 'RAISE EXCEPTION is 400 P0001 with its hint',
      call: () => service.rpc('raise_it'),
      error: { code: 'P0001', message: 'nope', hint: 'try again' },
      status: 400,
    },
    {
      name: 'an unknown function is 404 PGRST202',
      call: () => service.rpc('missing_fn', { a: 1 }),
      error: {
        code: 'PGRST202',
        message: 'Could not find the function public.missing_fn(a) in the schema cache',
      },
      status: 404,
    },
    {
      name: 'unknown argument names are 404 PGRST202',
      call: () => service.rpc('add', { a: 1, c: 2 }),
      error: { code: 'PGRST202' },
      status: 404,
    },
    {
      name: 'anon without EXECUTE is 401 42501',
      call: () => anon.rpc('secret_fn'),
      error: { code: '42501' },
      status: 401,
    },
    {
      name: 'a signed-in user without EXECUTE is 403 42501',
      call: () => alice.rpc('secret_fn'),
      error: { code: '42501' },
      status: 403,
    },
  ]);
});

describe('roles, RLS and request settings', () => {
  it('anon reads nothing that RLS hides, and may not write it (401)', async () => {
    await service.from('notes').insert({ owner: ALICE, body: 'seeded' });
    expect((await anon.from('notes').select('*')).data).toEqual([]);
    const { error, status } = await anon.from('notes').insert({ owner: ALICE, body: 'x' });
    expect(status).toBe(401);
    expect(error).toMatchObject({ code: '42501' });
  });

  it('each user sees only its own rows; a WITH CHECK refusal is 403', async () => {
    const mine = await alice.from('notes').insert({ body: 'alice note' }).select('owner, body');
    expect(mine.data).toEqual([{ owner: ALICE, body: 'alice note' }]);
    expect((await alice.from('notes').select('body').order('id')).data).toEqual([
      { body: 'seeded' },
      { body: 'alice note' },
    ]);
    expect((await bob.from('notes').select('body')).data).toEqual([]);
    const forged = await bob.from('notes').insert({ owner: ALICE, body: 'forged' });
    expect(forged.status).toBe(403);
    expect(forged.error).toMatchObject({ code: '42501' });
    const touched = await bob
      .from('notes')
      .update({ body: 'hacked' }, { count: 'exact' })
      .neq('id', 0);
    expect(touched.count).toBe(0);
  });

  it('sets role, request.jwt.claims, request.method, request.path and request.headers', async () => {
    const token = await userToken(stack, ALICE, { email: 'alice@example.test' });
    const response = await fetch(`${stack.url}/rest/v1/rpc/whoami`, {
      method: 'POST',
      headers: {
        apikey: stack.keys.anonKey,
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'X-Probe': 'hello',
      },
      body: '{}',
    });
    const who = (await response.json()) as Record<string, unknown>;
    expect(who).toMatchObject({
      role: 'authenticated',
      method: 'POST',
      path: '/rpc/whoami',
      probe: 'hello',
      claims: { sub: ALICE, role: 'authenticated', email: 'alice@example.test' },
    });
    expect(String(who.search_path)).toMatch(/^"?public"?, "?extensions"?$/);
    // The roles' own settings apply too (ALTER ROLE … SET statement_timeout).
    expect(who.statement_timeout).toBe('8s');
    const asAnon = await anon.rpc('whoami');
    expect(asAnon.data).toMatchObject({
      role: 'anon',
      claims: { role: 'anon' },
      statement_timeout: '3s',
    });
    const asService = await service.rpc('whoami');
    expect(asService.data).toMatchObject({ role: 'service_role' });
  });

  it('a bad JWT is 401 PGRST301, an expired one PGRST303', async () => {
    const forged = client(stack.keys.anonKey, `${await userToken(stack, ALICE)}x`);
    const bad = await forged.from('authors').select('id');
    expect(bad.status).toBe(401);
    expect(bad.error).toMatchObject({ code: 'PGRST301' });
    const { SignJWT } = await import('jose');
    const old = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(ALICE)
      .setIssuedAt(1_700_000_000)
      .setExpirationTime(1_700_000_060)
      .sign(new TextEncoder().encode(stack.keys.jwtSecret));
    const expired = await client(stack.keys.anonKey, old).from('authors').select('id');
    expect(expired.status).toBe(401);
    expect(expired.error).toMatchObject({ code: 'PGRST303', message: 'JWT expired' });
  });

  it('no API key is the gateway’s 401', async () => {
    const response = await fetch(`${stack.url}/rest/v1/authors`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ message: 'No API key found in request' });
  });

  it('a schema that is not exposed is 406 PGRST106', async () => {
    const { error, status } = await service.schema('auth').from('users').select('id');
    expect(status).toBe(406);
    expect(error).toMatchObject({ code: 'PGRST106', message: 'Invalid schema: auth' });
  });
});

describe('malformed requests are 4xx in PostgREST’s shape, never 500', () => {
  const bad = [
    'books?select=((',
    'books?id=zz.1',
    'books?id=eq',
    'books?order=id.sideways.up(',
    'books?or=(id.eq.1',
    'books?limit=-1',
    'books?select=id,count()',
    'books?select=title::text;drop',
    'books?id=in.(1,"2)',
    'rpc/add?a=x&b=1',
  ];
  it.each(bad)('%s', async (path) => {
    const response = await fetch(`${stack.url}/rest/v1/${path}`, {
      headers: { apikey: stack.keys.serviceRoleKey },
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'details', 'hint', 'message']);
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/);
  });
});

describe('schema cache', () => {
  it('follows DDL without an explicit NOTIFY, as Supabase’s event triggers make it', async () => {
    await runSql(
      stack,
      `create table public.shelves (id int primary key, label text);
       grant select on public.shelves to service_role;
       insert into public.shelves values (1, 'Fiction');`,
    );
    await waitForTable(stack, 'shelves');
    expect((await service.from('shelves').select('label')).data).toEqual([{ label: 'Fiction' }]);
    await runSql(stack, 'alter table public.shelves add column floor int default 2');
    const deadline = Date.now() + 10_000;
    let data: unknown = null;
    while (Date.now() < deadline) {
      ({ data } = await service.from('shelves').select('label, floor'));
      if (data) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(data).toEqual([{ label: 'Fiction', floor: 2 }]);
  });

  it('reads a view; a write Postgres cannot do through it is 405, not a server error', async () => {
    const read = await service.from('author_stats').select('author_id, books').eq('author_id', 2);
    expect(read.data).toEqual([{ author_id: 2, books: 3 }]);
    const write = await service.from('author_stats').insert({ author_id: 9, books: 1 });
    expect(write.status).toBe(405);
    expect(write.error).toMatchObject({ code: '55000' });
  });
});

describe('HEAD and profiles', () => {
  it('HEAD answers the headers of GET without a body', async () => {
    const response = await fetch(`${stack.url}/rest/v1/readers?select=id`, {
      method: 'HEAD',
      headers: { apikey: stack.keys.serviceRoleKey, Prefer: 'count=exact' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-range')).toBe('0-1/2');
    expect(await response.text()).toBe('');
  });

  it('Accept-Profile picks another exposed schema', async () => {
    const response = await fetch(`${stack.url}/rest/v1/authors`, {
      headers: { apikey: stack.keys.serviceRoleKey, 'Accept-Profile': 'graphql_public' },
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'PGRST205' });
  });

  it('Accept with a media type it cannot produce is 406 PGRST107', async () => {
    const response = await fetch(`${stack.url}/rest/v1/authors`, {
      headers: { apikey: stack.keys.serviceRoleKey, Accept: 'application/xml' },
    });
    expect(response.status).toBe(406);
    expect(await response.json()).toMatchObject({ code: 'PGRST107' });
  });

  it('nulls=stripped leaves null members out', async () => {
    const response = await fetch(`${stack.url}/rest/v1/authors?id=eq.3`, {
      headers: {
        apikey: stack.keys.serviceRoleKey,
        Accept: 'application/vnd.pgrst.array+json;nulls=stripped',
      },
    });
    expect(await response.json()).toEqual([{ id: 3, name: 'Cortázar' }]);
  });
});

describe('OpenAPI', () => {
  it('GET /rest/v1/ describes the schema with its comments', async () => {
    const response = await fetch(`${stack.url}/rest/v1/`, {
      headers: { apikey: stack.keys.serviceRoleKey, Accept: 'application/openapi+json' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/openapi\+json/);
    const doc = (await response.json()) as {
      swagger: string;
      paths: Record<string, unknown>;
      definitions: Record<
        string,
        {
          description?: string;
          properties: Record<string, { description?: string; format?: string }>;
        }
      >;
    };
    expect(doc.swagger).toBe('2.0');
    expect(doc.paths).toHaveProperty('/books');
    expect(doc.paths).toHaveProperty('/rpc/add');
    expect(doc.definitions.books?.description).toBe('Books on the shelf');
    expect(doc.definitions.books?.properties.title?.description).toBe(
      'The title as printed on the cover',
    );
    expect(doc.definitions.books?.properties.id?.description).toContain('<pk/>');
    expect(doc.definitions.books?.properties.author_id?.description).toContain(
      "<fk table='authors' column='id'/>",
    );
  });

  it('anon sees only what anon may use', async () => {
    const response = await fetch(`${stack.url}/rest/v1/`, {
      headers: { apikey: stack.keys.anonKey },
    });
    const doc = (await response.json()) as { paths: Record<string, unknown> };
    expect(doc.paths).not.toHaveProperty('/rpc/secret_fn');
    expect(doc.paths).toHaveProperty('/authors');
  });
});

// Last: its random writes may change the fixtures.
describe('generated garbage never reaches a 500', () => {
  // A seeded generator, so a failure names a request that can be replayed.
  function random(seed: number) {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const TOKENS = [
    'id',
    'title',
    'pages',
    'meta',
    'tags',
    'span',
    'authors',
    'books',
    'readers',
    'author_id',
    '(',
    ')',
    ',',
    '.',
    ':',
    '::',
    '!',
    '!inner',
    '*',
    '"',
    '\\',
    '->',
    '->>',
    '{',
    '}',
    'eq',
    'neq',
    'in',
    'is',
    'not',
    'or',
    'and',
    'like',
    'cs',
    'fts',
    'null',
    'true',
    '1',
    '-1',
    '99999999999999999999',
    'é',
    '%',
    '%25',
    '%00',
    '+',
    ' ',
    'asc',
    'desc',
    'nullsfirst',
    'text',
  ];
  const KEYS = [
    'select',
    'order',
    'limit',
    'offset',
    'or',
    'and',
    'id',
    'books.id',
    'not.or',
    'books.order',
    'meta->>lang',
    'columns',
    'on_conflict',
    'a',
    'b',
    'author',
  ];

  it('300 random requests all answer below 500 in PostgREST’s error shape', async () => {
    const next = random(20261202);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
    const phrase = () =>
      Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick(TOKENS)).join('');
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = pick(['books', 'authors', 'rpc/add', 'rpc/books_by', 'rpc/echo', phrase()]);
      const query = Array.from(
        { length: Math.floor(next() * 4) },
        () => `${encodeURIComponent(pick(KEYS))}=${phrase()}`,
      ).join('&');
      const method = pick(['GET', 'GET', 'HEAD', 'POST', 'PATCH', 'DELETE']);
      const body =
        method === 'GET' || method === 'HEAD'
          ? undefined
          : pick(['{}', '[]', '{"title":1}', `{"${phrase()}":"${phrase()}"}`, phrase()]);
      const response = await fetch(`${stack.url}/rest/v1/${path}?${query}`, {
        method,
        headers: {
          apikey: stack.keys.serviceRoleKey,
          'Content-Type': 'application/json',
          Prefer: pick(['', 'return=representation', 'count=exact', 'tx=rollback']),
        },
        ...(body === undefined ? {} : { body }),
      });
      const text = await response.text();
      const label = `${method} ${path}?${query} ${body ?? ''} → ${response.status} ${text.slice(0, 200)}`;
      if (response.status >= 500) failures.push(label);
      else if (response.status >= 400 && method !== 'HEAD') {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        if (!('code' in parsed && 'message' in parsed)) failures.push(label);
      }
    }
    expect(failures).toEqual([]);
  });
});
