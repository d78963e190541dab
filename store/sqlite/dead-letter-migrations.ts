import type { Migration } from './sqlite-migrations';

// The embedded transport's dead letters, in the hub's SQLite file (versions 301+; the hub keeps 1..99,
// webhooks 101+, the batch bridge 201+). One row per lane and message id; see outbox/dead-letter-port.ts
// for the statuses. Never edit a shipped migration: add the next version.

export const DEAD_LETTER_MIGRATIONS: readonly Migration[] = [
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
      ) STRICT;
      CREATE INDEX dead_letters_by_status ON dead_letters (status, dead_at);
      CREATE INDEX dead_letters_by_id ON dead_letters (id);
    `,
  },
];
