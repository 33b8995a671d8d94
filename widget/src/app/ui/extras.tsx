import { adoptStyles } from '../../shared/adopt-styles.ts';
import type { Uploader } from './attach.ts';

// Where the app meets its lazily loaded extras (files, emoji, transcript): each is a chunk
// fetched the first time it is used, built with DOM calls and given what it needs from here.

let chat: Uploader;

export const setUploader = (value: Uploader) => {
  chat = value;
};

/** Uploads and sends `files`, or lets the visitor choose them first. */
export const attachFiles = (anchor: HTMLElement, files?: File[]) =>
  import('./attach.ts').then((m) => m.add(anchor, chat, adoptStyles, files));

/** Draws a message's files into `box`. */
export const showFiles = (box: HTMLElement | null, files: unknown) =>
  box && import('./attach.ts').then((m) => m.show(box, files, chat, adoptStyles));

export const toggleEmoji = (button: HTMLButtonElement, label: string) =>
  import('./emoji.ts').then((m) => m.toggle(button, label, adoptStyles));

export const openTranscript = (button: HTMLElement) =>
  import('./transcript.ts').then((m) => m.open(button, chat, adoptStyles));
