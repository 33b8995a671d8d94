import { z } from 'zod';

// Request bodies as GoTrue decodes them: unknown fields are ignored, and a JSON null reads like a
// missing field (Go's zero value). A field of the wrong type is a bad_json error.

const text = z.string().nullish();
const metadata = z.record(z.string(), z.unknown()).nullish();

export const signupBody = z.object({
  email: text,
  phone: text,
  password: text,
  data: metadata,
  channel: text,
  code_challenge: text,
  code_challenge_method: text,
});

export const passwordGrantBody = z.object({
  email: text,
  phone: text,
  password: text,
});

export const refreshTokenGrantBody = z.object({
  refresh_token: text,
});

export const userUpdateBody = z.object({
  email: text,
  phone: text,
  // Null or absent leaves the password alone; an empty string is a (too short) new password.
  password: text,
  nonce: text,
  current_password: text,
  data: metadata,
  app_metadata: metadata,
  channel: text,
  code_challenge: text,
  code_challenge_method: text,
});
