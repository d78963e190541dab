import type { Migration } from './sqlite-migrations';

// The confirmation webhooks' tables, in the hub's SQLite file (versions 101+; the hub keeps 1..99).
// One delivery row per event per channel endpoint, fed from the outbox; one endpoint row per channel
// that has been disabled by a 410 at least once. Never edit a shipped migration: add the next version.

export const WEBHOOK_MIGRATIONS: readonly Migration[] = [
  {
    version: 101,
    name: 'webhook deliveries and endpoint state',
    sql: `
      CREATE TABLE webhook_deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
      ) STRICT;
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
        WHERE status IN ('pending', 'failed');
      CREATE INDEX webhook_deliveries_by_payment ON webhook_deliveries (payment_id, channel, id);
      CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, channel, id);

      CREATE TABLE webhook_endpoints (
        channel         TEXT PRIMARY KEY,
        disabled_at     TEXT,
        disabled_reason TEXT,
        updated_at      TEXT NOT NULL
      ) STRICT;
    `,
  },
];
