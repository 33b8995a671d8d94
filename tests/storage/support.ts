import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { type StackProcess, type StartStackOptions, startStack } from '../support/stack.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The Storage stand-in under test: the local stack as a child process, the security tests' cast
// of actors (tests/support/world.ts) in its database, and one supabase-js client per actor holding
// that actor's JWT, exactly as the widget and the admin SPA would hold theirs.

export type StorageActor = Actor | 'service';

export interface StorageHarness {
  stack: StackProcess;
  db: Db;
  world: World;
  client(actor: StorageActor): SupabaseClient;
  /** A JWT for these claims, signed with the stack's secret like Auth's own tokens. */
  token(claims: JwtClaims, expiresInSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startStorageHarness(
  options: StartStackOptions = {},
): Promise<StorageHarness> {
  const stack = await startStack(options);
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const world = await createWorld(db);
  const secret = new TextEncoder().encode(stack.keys.jwtSecret);

  const token = (claims: JwtClaims, expiresInSeconds = 3600) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInSeconds)
      .sign(secret);
  };

  const clients = new Map<StorageActor, SupabaseClient>();
  // Node 20 has no WebSocket of its own; supabase-js builds a Realtime client either way.
  const options_ = {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
  };
  const client = (actor: StorageActor) => {
    let found = clients.get(actor);
    if (!found) {
      if (actor === 'service') {
        found = createClient(stack.url, stack.keys.serviceRoleKey, options_);
      } else if (actor === 'anon') {
        found = createClient(stack.url, stack.keys.anonKey, options_);
      } else {
        const jwt = token(world.claims[actor]);
        found = createClient(stack.url, stack.keys.anonKey, {
          realtime: options_.realtime,
          accessToken: () => jwt,
        });
      }
      clients.set(actor, found);
    }
    return found;
  };

  return {
    stack,
    db,
    world,
    client,
    token,
    async close() {
      await db.close();
      await stack.stop();
    },
  };
}

/** A Storage error as storage-js reports it: HTTP status, Storage's code and logical status. */
export function expectStorageError(
  error: unknown,
  code: string,
  statusCode: string,
  status = statusCode === '500' ? 500 : 400,
) {
  expect(error, `expected ${code}`).toMatchObject({
    name: 'StorageApiError',
    code,
    statusCode,
    status,
  });
}

export const bytesOf = (text: string) => new TextEncoder().encode(text);
