import type { Db } from '../db/port.ts';

/**
 * What the platform gives a function: its environment, the database, and a way to keep working
 * after the response is sent (EdgeRuntime.waitUntil on Supabase). Every function's app.ts exports
 * `createApp(context)`; its index.ts builds the context from Deno, the local stack builds it from
 * its own services.
 */
export interface FunctionContext {
  env: Readonly<Record<string, string | undefined>>;
  db: Db;
  waitUntil(promise: Promise<unknown>): void;
  log(message: string, error?: unknown): void;
}

export interface FunctionApp {
  fetch(request: Request): Response | Promise<Response>;
}
