import path from 'node:path';
import type { DeadLetterStore } from '../outbox/dead-letter-port';
import type { DeliveryStore } from './delivery-store-port';
import { createPgDeadLetters } from './postgres/pg-dead-letters';
import { openPgStore } from './postgres/pg-store';
import { openSqliteDeadLetters } from './sqlite/sqlite-dead-letters';
import { openSqliteDeliveryStore } from './sqlite/sqlite-delivery-store';
import { openSqliteStore } from './sqlite/sqlite-store';
import type { PaymentStore } from './store-port';

// Which database the hub uses: LOANHUB_DB_URL=postgres://… selects PostgreSQL; unset keeps the embedded
// SQLite file `${dataDir}/hub.db`. The only place that picks a dialect; everything else sees the ports.

export interface StoreLocation {
  readonly dataDir: string;
  /** postgres:// or postgresql:// URL; undefined for the embedded SQLite file. */
  readonly dbUrl?: string | undefined;
  /** PostgreSQL pool size (LOANHUB_DB_POOL_MAX). */
  readonly poolMax?: number;
  /** PostgreSQL schema (tests: one per hub). */
  readonly schema?: string;
}

export interface OpenedStore {
  readonly store: PaymentStore;
  /** The in-process transport's dead letters, in the same database. */
  openDeadLetters(opts?: { mustExist?: boolean }): DeadLetterStore;
}

export function sqliteFile(dataDir: string): string {
  return path.join(dataDir, 'hub.db');
}

export async function openHubStore(where: StoreLocation): Promise<OpenedStore> {
  if (where.dbUrl) {
    if (!isPostgresUrl(where.dbUrl)) throw new Error('LOANHUB_DB_URL must be a postgres:// or postgresql:// URL');
    const store = await openPgStore({
      url: where.dbUrl,
      ...(where.poolMax !== undefined ? { max: where.poolMax } : {}),
      ...(where.schema !== undefined ? { schema: where.schema } : {}),
    });
    return { store, openDeadLetters: () => createPgDeadLetters(store.db) };
  }
  const file = sqliteFile(where.dataDir);
  const store = openSqliteStore({ file });
  return {
    store,
    openDeadLetters: (opts = {}) => openSqliteDeadLetters({ file, mustExist: opts.mustExist === true }),
  };
}

/** The delivery table alone, for the CLI next to a running hub; closing it closes what it opened. */
export async function openHubDeliveries(where: StoreLocation): Promise<DeliveryStore> {
  if (where.dbUrl) {
    const store = await openPgStore({
      url: where.dbUrl,
      max: 2,
      ...(where.schema !== undefined ? { schema: where.schema } : {}),
    });
    return Object.freeze({ ...store.deliveries, close: () => store.close() });
  }
  return openSqliteDeliveryStore({ file: sqliteFile(where.dataDir) });
}

/** The dead letters alone, for `loanhub dlq`; closing it closes what it opened. */
export async function openHubDeadLetters(
  where: StoreLocation,
  opts: { mustExist?: boolean } = {},
): Promise<DeadLetterStore> {
  if (where.dbUrl) {
    const store = await openPgStore({
      url: where.dbUrl,
      max: 2,
      ...(where.schema !== undefined ? { schema: where.schema } : {}),
    });
    const letters = createPgDeadLetters(store.db);
    return Object.freeze({
      ...letters,
      close: async () => {
        await letters.close();
        await store.close();
      },
    });
  }
  return openSqliteDeadLetters({ file: sqliteFile(where.dataDir), mustExist: opts.mustExist === true });
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}
