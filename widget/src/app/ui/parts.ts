import { signal } from '@preact/signals';
import { type FunctionComponent, h } from 'preact';
import { useState } from 'preact/hooks';
import { adoptStyles } from '../../shared/adopt-styles.ts';
import { baseLanguage, format } from '../i18n.ts';
import type { CsatProps } from './csat.ts';
import type { PartDeps } from './part-deps.ts';
import type { PrechatProps } from './prechat.ts';

// Parts of the window most visitors never see (the pre-chat form, the closing survey) are chunks
// of their own, with their styles. Each is fetched ahead of need (`preload`), and `part` holds
// its component once it has arrived; what the part needs from the app comes as arguments.

interface PartModule<P> {
  CSS: string;
  create(deps: PartDeps): FunctionComponent<P>;
}

let root: ShadowRoot | undefined;

/** The shadow root the parts' styles go into (the app's). */
export const setPartsRoot = (value: ShadowRoot) => {
  root = value;
};

function lazyPart<P>(load: () => Promise<PartModule<P>>) {
  const part = signal<FunctionComponent<P> | null>(null);
  /** Set when the chunk could not be fetched, so whoever waits for it stops waiting. */
  const failed = signal(false);
  let loading: Promise<void> | undefined;
  const preload = () => {
    loading ??= load().then(
      (m) => {
        if (root) adoptStyles(root, m.CSS);
        part.value = m.create({ h, useState, baseLanguage, format });
        failed.value = false;
      },
      (error) => {
        // The next need tries again.
        loading = undefined;
        failed.value = true;
        console.warn('[parley] a part of the chat could not be loaded', error);
      },
    );
    return loading;
  };
  return { part, failed, preload };
}

export const prechatPart = lazyPart<PrechatProps>(() => import('./prechat.ts'));
export const csatPart = lazyPart<CsatProps>(() => import('./csat.ts'));
