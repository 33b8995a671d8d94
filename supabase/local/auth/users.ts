import type { Tx } from './context.ts';

// auth.users and auth.identities: real rows, so triggers on auth.users run as they would on
// Supabase. Passwords are bcrypt hashes made by pgcrypto, the same format GoTrue writes, so users
// created by seed.sql with extensions.crypt() sign in here and the reverse holds too.

export type Metadata = Record<string, unknown>;

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  phone: string | null;
  email_confirmed_at: Date | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  confirmation_sent_at: Date | null;
  invited_at: Date | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Metadata | null;
  raw_user_meta_data: Metadata | null;
  created_at: Date | null;
  updated_at: Date | null;
  banned_until: Date | null;
  is_anonymous: boolean;
}

interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Metadata;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date | null;
  updated_at: Date | null;
  email: string | null;
}

const USER_COLUMNS = `id, aud, role, email, phone, email_confirmed_at, phone_confirmed_at,
  confirmed_at, confirmation_sent_at, invited_at, recovery_sent_at, email_change,
  email_change_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at,
  updated_at, banned_until, is_anonymous`;

/** GoTrue's instance_id for every user of a single-tenant deployment. */
const INSTANCE_ID = '00000000-0000-0000-0000-000000000000';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

export async function findUserById(tx: Tx, id: string): Promise<UserRow | null> {
  if (!isUuid(id)) return null;
  const { rows } = await tx.query<UserRow>(`select ${USER_COLUMNS} from auth.users where id = $1`, [
    id,
  ]);
  return rows[0] ?? null;
}

export async function findUserByEmail(tx: Tx, email: string): Promise<UserRow | null> {
  const { rows } = await tx.query<UserRow>(
    `select ${USER_COLUMNS} from auth.users
      where lower(email) = lower($1) and not is_sso_user
      order by created_at limit 1`,
    [email],
  );
  return rows[0] ?? null;
}

/** Postgres' unique_violation: a concurrent request took the same address first. */
export const isUniqueViolation = (error: unknown) =>
  (error as { code?: unknown } | null)?.code === '23505';

export const isBanned = (user: UserRow) =>
  user.banned_until !== null && user.banned_until.getTime() > Date.now();

/** 'none' when the user has no password at all (anonymous users, users of other providers). */
export async function checkPassword(
  tx: Tx,
  userId: string,
  password: string,
): Promise<'match' | 'mismatch' | 'none'> {
  // Only bcrypt hashes are handed to crypt(): anything else would make it raise, not mismatch.
  const { rows } = await tx.query<{ state: 'match' | 'mismatch' | 'none' }>(
    `select case
       when coalesce(encrypted_password, '') = '' then 'none'
       when encrypted_password !~ '^\\$2[abxy]?\\$[0-9]{2}\\$' then 'mismatch'
       when encrypted_password = extensions.crypt($2, encrypted_password) then 'match'
       else 'mismatch'
     end as state
     from auth.users where id = $1`,
    [userId, password],
  );
  return rows[0]?.state ?? 'none';
}

export interface NewUser {
  id: string;
  email: string | null;
  password: string | null;
  appMetadata: Metadata;
  userMetadata: Metadata;
  isAnonymous: boolean;
  emailConfirmed: boolean;
  confirmationSent: boolean;
}

export async function insertUser(tx: Tx, user: NewUser): Promise<void> {
  await tx.query(
    `insert into auth.users (
       instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
       confirmation_sent_at, raw_app_meta_data, raw_user_meta_data, is_anonymous,
       created_at, updated_at
     ) values (
       $1, $9, 'authenticated', 'authenticated', $2,
       case when $3::text is null then null
            else extensions.crypt($3::text, extensions.gen_salt('bf', 10)) end,
       case when $4 then now() end, case when $5 then now() end,
       $6::jsonb, $7::jsonb, $8, now(), now()
     )`,
    [
      INSTANCE_ID,
      user.email,
      user.password,
      user.emailConfirmed,
      user.confirmationSent,
      JSON.stringify(user.appMetadata),
      JSON.stringify(user.userMetadata),
      user.isAnonymous,
      user.id,
    ],
  );
}

export async function insertIdentity(
  tx: Tx,
  userId: string,
  provider: string,
  identityData: Metadata,
): Promise<void> {
  await tx.query(
    `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at,
       created_at, updated_at)
     values ($1::text, $1::text::uuid, $2::jsonb, $3, now(), now(), now())`,
    [userId, JSON.stringify(identityData), provider],
  );
}

/** Merges into identity_data; false when the user has no identity of that provider. */
export async function patchIdentityData(
  tx: Tx,
  userId: string,
  provider: string,
  patch: Metadata,
): Promise<boolean> {
  const { rows } = await tx.query(
    `update auth.identities set identity_data = identity_data || $3::jsonb, updated_at = now()
      where provider_id = $1 and provider = $2 returning id`,
    [userId, provider, JSON.stringify(patch)],
  );
  return rows.length > 0;
}

/** An empty password removes it, as in GoTrue. */
export async function setPassword(tx: Tx, userId: string, password: string): Promise<void> {
  await tx.query(
    `update auth.users
        set encrypted_password = case when $2::text = '' then null
              else extensions.crypt($2::text, extensions.gen_salt('bf', 10)) end,
            updated_at = now()
      where id = $1`,
    [userId, password],
  );
}

export async function setUserMetadata(tx: Tx, userId: string, metadata: Metadata): Promise<void> {
  await tx.query(
    'update auth.users set raw_user_meta_data = $2::jsonb, updated_at = now() where id = $1',
    [userId, JSON.stringify(metadata)],
  );
}

/** Makes `email` the user's confirmed address; an anonymous user thereby becomes permanent. */
export async function confirmEmail(tx: Tx, userId: string, email: string): Promise<void> {
  await tx.query(
    `update auth.users
        set email = $2, email_change = '', email_change_sent_at = null, is_anonymous = false,
            email_confirmed_at = coalesce(email_confirmed_at, now()),
            raw_user_meta_data = case when email_confirmed_at is null
              then coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb
              else raw_user_meta_data end,
            updated_at = now()
      where id = $1`,
    [userId, email],
  );
}

export async function touchLastSignIn(tx: Tx, userId: string): Promise<void> {
  await tx.query(
    'update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1',
    [userId],
  );
}

/** GoTrue's merge: top-level keys are replaced, and a key set to null is removed. */
export function mergeMetadata(current: Metadata | null, updates: Metadata): Metadata {
  const merged: Metadata = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(updates)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

// Go prints an unset time.Time as its zero value; the optional ones are left out instead.
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const time = (value: Date | null) => (value ? value.toISOString() : GO_ZERO_TIME);
const optionalTime = (key: string, value: Date | null) =>
  value ? { [key]: value.toISOString() } : {};

function identityJson(row: IdentityRow) {
  return {
    identity_id: row.id,
    id: row.provider_id,
    user_id: row.user_id,
    identity_data: row.identity_data,
    provider: row.provider,
    ...optionalTime('last_sign_in_at', row.last_sign_in_at),
    created_at: time(row.created_at),
    updated_at: time(row.updated_at),
    ...(row.email ? { email: row.email } : {}),
  };
}

/** The User object GoTrue returns, identities included. */
export async function userJson(tx: Tx, user: UserRow) {
  const { rows } = await tx.query<IdentityRow>(
    `select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at,
            updated_at, email
       from auth.identities where user_id = $1 order by created_at, id`,
    [user.id],
  );
  return {
    id: user.id,
    aud: user.aud ?? '',
    role: user.role ?? '',
    email: user.email ?? '',
    ...optionalTime('email_confirmed_at', user.email_confirmed_at),
    phone: user.phone ?? '',
    ...optionalTime('phone_confirmed_at', user.phone_confirmed_at),
    ...optionalTime('confirmation_sent_at', user.confirmation_sent_at),
    ...optionalTime('confirmed_at', user.confirmed_at),
    ...optionalTime('invited_at', user.invited_at),
    ...optionalTime('recovery_sent_at', user.recovery_sent_at),
    ...(user.email_change ? { new_email: user.email_change } : {}),
    ...optionalTime('email_change_sent_at', user.email_change_sent_at),
    ...optionalTime('last_sign_in_at', user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    identities: rows.map(identityJson),
    created_at: time(user.created_at),
    updated_at: time(user.updated_at),
    ...optionalTime('banned_until', user.banned_until),
    is_anonymous: user.is_anonymous,
  };
}

export type UserJson = Awaited<ReturnType<typeof userJson>>;
