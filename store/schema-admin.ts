import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { Migration } from './schema-version';
import { unknownVersions } from './schema-version';
import { openHubDeadLetters, openHubStore, sqliteFile, type StoreLocation } from './open-store';
import { PG_MIGRATIONS, pgMigrationStatus } from './postgres/pg-migrations';
import { openPgDatabase } from './postgres/pg-pool';
import { BATCH_MIGRATIONS } from './sqlite/batch-migrations';
import { DEAD_LETTER_MIGRATIONS } from './sqlite/dead-letter-migrations';
import { RECON_MIGRATIONS } from './sqlite/recon-migrations';
import { MIGRATIONS } from './sqlite/sqlite-migrations';
import { WEBHOOK_MIGRATIONS } from './sqlite/webhook-migrations';

// What `loanhub db migrate|status` needs: the schema steps of the hub's database, applied or pending,
// and those the database has that this code does not know (a newer LoanHub migrated it).

export interface SchemaReport {
  /** The database, without credentials. */
  readonly where: string;
  readonly applied: readonly { version: number; name: string; appliedAt: string }[];
  readonly pending: readonly Migration[];
  readonly unknown: readonly number[];
}

const SQLITE_MIGRATIONS: readonly Migration[] = [
  ...MIGRATIONS,
  ...WEBHOOK_MIGRATIONS,
  ...BATCH_MIGRATIONS,
  ...DEAD_LETTER_MIGRATIONS,
  ...RECON_MIGRATIONS,
];

function whereOf(loc: StoreLocation): string {
  if (!loc.dbUrl) return `sqlite ${sqliteFile(loc.dataDir)}`;
  try {
    const u = new URL(loc.dbUrl);
    return `postgres ${u.hostname}:${u.port || '5432'}${u.pathname}${loc.schema ? ` schema ${loc.schema}` : ''}`;
  } catch {
    return 'postgres (URL not readable)';
  }
}

/** Applies what is missing (opening the stores runs their migrations) and reports the result. */
export async function migrateHubStore(loc: StoreLocation): Promise<SchemaReport & { ran: number[] }> {
  const before = await describeSchema(loc);
  const opened = await openHubStore(loc);
  await opened.store.close();
  if (!loc.dbUrl) await (await openHubDeadLetters(loc)).close();
  const after = await describeSchema(loc);
  const had = new Set(before.applied.map((a) => a.version));
  return { ...after, ran: after.applied.map((a) => a.version).filter((v) => !had.has(v)) };
}

export async function describeSchema(loc: StoreLocation): Promise<SchemaReport> {
  const where = whereOf(loc);
  if (loc.dbUrl) {
    const db = openPgDatabase({ url: loc.dbUrl, max: 1, ...(loc.schema !== undefined ? { schema: loc.schema } : {}) });
    try {
      const client = await db.pool.connect();
      try {
        return { where, ...(await pgMigrationStatus(client, PG_MIGRATIONS)) };
      } finally {
        client.release();
      }
    } finally {
      await db.close();
    }
  }
  const file = sqliteFile(loc.dataDir);
  if (!fs.existsSync(file)) return { where, applied: [], pending: SQLITE_MIGRATIONS, unknown: [] };
  const db = new Database(file, { readonly: true });
  try {
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    const applied = hasTable
      ? (
          db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
            version: number;
            name: string;
            applied_at: string;
          }[]
        ).map((r) => ({ version: Number(r.version), name: r.name, appliedAt: r.applied_at }))
      : [];
    const done = new Set(applied.map((a) => a.version));
    return {
      where,
      applied,
      pending: SQLITE_MIGRATIONS.filter((m) => !done.has(m.version)),
      unknown: unknownVersions(
        applied.map((a) => a.version),
        SQLITE_MIGRATIONS,
      ),
    };
  } finally {
    db.close();
  }
}
