import { createClient } from '@supabase/supabase-js';
import { Hono } from 'hono';
import { z } from 'zod';
import { bearerToken, type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import type { Db, JwtClaims } from '../_shared/db/port.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { orRefusal } from '../_shared/http/database-errors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Team invitations: POST /team/invite {tenant_id, email, role, redirect_to}. Whether the caller
// may invite that role, and whether a seat is free, is decided by public.invite_member run as the
// caller; only then is Supabase Auth asked, with the service key, for the link: an invite link
// for a new address, a magic link for someone who already has an account. The link is answered
// to the admin, which shows it for the inviter to pass on (Auth's generate_link sends no mail; the
// local stack also prints it to its log).
// The link leads back to redirect_to with ?accept=<invitation id>, where the admin accepts it as
// the person who opened it.

/** What the function needs of Auth's admin API: a link for an address. */
export interface LinkMaker {
  link(
    type: 'invite' | 'magiclink',
    email: string,
    redirectTo: string,
  ): Promise<{ link: string } | { exists: true }>;
}

export interface TeamDeps {
  db: Db;
  verifier: ClaimsVerifier;
  links: LinkMaker;
  log: (message: string, error?: unknown) => void;
}

type Env = { Variables: { user: JwtClaims & { sub: string } } };

const inviteSchema = z.object({
  tenant_id: z.string().uuid(),
  email: z.string().trim().min(3).max(255),
  role: z.enum(['owner', 'admin', 'agent']),
  redirect_to: z
    .string()
    .url()
    .max(2000)
    .refine((u) => /^https?:/.test(u), 'redirect_to must be an http(s) address'),
});

export function createTeamApp(deps: TeamDeps) {
  const app = new Hono<Env>();
  app.use('*', publicCors());
  app.use('*', guardInput(4096));

  app.use('/team/*', async (c, next) => {
    const token = bearerToken(c.req.raw);
    const claims = token ? await deps.verifier.verify(token) : null;
    if (claims?.role !== 'authenticated' || typeof claims.sub !== 'string') {
      throw new HttpError(401, 'unauthorized', 'Sign in to manage the team.');
    }
    if (claims.is_anonymous === true) {
      throw new HttpError(403, 'forbidden', 'Visitors cannot manage a team.');
    }
    c.set('user', claims as JwtClaims & { sub: string });
    await next();
  });

  app.post('/team/invite', async (c) => {
    const body = await jsonBody(c, inviteSchema);
    const [invitation] = await orRefusal(
      deps.db.asUser(c.get('user'), (sql) =>
        sql.query<{ id: string; email: string; role: string; expires_at: Date }>(
          'select id, email, role, expires_at from public.invite_member($1, $2, $3)',
          [body.tenant_id, body.email, body.role],
        ),
      ),
    );
    if (!invitation) throw new Error('invite_member returned no invitation');
    const back = new URL(body.redirect_to);
    back.hash = '';
    back.searchParams.set('accept', invitation.id);
    let made = await deps.links.link('invite', invitation.email, back.toString());
    if ('exists' in made)
      made = await deps.links.link('magiclink', invitation.email, back.toString());
    if ('exists' in made) throw new Error('Auth refused a magic link for an existing user');
    return c.json({ invitation, link: made.link }, 201);
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

/** Auth's admin API through supabase-js, as the service role. */
export function authLinks(url: string, serviceKey: string): LinkMaker {
  const admin = createClient(url, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  }).auth.admin;
  return {
    async link(type, email, redirectTo) {
      const { data, error } = await admin.generateLink({ type, email, options: { redirectTo } });
      if (error) {
        if (error.code === 'email_exists') return { exists: true };
        throw new HttpError(502, 'auth_error', `Auth could not make the link: ${error.message}`);
      }
      return { link: data.properties.action_link };
    },
  };
}

export function createApp(context: FunctionContext) {
  const { env } = context;
  if (!env.SUPABASE_URL || !env.SUPABASE_SERVICE_ROLE_KEY) {
    throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are required');
  }
  return createTeamApp({
    db: context.db,
    verifier: createClaimsVerifier(env),
    links: authLinks(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY),
    log: context.log,
  });
}
