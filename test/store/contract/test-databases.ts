import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { openPgStore } from '../../../store/postgres/pg-store';
import { openSqliteStore } from '../../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../../store/store-port';
import { createPgDeadLetters } from '../../../store/postgres/pg-dead-letters';
import { openSqliteDeadLetters } from '../../../store/sqlite/sqlite-dead-letters';
import type { DeadLetterStore } from '../../../outbox/dead-letter-port';

// The databases every contract runs against: a fresh SQLite file, and a fresh schema of the real
// PostgreSQL that the test command starts (LOANHUB_TEST_PG_URL). Without that URL the PostgreSQL half
// fails: a contract that silently ran on one store would prove nothing about the other.

export interface TestDatabase {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** A store on a database of its own (a new file, or a new schema). */
  open(): Promise<OpenedTestStore>;
}

export interface OpenedTestStore {
  readonly store: PaymentStore;
  readonly deadLetters: DeadLetterStore;
  /** Another store on the same database: a second instance. */
  another(): Promise<PaymentStore>;
  close(): Promise<void>;
}

export function testPgUrl(): string {
  const url = process.env.LOANHUB_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'LOANHUB_TEST_PG_URL is not set: the PostgreSQL contract needs the test servers ' +
        '(npm test starts them; or scripts/test-servers/start.sh and export its output)',
    );
  }
  return url;
}

let counter = 0;
/** A schema name no other test (or jest worker) uses. */
export function freshSchemaName(prefix = 't'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

export const SQLITE: TestDatabase = {
  name: 'SQLite',
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-contract-'));
    const file = path.join(dir, 'hub.db');
    const store = openSqliteStore({ file });
    const deadLetters = openSqliteDeadLetters({ file });
    const others: PaymentStore[] = [];
    return {
      store,
      deadLetters,
      async another() {
        const s = openSqliteStore({ file });
        others.push(s);
        return s;
      },
      async close() {
        for (const s of others) await s.close();
        await deadLetters.close();
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const POSTGRES: TestDatabase = {
  name: 'PostgreSQL',
  async open() {
    const url = testPgUrl();
    const schema = freshSchemaName();
    const store = await openPgStore({ url, schema, max: 4 });
    const deadLetters = createPgDeadLetters(store.db);
    const others: PaymentStore[] = [];
    return {
      store,
      deadLetters,
      async another() {
        const s = await openPgStore({ url, schema, max: 4 });
        others.push(s);
        return s;
      },
      async close() {
        for (const s of others) await s.close();
        await deadLetters.close();
        await store.close();
        await dropSchema(url, schema);
      },
    };
  },
};

export const DATABASES: readonly TestDatabase[] = [SQLITE, POSTGRES];

/**
 * With LOANHUB_TEST_STORE=postgres (the test command's PostgreSQL pass), the environment that points a
 * test hub at a schema of its own in the test PostgreSQL, named after its data dir (a hub restarted on
 * the same data dir finds its rows again, and a CLI given the data dir finds the same schema); else
 * nothing (SQLite in the data dir).
 */
export function testStoreEnv(dataDir: string): { env: NodeJS.ProcessEnv; drop(): Promise<void> } {
  if (process.env.LOANHUB_TEST_STORE !== 'postgres') return { env: {}, drop: async () => undefined };
  const url = testPgUrl();
  const schema = `hub_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 20)}`;
  return { env: { LOANHUB_DB_URL: url, LOANHUB_DB_SCHEMA: schema }, drop: () => dropSchema(url, schema) };
}
