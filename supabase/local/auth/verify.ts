import { z } from 'zod';
import type { AuthContext, Handler, Tx } from './context.ts';
import { validateEmail } from './email.ts';
import { badRequest, forbidden } from './errors.ts';
import { readBody } from './http.ts';
import { sessionResponse } from './session-response.ts';
import { type Grant, startSession } from './sessions.ts';

// Email confirmation as GoTrue does it: sign-up stores the hash of the address and a six-digit
// code in auth.users.confirmation_token and mails a link carrying that hash. The local stack has
// no mail server, so it prints the link (and the code) to its log instead. The link is
// GET /verify?token=<hash>&type=signup&redirect_to=…, which confirms the address, starts a session
// and redirects with the tokens in the fragment; POST /verify is what supabase-js verifyOtp sends.

const EXPIRED = 'Email link is invalid or has expired';
const OTP_EXPIRED = 'Token has expired or is invalid';

/** GoTrue's token hash: hex(SHA-224(email + code)). */
export async function tokenHash(tx: Tx, email: string, code: string): Promise<string> {
  const { rows } = await tx.query<{ hash: string }>(
    `select encode(extensions.digest($1, 'sha224'), 'hex') as hash`,
    [email + code],
  );
  const hash = rows[0]?.hash;
  if (!hash) throw new Error('could not hash the confirmation code');
  return hash;
}

/** GoTrue sends users back only to the site URL or an allowed redirect address. */
export function allowedRedirect(ctx: AuthContext, requested: string | null): string {
  const fallback = ctx.config.siteUrl;
  if (!requested) return fallback;
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return fallback;
  }
  const origins = [ctx.config.siteUrl, ctx.issuer, ...ctx.config.additionalRedirectUrls].flatMap(
    (entry) => {
      try {
        return [new URL(entry).origin];
      } catch {
        return [];
      }
    },
  );
  return origins.includes(url.origin) ? url.toString() : fallback;
}

/** Stores a new confirmation code for the user and logs the link GoTrue would have mailed. */
export async function sendConfirmation(
  tx: Tx,
  ctx: AuthContext,
  userId: string,
  email: string,
  redirectTo: string | null,
): Promise<void> {
  const code = String((crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % 1_000_000).padStart(
    6,
    '0',
  );
  const hash = await tokenHash(tx, email, code);
  await tx.query(
    `update auth.users set confirmation_token = $2, confirmation_sent_at = now(), updated_at = now()
      where id = $1`,
    [userId, hash],
  );
  const link = new URL(`${ctx.issuer}/verify`);
  link.searchParams.set('token', hash);
  link.searchParams.set('type', 'signup');
  link.searchParams.set('redirect_to', allowedRedirect(ctx, redirectTo));
  ctx.log(`auth: confirm ${email} by opening ${link} (or with the code ${code})`);
}

/** Confirms the user holding this token hash and starts its session; null when none is valid. */
async function confirm(
  tx: Tx,
  ctx: AuthContext,
  hash: string,
  type: VerifyType,
): Promise<Grant | null> {
  if (!/^[0-9a-f]{56}$/.test(hash)) return null;
  // A magic link for an existing user is kept as a recovery token; the rest as confirmations.
  const [token, sentAt] =
    type === 'magiclink'
      ? ['recovery_token', 'recovery_sent_at']
      : ['confirmation_token', 'confirmation_sent_at'];
  const { rows } = await tx.query<{ id: string }>(
    `update auth.users
        set email_confirmed_at = coalesce(email_confirmed_at, now()), ${token} = '',
            raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb,
            updated_at = now()
      where ${token} = $1
        and ${sentAt} > now() - make_interval(secs => $2)
        and (banned_until is null or banned_until <= now())
      returning id`,
    [hash, ctx.config.otpExpiry],
  );
  const user = rows[0];
  if (!user) return null;
  await tx.query(
    `update auth.identities
        set identity_data = identity_data || '{"email_verified": true}'::jsonb, updated_at = now()
      where user_id = $1 and provider = 'email'`,
    [user.id],
  );
  return startSession(tx, user.id, 'otp', null);
}

const verifyTypes = ['signup', 'email', 'invite', 'magiclink'] as const;
type VerifyType = (typeof verifyTypes)[number];

// Built by hand: Response.redirect's headers are immutable, and the CORS wrapper adds to them.
const redirect = (target: URL) =>
  new Response(null, { status: 303, headers: { location: target.toString() } });

export const verifyLink: Handler = async (request, ctx) => {
  const url = new URL(request.url);
  const type = url.searchParams.get('type') ?? '';
  const redirectTo = allowedRedirect(ctx, url.searchParams.get('redirect_to'));
  const fail = (code: string, description: string) => {
    const target = new URL(redirectTo);
    target.hash = new URLSearchParams({
      error: 'access_denied',
      error_code: code,
      error_description: description,
    }).toString();
    return redirect(target);
  };
  if (!(verifyTypes as readonly string[]).includes(type)) {
    return fail('validation_failed', 'Verify requires a verification type');
  }
  const session = await ctx.pg.transaction(async (tx) => {
    const grant = await confirm(tx, ctx, url.searchParams.get('token') ?? '', type as VerifyType);
    return grant ? ((await sessionResponse(tx, ctx, grant)).json() as Promise<SessionJson>) : null;
  });
  if (!session) return fail('otp_expired', EXPIRED);
  const target = new URL(redirectTo);
  target.hash = new URLSearchParams({
    access_token: session.access_token,
    expires_at: String(session.expires_at),
    expires_in: String(session.expires_in),
    refresh_token: session.refresh_token,
    token_type: 'bearer',
    type,
  }).toString();
  return redirect(target);
};

type SessionJson = {
  access_token: string;
  expires_at: number;
  expires_in: number;
  refresh_token: string;
};

const verifyBody = z.object({
  type: z.string(),
  token: z.string().optional(),
  token_hash: z.string().optional(),
  email: z.string().optional(),
});

export const verifyCode: Handler = async (request, ctx) => {
  const body = await readBody(request, verifyBody);
  if (!(verifyTypes as readonly string[]).includes(body.type)) {
    throw badRequest('validation_failed', 'Verify requires a verification type');
  }
  return ctx.pg.transaction(async (tx) => {
    let hash = body.token_hash ?? '';
    if (!hash) {
      if (!body.email || !body.token) {
        throw badRequest('validation_failed', 'Verify requires either a token or a token hash');
      }
      hash = await tokenHash(tx, validateEmail(body.email), body.token.trim());
    }
    const grant = await confirm(tx, ctx, hash, body.type as VerifyType);
    if (!grant) throw forbidden('otp_expired', OTP_EXPIRED);
    return sessionResponse(tx, ctx, grant);
  });
};
