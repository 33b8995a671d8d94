import type { AuthConfig } from './config.ts';
import { AuthError, badRequest, type WeakPassword } from './errors.ts';

// GoTrue's password policy. Lengths count UTF-8 bytes as Go's len() does, and bcrypt ignores
// everything past 72 bytes, so longer passwords are refused rather than silently truncated.

const MAX_PASSWORD_BYTES = 72;

const byteLength = (text: string) => new TextEncoder().encode(text).length;

/** What is wrong with the password under the current policy, or null when it passes. */
export function passwordWeakness(password: string, config: AuthConfig): WeakPassword | null {
  const reasons: string[] = [];
  const messages: string[] = [];
  if (byteLength(password) < config.minPasswordLength) {
    reasons.push('length');
    messages.push(`Password should be at least ${config.minPasswordLength} characters.`);
  }
  const sets = config.requiredCharacters.filter((set) => set !== '');
  if (sets.some((set) => ![...set].some((char) => password.includes(char)))) {
    reasons.push('characters');
    messages.push(`Password should contain at least one character of each: ${sets.join(', ')}.`);
  }
  return reasons.length ? { message: messages.join(' '), reasons } : null;
}

/** For sign-up and password changes: throws GoTrue's validation_failed or weak_password. */
export function requireStrongPassword(password: string, config: AuthConfig): void {
  if (byteLength(password) > MAX_PASSWORD_BYTES) {
    throw badRequest(
      'validation_failed',
      `Password cannot be longer than ${MAX_PASSWORD_BYTES} characters`,
    );
  }
  const weakness = passwordWeakness(password, config);
  if (weakness) throw new AuthError(422, 'weak_password', weakness.message, weakness);
}
