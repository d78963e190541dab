import type { Migration } from './sqlite-migrations';

// The batch bridge's tables (versions 201+; the hub keeps 1..99, webhooks 101+). Never edit a shipped
// migration: add the next version.

export const BATCH_MIGRATIONS: readonly Migration[] = [
  {
    version: 201,
    name: 'mainframe files, the payments in each, runner leases',
    sql: `
      CREATE TABLE batch_files (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        name            TEXT NOT NULL UNIQUE,
        core            TEXT NOT NULL,
        business_date   TEXT NOT NULL,
        sequence        INTEGER NOT NULL CHECK (sequence BETWEEN 1 AND 99),
        state           TEXT NOT NULL
                        CHECK (state IN ('BUILT', 'SENT', 'ACCEPTED', 'REFUSED', 'COMPLETE', 'FAILED')),
        record_count    INTEGER NOT NULL DEFAULT 0,
        total_pen_minor INTEGER NOT NULL DEFAULT 0,
        total_usd_minor INTEGER NOT NULL DEFAULT 0,
        hash_total      TEXT NOT NULL DEFAULT '0',
        created_stamp   TEXT NOT NULL,
        sha256          TEXT,
        size_bytes      INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        resend_of       INTEGER REFERENCES batch_files (id),
        superseded_by   INTEGER REFERENCES batch_files (id),
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
      ) STRICT;
      CREATE INDEX batch_files_by_state ON batch_files (state, business_date);

      CREATE TABLE batch_file_payments (
        file_id     INTEGER NOT NULL REFERENCES batch_files (id),
        payment_id  TEXT NOT NULL REFERENCES payments (id),
        applied_at  TEXT NOT NULL,
        result      TEXT CHECK (result IN ('P', 'R')),
        reason      TEXT,
        posting_ref TEXT,
        PRIMARY KEY (file_id, payment_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX batch_file_payments_by_payment ON batch_file_payments (payment_id);

      CREATE TABLE batch_leases (
        name   TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until  TEXT NOT NULL
      ) STRICT;
    `,
  },
];
