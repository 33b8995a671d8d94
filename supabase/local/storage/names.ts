import { errors } from './errors.ts';

// What Storage accepts as object keys and bucket names, plus what keeps a key from naming anything
// outside its bucket's folder on disk: no empty, "." or ".." segment, no leading slash, no NUL.

const KEY_CHARACTERS = /^[A-Za-z0-9_/!.*'()&$=@;:+,? -]+$/;
const BUCKET_CHARACTERS = /^[A-Za-z0-9_!.*'()&$=@;:+,? -]+$/;
const MAX_KEY_LENGTH = 1024;

export function checkKey(key: string): string {
  const segments = key.split('/');
  const unsafe = segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (!KEY_CHARACTERS.test(key) || key.length > MAX_KEY_LENGTH || unsafe) {
    throw errors.invalidKey(key);
  }
  return key;
}

export function checkBucketName(name: string): string {
  if (!BUCKET_CHARACTERS.test(name) || name.length > 100 || name === '.' || name === '..') {
    throw errors.invalidBucketName();
  }
  return name;
}

/** Percent-decodes one path taken from a URL; a malformed escape is an invalid key. */
export function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw errors.invalidKey(raw);
  }
}

/** "<bucket>/<key>" from the rest of a URL path, both checked. */
export function bucketAndKey(rest: string): { bucket: string; key: string } {
  const decoded = decodePath(rest);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw errors.invalidKey(decoded);
  return {
    bucket: checkBucketName(decoded.slice(0, slash)),
    key: checkKey(decoded.slice(slash + 1)),
  };
}
