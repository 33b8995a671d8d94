import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { z } from 'zod';

// The settings come from supabase/config.toml, read the way the Supabase CLI turns them into
// GoTrue's environment, so the local stack enforces what a deployed project does. GoTrue's own
// GOTRUE_* variables win over the file, which lets a test shorten an interval without editing it.

export interface AuthConfig {
  /** Access-token lifetime in seconds. */
  jwtExpiry: number;
  signupEnabled: boolean;
  /**
   * The email provider as a whole ([auth.email] enabled, `enable_signup` before CLI 3, which the
   * CLI passes to GoTrue as GOTRUE_EXTERNAL_EMAIL_ENABLED); new users also need signupEnabled.
   */
  emailEnabled: boolean;
  anonymousEnabled: boolean;
  /** Email sign-ups are confirmed at once: [auth.email] enable_confirmations = false. */
  mailerAutoconfirm: boolean;
  minPasswordLength: number;
  /** A password needs at least one character from each of these sets. */
  requiredCharacters: string[];
  refreshTokenRotation: boolean;
  /** Seconds during which a refresh token that was already rotated may still be used. */
  refreshTokenReuseInterval: number;
  /** Where confirmation links lead when no allowed redirect_to was given ([auth] site_url). */
  siteUrl: string;
  /** Other addresses redirect_to may name ([auth] additional_redirect_urls). */
  additionalRedirectUrls: string[];
  /** Seconds a confirmation link stays valid ([auth.email] otp_expiry). */
  otpExpiry: number;
}

// The CLI's password_requirements values, as the character sets GoTrue checks.
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const SYMBOLS = `!@#$%^&*()_+-=[]{};'\\:"|<>?,./\`~`;
const PASSWORD_REQUIREMENTS: Record<string, string[]> = {
  '': [],
  letters_digits: [LOWER + UPPER, DIGITS],
  lower_upper_letters_digits: [LOWER, UPPER, DIGITS],
  lower_upper_letters_digits_symbols: [LOWER, UPPER, DIGITS, SYMBOLS],
};

const fileSchema = z.object({
  auth: z
    .object({
      jwt_expiry: z.number().int().positive().default(3600),
      enable_signup: z.boolean().default(true),
      enable_anonymous_sign_ins: z.boolean().default(false),
      minimum_password_length: z.number().int().nonnegative().default(6),
      password_requirements: z
        .string()
        .refine((value) => Object.hasOwn(PASSWORD_REQUIREMENTS, value), 'unknown requirement')
        .default(''),
      enable_refresh_token_rotation: z.boolean().default(true),
      refresh_token_reuse_interval: z.number().int().nonnegative().default(10),
      site_url: z.string().default('http://127.0.0.1:3000'),
      additional_redirect_urls: z.array(z.string()).default([]),
      email: z
        .object({
          enabled: z.boolean().optional(),
          // The key before CLI 3, still honoured when a project has not renamed it yet.
          enable_signup: z.boolean().optional(),
          enable_confirmations: z.boolean().default(false),
          otp_expiry: z.number().int().positive().default(3600),
        })
        .prefault({}),
    })
    .prefault({}),
});

type Env = Record<string, string | undefined>;

function envBoolean(env: Env, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  // The spellings Go's strconv.ParseBool accepts.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function envInteger(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value))
    throw new Error(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function readAuthConfig(projectDir: string, env: Env): AuthConfig {
  const file = parse(readFileSync(join(projectDir, 'supabase', 'config.toml'), 'utf8'));
  const { auth } = fileSchema.parse(file);
  return {
    jwtExpiry: envInteger(env, 'GOTRUE_JWT_EXP') ?? auth.jwt_expiry,
    signupEnabled: !(envBoolean(env, 'GOTRUE_DISABLE_SIGNUP') ?? !auth.enable_signup),
    emailEnabled:
      envBoolean(env, 'GOTRUE_EXTERNAL_EMAIL_ENABLED') ??
      auth.email.enabled ??
      auth.email.enable_signup ??
      true,
    anonymousEnabled:
      envBoolean(env, 'GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED') ?? auth.enable_anonymous_sign_ins,
    mailerAutoconfirm:
      envBoolean(env, 'GOTRUE_MAILER_AUTOCONFIRM') ?? !auth.email.enable_confirmations,
    minPasswordLength:
      envInteger(env, 'GOTRUE_PASSWORD_MIN_LENGTH') ?? auth.minimum_password_length,
    requiredCharacters: PASSWORD_REQUIREMENTS[auth.password_requirements] ?? [],
    refreshTokenRotation:
      envBoolean(env, 'GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED') ??
      auth.enable_refresh_token_rotation,
    refreshTokenReuseInterval:
      envInteger(env, 'GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL') ??
      auth.refresh_token_reuse_interval,
    siteUrl: env.GOTRUE_SITE_URL || auth.site_url,
    additionalRedirectUrls: auth.additional_redirect_urls,
    otpExpiry: envInteger(env, 'GOTRUE_MAILER_OTP_EXP') ?? auth.email.otp_expiry,
  };
}
