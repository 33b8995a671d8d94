import { m } from './messages.ts';

export const percent = (rate: string | null | undefined) =>
  rate === null || rate === undefined ? '–' : `${Math.round(Number(rate) * 1000) / 10}%`;

export const millis = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–' : m('ms', { ms });
