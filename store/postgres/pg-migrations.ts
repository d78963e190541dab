import type { PoolClient } from 'pg';
import { assertNotNewer, unknownVersions, type Migration } from '../schema-version';
import { RECON_PG_MIGRATIONS } from './recon-pg-migrations';

// The hub's tables on PostgreSQL, with the same version numbers as the SQLite migrations (1..99 the hub,
// 101+ webhooks, 201+ batch, 301+ dead letters), so one number names one schema step on both.
// Timestamps are the ISO-8601 UTC text the hub writes (fixed width, so they compare as text), exactly as
// on SQLite: one set of values round-trips through both stores unchanged. Money is BIGINT minor units.
// Never edit a shipped migration: add the next version.

export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'payments, idempotency keys, outbox, payment events',
    sql: `
      CREATE TABLE payments (
        id                TEXT PRIMARY KEY,
        receipt_number    TEXT NOT NULL UNIQUE,
        channel           TEXT NOT NULL,
        client_id         TEXT NOT NULL,
        channel_reference TEXT NOT NULL,
        loan_number       TEXT NOT NULL,
        core              TEXT NOT NULL,
        amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
        currency          TEXT NOT NULL CHECK (currency IN ('PEN', 'USD')),
        business_date     TEXT NOT NULL,
        status            TEXT NOT NULL,
        reason            TEXT,
        core_reference    TEXT,
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      );
      CREATE INDEX payments_by_reference ON payments (channel, channel_reference);
      CREATE INDEX payments_by_date ON payments (business_date, core, status);

      CREATE TABLE idempotency_keys (
        client_id       TEXT NOT NULL,
        key             TEXT NOT NULL,
        fingerprint     TEXT NOT NULL,
        payment_id      TEXT NOT NULL REFERENCES payments (id),
        response_status INTEGER NOT NULL,
        response_body   TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        expires_at      TEXT NOT NULL,
        PRIMARY KEY (client_id, key)
      );
      CREATE INDEX idempotency_by_expiry ON idempotency_keys (expires_at);

      CREATE TABLE outbox (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic           TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        payment_id      TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        lease_until     TEXT,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        sent_at         TEXT
      );
      -- partial: the claim reads only pending rows, and sent rows are the vast majority
      CREATE INDEX outbox_due ON outbox (topic, next_attempt_at, id) WHERE status = 'pending';

      CREATE TABLE payment_events (
        id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        payment_id  TEXT NOT NULL REFERENCES payments (id),
        from_status TEXT,
        to_status   TEXT NOT NULL,
        event       TEXT NOT NULL,
        reason      TEXT,
        at          TEXT NOT NULL
      );
      CREATE INDEX payment_events_by_payment ON payment_events (payment_id, id);
    `,
  },
  {
    version: 2,
    name: 'running daily totals per channel, loan, business date and currency',
    sql: `
      CREATE TABLE daily_totals (
        channel       TEXT NOT NULL,
        loan_number   TEXT NOT NULL,
        business_date TEXT NOT NULL,
        currency      TEXT NOT NULL,
        taken_minor   BIGINT NOT NULL,
        PRIMARY KEY (channel, loan_number, business_date, currency)
      );
    `,
  },
  {
    version: 3,
    name: 'idempotency keys in flight, with a lease',
    sql: `
      CREATE TABLE idempotency_in_flight (
        client_id TEXT NOT NULL,
        key       TEXT NOT NULL,
        holder    TEXT NOT NULL,
        until     TEXT NOT NULL,
        PRIMARY KEY (client_id, key)
      );
    `,
  },
  {
    version: 4,
    name: 'payments of a date in payment-id order, for the night file',
    // See the SQLite migration of the same version: a page of the night's file is a range seek.
    sql: `
      DROP INDEX payments_by_date;
      CREATE INDEX payments_by_date ON payments (business_date, core, status, id);
    `,
  },
  {
    version: 101,
    name: 'webhook deliveries and endpoint state',
    sql: `
      CREATE TABLE webhook_deliveries (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id        TEXT NOT NULL,
        event_type      TEXT NOT NULL,
        channel         TEXT NOT NULL,
        payment_id      TEXT NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL
                        CHECK (status IN ('pending', 'failed', 'delivered', 'dead', 'skipped_no_endpoint')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        lease_until     TEXT,
        first_failed_at TEXT,
        last_status     INTEGER,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        delivered_at    TEXT,
        UNIQUE (event_id, channel)
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
        WHERE status IN ('pending', 'failed');
      CREATE INDEX webhook_deliveries_by_payment ON webhook_deliveries (payment_id, channel, id);
      CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, channel, id);

      CREATE TABLE webhook_endpoints (
        channel         TEXT PRIMARY KEY,
        disabled_at     TEXT,
        disabled_reason TEXT,
        updated_at      TEXT NOT NULL
      );
    `,
  },
  {
    version: 201,
    name: 'mainframe files, the payments in each, runner leases',
    sql: `
      CREATE TABLE batch_files (
        id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        core            TEXT NOT NULL,
        business_date   TEXT NOT NULL,
        sequence        INTEGER NOT NULL CHECK (sequence BETWEEN 1 AND 99),
        state           TEXT NOT NULL
                        CHECK (state IN ('BUILT', 'SENT', 'ACCEPTED', 'REFUSED', 'COMPLETE', 'FAILED')),
        record_count    INTEGER NOT NULL DEFAULT 0,
        total_pen_minor BIGINT NOT NULL DEFAULT 0,
        total_usd_minor BIGINT NOT NULL DEFAULT 0,
        hash_total      TEXT NOT NULL DEFAULT '0',
        created_stamp   TEXT NOT NULL,
        sha256          TEXT,
        size_bytes      BIGINT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        resend_of       BIGINT REFERENCES batch_files (id),
        superseded_by   BIGINT REFERENCES batch_files (id),
        response_name   TEXT,
        response_reason TEXT,
        posted_count    INTEGER NOT NULL DEFAULT 0,
        rejected_count  INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        sent_at         TEXT,
        responded_at    TEXT,
        completed_at    TEXT,
        alerted_at      TEXT,
        UNIQUE (core, business_date, sequence)
      );
      CREATE INDEX batch_files_by_state ON batch_files (state, business_date);

      CREATE TABLE batch_file_payments (
        file_id     BIGINT NOT NULL REFERENCES batch_files (id),
        payment_id  TEXT NOT NULL REFERENCES payments (id),
        applied_at  TEXT NOT NULL,
        result      TEXT CHECK (result IN ('P', 'R')),
        reason      TEXT,
        posting_ref TEXT,
        PRIMARY KEY (file_id, payment_id)
      );
      CREATE INDEX batch_file_payments_by_payment ON batch_file_payments (payment_id);

      CREATE TABLE batch_leases (
        name   TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until  TEXT NOT NULL
      );
    `,
  },
  {
    version: 301,
    name: 'dead letters of the in-process transport',
    sql: `
      CREATE TABLE dead_letters (
        lane        TEXT NOT NULL,
        id          TEXT NOT NULL,
        payment_id  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('dead', 'replay', 'replaying')),
        reason      TEXT NOT NULL,
        attempts    INTEGER NOT NULL,
        history     TEXT NOT NULL,
        message     TEXT NOT NULL,
        dead_at     TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (lane, id)
      );
      CREATE INDEX dead_letters_by_status ON dead_letters (status, dead_at);
      CREATE INDEX dead_letters_by_id ON dead_letters (id);
    `,
  },
  ...RECON_PG_MIGRATIONS,
];

export interface MigrationStatus {
  readonly applied: readonly { version: number; name: string; appliedAt: string }[];
  readonly pending: readonly Migration[];
  readonly unknown: readonly number[];
}

const LOCK_KEY = 0x4c4f414e; // 'LOAN': one migrating instance at a time, the others wait and find it done

async function appliedRows(c: PoolClient): Promise<{ version: number; name: string; appliedAt: string }[]> {
  const r = await c.query<{ version: number; name: string; applied_at: string }>(
    'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
  );
  return r.rows.map((x) => ({ version: Number(x.version), name: x.name, appliedAt: x.applied_at }));
}

async function ensureTable(c: PoolClient): Promise<void> {
  await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
}

/**
 * Applies what is missing, each step in its own transaction under an advisory lock, so instances that
 * start together migrate once. Refuses (SchemaTooNewError) a database newer than this code.
 */
export async function migratePg(
  client: PoolClient,
  migrations: readonly Migration[] = PG_MIGRATIONS,
): Promise<number[]> {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await ensureTable(client);
    const applied = await appliedRows(client);
    assertNotNewer(
      applied.map((a) => a.version),
      migrations,
    );
    const done = new Set(applied.map((a) => a.version));
    const ran: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      ran.push(m.version);
    }
    return ran;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
  }
}

export async function pgMigrationStatus(
  client: PoolClient,
  migrations: readonly Migration[] = PG_MIGRATIONS,
): Promise<MigrationStatus> {
  // A read only: a database nothing has migrated yet has no table, and every step is pending.
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
  const applied = exists.rows[0]?.t ? await appliedRows(client) : [];
  const done = new Set(applied.map((a) => a.version));
  return {
    applied,
    pending: migrations.filter((m) => !done.has(m.version)),
    unknown: unknownVersions(
      applied.map((a) => a.version),
      migrations,
    ),
  };
}
