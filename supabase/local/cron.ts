import type { BackgroundService, LocalServices } from './services.ts';

export function startCron(_services: LocalServices): BackgroundService {
  return { stop: async () => {} };
}
