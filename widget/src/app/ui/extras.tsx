import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adoptStyles } from '../../shared/adopt-styles.ts';
import type { Attach, Uploader } from './attach.ts';

// Where the app meets its lazily loaded extras (files, emoji, transcript): each chunk is
// fetched the first time it is used and gets Preact from here, so it never splits Preact out of
// the app.

let chat: Uploader;
let attach: Promise<Attach> | undefined;

export const setUploader = (value: Uploader) => {
  chat = value;
};
export const uploader = () => chat;

export const loadAttach = () =>
  (attach ??= import('./attach.ts').then((m) =>
    m.createAttach({ h, useState, useEffect, adopt: adoptStyles, chat }),
  ));

export const attachFiles = (anchor: HTMLElement, files: File[], language: string) =>
  loadAttach().then((a) => a.add(anchor, files, language));

export const toggleEmoji = (button: HTMLButtonElement, label: string) =>
  import('./emoji.ts').then((m) => m.toggle(button, label, adoptStyles));

export const openTranscript = (button: HTMLElement, language: string) =>
  import('./transcript.ts').then((m) => m.open(button, language, chat, adoptStyles));

/** A message's files, drawn by the attachments chunk. */
export function Files({ files }: { files: unknown }) {
  const [loaded, setLoaded] = useState<Attach | null>(null);
  useEffect(() => {
    loadAttach()
      .then((a) => setLoaded(() => a))
      .catch(() => {});
  }, []);
  return loaded && <loaded.Files files={files} />;
}
