import type { AuthContext, Handler } from './context.ts';
import { validateEmail } from './email.ts';
import { badRequest, unprocessable } from './errors.ts';
import { json, readBody } from './http.ts';
import { requireStrongPassword } from './passwords.ts';
import { signupBody } from './schemas.ts';
import { sessionResponse } from './session-response.ts';
import { startSession } from './sessions.ts';
import {
  findUserByEmail,
  findUserById,
  insertIdentity,
  insertUser,
  isUniqueViolation,
  type Metadata,
  userJson,
} from './users.ts';
import { sendConfirmation } from './verify.ts';

// POST /signup. Without an email or phone it is an anonymous sign-in (every widget visitor is
// one). With confirmations off the new user gets a session at once; with them on, GoTrue mails a
// confirmation link, which the local stack prints to its log instead (verify.ts).

const signupDisabled = () =>
  unprocessable('signup_disabled', 'Signups not allowed for this instance');

const userAgent = (request: Request) => request.headers.get('user-agent');

function signUpAnonymously(request: Request, ctx: AuthContext, data: Metadata) {
  if (!ctx.config.anonymousEnabled) {
    throw unprocessable('anonymous_provider_disabled', 'Anonymous sign-ins are disabled');
  }
  ctx.rateLimit('anonymous_users');
  if (!ctx.config.signupEnabled) throw signupDisabled();
  return ctx.pg.transaction(async (tx) => {
    const id = crypto.randomUUID();
    await insertUser(tx, {
      id,
      email: null,
      password: null,
      appMetadata: {},
      userMetadata: data,
      isAnonymous: true,
      emailConfirmed: false,
      confirmationSent: false,
    });
    const grant = await startSession(tx, id, 'anonymous', userAgent(request));
    return sessionResponse(tx, ctx, grant);
  });
}

/** What GoTrue answers for an existing address when it must not reveal that it exists. */
function obfuscatedUser(email: string, data: Metadata) {
  const now = new Date().toISOString();
  return {
    id: crypto.randomUUID(),
    aud: 'authenticated',
    role: 'authenticated',
    email,
    phone: '',
    confirmation_sent_at: now,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: data,
    identities: [],
    created_at: now,
    updated_at: now,
    is_anonymous: false,
  };
}

async function signUpWithEmail(
  request: Request,
  ctx: AuthContext,
  rawEmail: string,
  password: string,
  data: Metadata,
) {
  const { config } = ctx;
  const email = validateEmail(rawEmail);
  const alreadyRegistered = () => unprocessable('user_already_exists', 'User already registered');
  try {
    return await ctx.pg.transaction(async (tx) => {
      if (await findUserByEmail(tx, email)) {
        if (config.mailerAutoconfirm) throw alreadyRegistered();
        return json(obfuscatedUser(email, data));
      }
      const id = crypto.randomUUID();
      // GoTrue seeds user_metadata from the identity: sub, email and the verification flags,
      // plus the caller's data where it does not clash.
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
        password,
        appMetadata: { provider: 'email', providers: ['email'] },
        userMetadata: { ...identityData, email_verified: config.mailerAutoconfirm },
        isAnonymous: false,
        emailConfirmed: config.mailerAutoconfirm,
        confirmationSent: !config.mailerAutoconfirm,
      });
      await insertIdentity(tx, id, 'email', identityData);
      if (config.mailerAutoconfirm) {
        const grant = await startSession(tx, id, 'password', userAgent(request));
        return sessionResponse(tx, ctx, grant);
      }
      await sendConfirmation(
        tx,
        ctx,
        id,
        email,
        new URL(request.url).searchParams.get('redirect_to'),
      );
      const user = await findUserById(tx, id);
      if (!user) throw new Error(`user ${id} vanished after sign-up`);
      return json(await userJson(tx, user));
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw alreadyRegistered();
    throw error;
  }
}

export const signup: Handler = async (request, ctx) => {
  const body = await readBody(request, signupBody);
  const email = body.email ?? '';
  const phone = body.phone ?? '';
  const data = body.data ?? {};
  if (!email && !phone) return signUpAnonymously(request, ctx, data);
  ctx.rateLimit('sign_in_sign_ups');

  if (!ctx.config.signupEnabled) throw signupDisabled();
  const password = body.password ?? '';
  if (!password) throw badRequest('validation_failed', 'Signup requires a valid password');
  requireStrongPassword(password, ctx.config);
  if (email && phone) {
    throw badRequest(
      'validation_failed',
      'Only an email address or phone number should be provided on signup.',
    );
  }
  if (!email) throw badRequest('phone_provider_disabled', 'Phone signups are disabled');
  if (!ctx.config.emailEnabled) {
    throw badRequest('email_provider_disabled', 'Email signups are disabled');
  }
  return signUpWithEmail(request, ctx, email, password, data);
};
