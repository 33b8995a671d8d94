import { defineConfig } from 'vitest/config';

// `npm run test:n8n`: a real n8n, installed once into a cache folder, outside `npm test` because
// the install is large.
export default defineConfig({
  test: {
    include: ['tests/n8n/e2e/*.e2e.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    // The first run installs n8n (several minutes) before anything else happens.
    hookTimeout: 3_600_000,
  },
});
