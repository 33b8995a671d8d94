import { PostgrestClient } from '@supabase/postgrest-js';
import { RealtimeClient } from '@supabase/realtime-js';
import type { AdminConfig } from '../config.ts';
import { type Auth, createAuth } from './auth.ts';

// The SPA's Supabase client: the staff session (auth.ts, kept in localStorage), and the official
// clients supabase-js itself is made of for the Data API and Realtime, all running with the
// session's JWT so RLS decides everything the SPA reads and does. Storage and Functions are left
// out of the first load; pages that need them import those clients on their own. The wiring is
// supabase-js's: apikey on every request, the user's token as bearer, Realtime re-authorised
// whenever the token changes.

export interface AdminClient {
  auth: Auth;
  rest: PostgrestClient;
  realtime: RealtimeClient;
  from: PostgrestClient['from'];
  rpc: PostgrestClient['rpc'];
  /** The session's access token, or the publishable key when signed out. */
  accessToken(): Promise<string>;
  /** The project's URL and publishable key, for the clients pages load on their own. */
  url: string;
  key: string;
}

let client: AdminClient | null = null;

export function initClient(config: AdminConfig): AdminClient {
  const { supabaseUrl: url, supabaseKey: key } = config;
  const auth = createAuth({
    url: `${url}/auth/v1`,
    key,
    storageKey: 'parley-admin-auth',
    // Invitation links land with the session in the fragment (Auth's implicit redirect).
    detectSessionInUrl: true,
  });
  const accessToken = async () => (await auth.getSession()).data.session?.access_token ?? key;
  const authedFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('apikey')) headers.set('apikey', key);
    if (!headers.has('Authorization'))
      headers.set('Authorization', `Bearer ${await accessToken()}`);
    return fetch(input, { ...init, headers });
  };
  const rest = new PostgrestClient(`${url}/rest/v1`, { fetch: authedFetch });
  const realtime = new RealtimeClient(`${url.replace(/^http/, 'ws')}/realtime/v1`, {
    params: { apikey: key },
    accessToken,
  });
  let lastToken: string | undefined;
  auth.onAuthStateChange((event, session) => {
    if (event === 'SIGNED_OUT') {
      lastToken = undefined;
      void realtime.setAuth();
    } else if (session && session.access_token !== lastToken) {
      lastToken = session.access_token;
      void realtime.setAuth(session.access_token);
    }
  });
  client = {
    auth,
    rest,
    realtime,
    from: rest.from.bind(rest),
    rpc: rest.rpc.bind(rest) as PostgrestClient['rpc'],
    accessToken,
    url,
    key,
  };
  return client;
}

export function supabase(): AdminClient {
  if (!client) throw new Error('the Supabase client is not initialised');
  return client;
}

/** The message of a Supabase error, for people. */
export function problem(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}

/** Throws the error of a Supabase result; returns its data. */
export function must<T>(result: { data: T; error: unknown }): NonNullable<T> {
  if (result.error) throw result.error;
  return result.data as NonNullable<T>;
}
