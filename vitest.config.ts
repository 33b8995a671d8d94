import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Each file opens its own in-memory Postgres (PGlite); two at a time fits a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    // A worker runs its files one after another in one process: PGlite's WebAssembly, the
    // clients and the test helpers are compiled and imported once per worker, not once per file
    // (a third of the database tests' time). Files isolate themselves by tenant and database, and
    // restore whatever global they stub.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
