import type { h } from 'preact';
import type { useState } from 'preact/hooks';
import type { baseLanguage, format } from '../i18n.ts';

/**
 * What the app hands a lazily loaded part of the window (see parts.ts): importing these in the
 * part's chunk would split them out of the app into a chunk both share.
 */
export interface PartDeps {
  h: typeof h;
  useState: typeof useState;
  baseLanguage: typeof baseLanguage;
  format: typeof format;
}
