// A message's direction follows its first strong character, as HTML's dir=auto would, but
// decided here so the attribute is explicit ("rtl"/"ltr") and a neutral message keeps the UI's.
const RTL = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/;
const STRONG =
  /[A-Za-z\u00c0-\u02b8\u0370-\u03ff\u0400-\u052f\u0590-\u08ff\u0900-\u1fff\u2c00-\ufb1c\ufb1d-\ufdff\ufe70-\ufefc]/;

export function textDirection(text: string, fallback: 'ltr' | 'rtl'): 'ltr' | 'rtl' {
  const first = STRONG.exec(text)?.[0];
  if (!first) return fallback;
  return RTL.test(first) ? 'rtl' : 'ltr';
}
