import type { BackgroundService, LocalServices } from './services.ts';

export function startNetDrainer(_services: LocalServices): BackgroundService {
  return { stop: async () => {} };
}
