import { authenticate } from './access-token.ts';
import type { Handler } from './context.ts';
import { validateEmail } from './email.ts';
import { AuthError, badRequest, forbidden, unprocessable } from './errors.ts';
import { json, readBody } from './http.ts';
import { requireStrongPassword } from './passwords.ts';
import { userUpdateBody } from './schemas.ts';
import { endSessions } from './sessions.ts';
import {
  checkPassword,
  confirmEmail,
  findUserByEmail,
  findUserById,
  insertIdentity,
  isUniqueViolation,
  mergeMetadata,
  patchIdentityData,
  setPassword,
  setUserMetadata,
  userJson,
} from './users.ts';

// GET and PUT /user for the holder of an access token.
//
// An email change takes effect at once. GoTrue does that only for anonymous users when
// confirmations are off; everyone else gets a confirmation link by mail, and the local stack has
// no mail to send, so it applies the change as if the link had been followed.

export const getUser: Handler = (request, ctx) =>
  ctx.pg.transaction(async (tx) => {
    const { claims, user } = await authenticate(request, ctx, tx);
    const audience = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    if (audience !== 'authenticated') {
      throw badRequest('validation_failed', "Token audience doesn't match request audience");
    }
    return json(await userJson(tx, user));
  });

export const updateUser: Handler = async (request, ctx) => {
  // Authentication comes first, as in GoTrue, so a caller without a token learns nothing more.
  const { user: caller, sessionId } = await ctx.pg.transaction((tx) =>
    authenticate(request, ctx, tx),
  );
  const body = await readBody(request, userUpdateBody);
  const email = body.email ? validateEmail(body.email) : '';
  if (body.phone) {
    throw unprocessable(
      'phone_provider_disabled',
      'Phone changes need the phone provider, which is disabled',
    );
  }
  const password = body.password ?? null;
  if (password !== null) requireStrongPassword(password, ctx.config);
  if (body.app_metadata) {
    throw forbidden('not_admin', 'Updating app_metadata requires admin privileges');
  }

  const emailTaken = () =>
    unprocessable('email_exists', 'A user with this email address has already been registered');

  const update = ctx.pg.transaction(async (tx) => {
    const user = await findUserById(tx, caller.id);
    if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
    if (user.is_anonymous && password && !email) {
      throw unprocessable(
        'validation_failed',
        'Updating password of an anonymous user without an email or phone is not allowed',
      );
    }
    const changesEmail = email !== '' && email !== (user.email ?? '');
    if (changesEmail) {
      const holder = await findUserByEmail(tx, email);
      if (holder && holder.id !== user.id) throw emailTaken();
    }

    if (password !== null) {
      if (password !== '' && (await checkPassword(tx, user.id, password)) === 'match') {
        throw unprocessable(
          'same_password',
          'New password should be different from the old password.',
        );
      }
      await setPassword(tx, user.id, password);
      // Whoever signed in with the old password is signed out everywhere but here.
      await endSessions(tx, user.id, sessionId, sessionId ? 'others' : 'global');
    }
    if (body.data) {
      await setUserMetadata(tx, user.id, mergeMetadata(user.raw_user_meta_data, body.data));
    }
    if (changesEmail) {
      const verified = { email, email_verified: true };
      if (!(await patchIdentityData(tx, user.id, 'email', verified))) {
        await insertIdentity(tx, user.id, 'email', {
          sub: user.id,
          ...verified,
          phone_verified: false,
        });
      }
      await confirmEmail(tx, user.id, email);
    }

    const updated = await findUserById(tx, user.id);
    if (!updated) throw new AuthError(404, 'user_not_found', 'User not found');
    return json(await userJson(tx, updated));
  });
  return update.catch((error: unknown) => {
    throw isUniqueViolation(error) ? emailTaken() : error;
  });
};
