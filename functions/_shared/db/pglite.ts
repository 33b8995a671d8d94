import type { PGliteInterface } from '@electric-sql/pglite';
import type { Db } from './port.ts';
import { sessionDb } from './session.ts';

// PGlite passes strings through to json/jsonb untouched while postgres.js JSON-encodes them;
// always encoding is the rule the port promises.
const serializers = { 114: JSON.stringify, 3802: JSON.stringify };

/** The instance stays the caller's: close() leaves it open. */
export function createPgliteDb(pg: Pick<PGliteInterface, 'transaction'>): Db {
  return sessionDb({
    transaction: (fn) =>
      pg.transaction((tx) =>
        fn({
          query: async <T>(text: string, params: readonly unknown[] = []) =>
            (await tx.query<T>(text, [...params], { serializers })).rows,
        }),
      ),
    close: async () => {},
  });
}
