import { z } from 'zod';
import { verifyJwt } from '../keys.ts';
import type { AuthContext, Handler, Tx } from './context.ts';
import { validateEmail } from './email.ts';
import { AuthError, badRequest, unprocessable } from './errors.ts';
import { json, readBody } from './http.ts';
import {
  findUserByEmail,
  findUserById,
  insertIdentity,
  insertUser,
  type Metadata,
  type UserRow,
  userJson,
} from './users.ts';
import { allowedRedirect, tokenHash } from './verify.ts';

// The admin side of email links, as GoTrue has it: POST /invite (auth.admin.inviteUserByEmail),
// which creates the user if needed and mails an invite link, and POST /admin/generate_link
// (auth.admin.generateLink) for `invite` and `magiclink`, which answers the link instead of
// mailing it. Both need the service role's key as the bearer token. The local stack has no mail
// server: every link is printed to its log, where a mail would have gone.
//
// Invite links carry the hash of the user's confirmation code (auth.users.confirmation_token);
// magic links for existing users carry it in recovery_token, as GoTrue keeps them. Opening one
// (GET /verify?type=invite|magiclink) confirms the address and signs the user in.

const ADMIN_ROLES = new Set(['service_role', 'supabase_admin']);

async function requireAdmin(request: Request, ctx: AuthContext) {
  const header = request.headers.get('authorization') ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const claims = token ? await verifyJwt(token, ctx.jwtSecret) : null;
  if (!claims || !ADMIN_ROLES.has(claims.role)) {
    throw new AuthError(403, 'not_admin', 'User not allowed');
  }
}

const sixDigits = () =>
  String((crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % 1_000_000).padStart(6, '0');

type LinkType = 'invite' | 'magiclink';

interface Link {
  user: UserRow;
  action_link: string;
  email_otp: string;
  hashed_token: string;
  verification_type: string;
  redirect_to: string;
}

async function newInvitedUser(tx: Tx, email: string, data: Metadata): Promise<string> {
  const id = crypto.randomUUID();
  const identityData: Metadata = {
    ...data,
    sub: id,
    email,
    email_verified: false,
    phone_verified: false,
  };
  await insertUser(tx, {
    id,
    email,
    password: null,
    appMetadata: { provider: 'email', providers: ['email'] },
    userMetadata: identityData,
    isAnonymous: false,
    emailConfirmed: false,
    confirmationSent: false,
  });
  await insertIdentity(tx, id, 'email', identityData);
  return id;
}

async function makeLink(
  ctx: AuthContext,
  type: LinkType,
  rawEmail: string,
  data: Metadata,
  redirectTo: string | null,
): Promise<Link> {
  const email = validateEmail(rawEmail);
  return ctx.pg.transaction(async (tx) => {
    let user = await findUserByEmail(tx, email);
    let verification: string = type;
    if (type === 'invite' && user?.email_confirmed_at) {
      throw unprocessable(
        'email_exists',
        'A user with this email address has already been registered',
      );
    }
    // A magic link for someone unknown signs them up, as GoTrue does.
    if (!user && type === 'magiclink') verification = 'signup';
    const id = user?.id ?? (await newInvitedUser(tx, email, data));
    const code = sixDigits();
    const hash = await tokenHash(tx, email, code);
    if (verification === 'magiclink') {
      await tx.query(
        `update auth.users set recovery_token = $2, recovery_sent_at = now(), updated_at = now()
          where id = $1`,
        [id, hash],
      );
    } else {
      await tx.query(
        `update auth.users
            set confirmation_token = $2, confirmation_sent_at = now(), updated_at = now(),
                invited_at = case when $3 then coalesce(invited_at, now()) else invited_at end
          where id = $1`,
        [id, hash, verification === 'invite'],
      );
    }
    user = await findUserById(tx, id);
    if (!user) throw new Error(`user ${id} vanished while making a link`);
    const redirect = allowedRedirect(ctx, redirectTo);
    const link = new URL(`${ctx.issuer}/verify`);
    link.searchParams.set('token', hash);
    link.searchParams.set('type', verification);
    link.searchParams.set('redirect_to', redirect);
    ctx.log(`auth: ${verification} link for ${email}: ${link} (or the code ${code})`);
    return {
      user,
      action_link: link.toString(),
      email_otp: code,
      hashed_token: hash,
      verification_type: verification,
      redirect_to: redirect,
    };
  });
}

const inviteBody = z.object({
  email: z.string().default(''),
  data: z.record(z.string(), z.unknown()).nullish(),
});

export const invite: Handler = async (request, ctx) => {
  await requireAdmin(request, ctx);
  const body = await readBody(request, inviteBody);
  const link = await makeLink(
    ctx,
    'invite',
    body.email,
    body.data ?? {},
    new URL(request.url).searchParams.get('redirect_to'),
  );
  return json(await ctx.pg.transaction((tx) => userJson(tx, link.user)));
};

const generateLinkBody = z.object({
  type: z.string(),
  email: z.string().default(''),
  data: z.record(z.string(), z.unknown()).nullish(),
  redirect_to: z.string().nullish(),
});

export const generateLink: Handler = async (request, ctx) => {
  await requireAdmin(request, ctx);
  const body = await readBody(request, generateLinkBody);
  if (body.type !== 'invite' && body.type !== 'magiclink') {
    throw badRequest('validation_failed', `The local stack makes invite and magiclink links only`);
  }
  const link = await makeLink(
    ctx,
    body.type,
    body.email,
    body.data ?? {},
    body.redirect_to ?? new URL(request.url).searchParams.get('redirect_to'),
  );
  const { user, ...properties } = link;
  return json({ ...(await ctx.pg.transaction((tx) => userJson(tx, user))), ...properties });
};
