import type { Migration } from '../schema-version';

// Reconciliation's tables on PostgreSQL, the same step number as on SQLite (401; store/sqlite/recon-migrations.ts):
// the same columns, BIGINT for money, ids and counts. Never edit a shipped migration: add the next version.

export const RECON_PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 401,
    name: 'settlement files and lines, core extracts, reconciliation runs, breaks and totals',
    sql: `
      CREATE TABLE recon_settlement_files (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel       TEXT NOT NULL,
        business_date TEXT NOT NULL,
        file_name     TEXT NOT NULL,
        sha256        TEXT NOT NULL,
        size_bytes    BIGINT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('LOADING', 'IMPORTED')),
        lines         INTEGER NOT NULL DEFAULT 0,
        good_lines    INTEGER NOT NULL DEFAULT 0,
        bad_lines     INTEGER NOT NULL DEFAULT 0,
        problems      TEXT NOT NULL DEFAULT '[]',
        imported_at   TEXT NOT NULL,
        superseded_by BIGINT REFERENCES recon_settlement_files (id),
        UNIQUE (channel, sha256)
      );
      CREATE INDEX recon_settlement_files_by_date ON recon_settlement_files (business_date, channel, state);

      CREATE TABLE recon_settlement_lines (
        file_id           BIGINT NOT NULL REFERENCES recon_settlement_files (id) ON DELETE CASCADE,
        line              INTEGER NOT NULL,
        business_date     TEXT NOT NULL,
        channel           TEXT NOT NULL,
        channel_reference TEXT NOT NULL,
        loan_number       TEXT NOT NULL,
        currency          TEXT NOT NULL,
        amount_minor      BIGINT NOT NULL,
        raw               TEXT NOT NULL,
        PRIMARY KEY (file_id, line)
      );
      CREATE INDEX recon_settlement_lines_by_reference ON recon_settlement_lines (channel, channel_reference);

      CREATE TABLE recon_core_extracts (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        core          TEXT NOT NULL,
        business_date TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('LOADING', 'LOADED')),
        format        TEXT NOT NULL,
        evidence      TEXT NOT NULL,
        rows          INTEGER NOT NULL DEFAULT 0,
        loaded_at     TEXT NOT NULL,
        superseded_by BIGINT REFERENCES recon_core_extracts (id)
      );
      CREATE INDEX recon_core_extracts_by_date ON recon_core_extracts (business_date, core, state);

      CREATE TABLE recon_core_rows (
        extract_id     BIGINT NOT NULL REFERENCES recon_core_extracts (id) ON DELETE CASCADE,
        seq            INTEGER NOT NULL,
        payment_id     TEXT NOT NULL,
        kind           TEXT NOT NULL CHECK (kind IN ('APPLIED', 'REVERSED')),
        loan_number    TEXT NOT NULL,
        currency       TEXT NOT NULL,
        amount_minor   BIGINT NOT NULL,
        core_reference TEXT NOT NULL,
        at             TEXT NOT NULL,
        PRIMARY KEY (extract_id, seq)
      );
      CREATE INDEX recon_core_rows_by_payment ON recon_core_rows (payment_id);

      CREATE TABLE recon_runs (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        business_date TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        finished_at   TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('BALANCED', 'UNBALANCED')),
        open_breaks   INTEGER NOT NULL,
        new_breaks    INTEGER NOT NULL,
        closed_breaks INTEGER NOT NULL,
        sources       TEXT NOT NULL
      );
      CREATE INDEX recon_runs_by_date ON recon_runs (business_date, id);

      CREATE TABLE recon_breaks (
        id                TEXT PRIMARY KEY,
        business_date     TEXT NOT NULL,
        type              TEXT NOT NULL,
        severity          TEXT NOT NULL,
        status            TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'closed')),
        break_key         TEXT NOT NULL,
        payment_id        TEXT,
        channel           TEXT,
        channel_reference TEXT,
        core              TEXT,
        evidence          TEXT NOT NULL,
        first_seen_run    BIGINT NOT NULL,
        last_seen_run     BIGINT NOT NULL,
        resolved_note     TEXT,
        resolved_by       TEXT,
        resolved_at       TEXT,
        closed_reason     TEXT,
        closed_at         TEXT
      );
      CREATE INDEX recon_breaks_by_date ON recon_breaks (business_date, status);

      CREATE TABLE recon_totals (
        run_id       BIGINT NOT NULL REFERENCES recon_runs (id),
        source       TEXT NOT NULL,
        channel      TEXT NOT NULL,
        core         TEXT NOT NULL,
        currency     TEXT NOT NULL,
        count        BIGINT NOT NULL,
        amount_minor BIGINT NOT NULL,
        PRIMARY KEY (run_id, source, channel, core, currency)
      );
    `,
  },
];
