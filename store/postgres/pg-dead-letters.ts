import { isCore } from '../../domain/channel';
import {
  DeadLetterStoreError,
  assertReplayChoice,
  type DeadLetterStore,
  type HubDeadLetter,
  type ReplayChoice,
} from '../../outbox/dead-letter-port';
import type { AttemptRecord, Lane } from '../../outbox/transport-port';
import type { PgDatabase } from './pg-pool';

// The in-process transport's dead letters on PostgreSQL (table dead_letters, migration 301), on the
// payment store's pool. takeReplays uses FOR UPDATE SKIP LOCKED, so two hubs never replay one letter.

interface Row {
  lane: string;
  id: string;
  payment_id: string;
  status: string;
  reason: string;
  attempts: number;
  history: string;
  message: string;
  dead_at: string;
}

export function createPgDeadLetters(db: PgDatabase, opts: { now?: () => Date } = {}): DeadLetterStore {
  const now = opts.now ?? ((): Date => new Date());
  let closed = false;
  const open = (): void => {
    if (closed) throw new DeadLetterStoreError('dead_letter_store_closed', 'the dead-letter store is closed');
  };
  return Object.freeze({
    async add(letter: HubDeadLetter) {
      open();
      await db.query(
        `INSERT INTO dead_letters (lane, id, payment_id, status, reason, attempts, history, message, dead_at,
           updated_at) VALUES ($1, $2, $3, 'dead', $4, $5, $6, $7, $8, $8)
         ON CONFLICT (lane, id) DO UPDATE SET status = 'dead', reason = excluded.reason,
           attempts = excluded.attempts, history = excluded.history, message = excluded.message,
           dead_at = excluded.dead_at, updated_at = excluded.updated_at`,
        [
          letter.lane,
          letter.id,
          letter.message.paymentId,
          letter.reason,
          letter.attempts,
          JSON.stringify(letter.history),
          JSON.stringify(letter.message),
          letter.deadAt,
        ],
      );
    },
    async list(lane?: Lane) {
      open();
      const rows =
        lane === undefined
          ? await db.query<Row>("SELECT * FROM dead_letters WHERE status = 'dead' ORDER BY dead_at, id")
          : await db.query<Row>("SELECT * FROM dead_letters WHERE status = 'dead' AND lane = $1 ORDER BY dead_at, id", [
              lane,
            ]);
      return rows.map(toLetter);
    },
    async find(id: string) {
      open();
      const row = (
        await db.query<Row>("SELECT * FROM dead_letters WHERE id = $1 AND status = 'dead' ORDER BY dead_at LIMIT 1", [
          id,
        ])
      )[0];
      return row ? toLetter(row) : null;
    },
    async requestReplay(lane: Lane, which: ReplayChoice) {
      assertReplayChoice(which);
      open();
      const at = now().toISOString();
      const rows =
        which.all === true
          ? await db.query(
              "UPDATE dead_letters SET status = 'replay', updated_at = $1 WHERE lane = $2 AND status = 'dead' RETURNING 1",
              [at, lane],
            )
          : await db.query(
              `UPDATE dead_letters SET status = 'replay', updated_at = $1 WHERE lane = $2 AND id = $3
               AND status = 'dead' RETURNING 1`,
              [at, lane, which.id],
            );
      return rows.length;
    },
    async takeReplays(limit: number) {
      open();
      const rows = await db.query<Row>(
        `UPDATE dead_letters d SET status = 'replaying', updated_at = $1
         FROM (SELECT lane, id FROM dead_letters WHERE status = 'replay' ORDER BY dead_at, id LIMIT $2
               FOR UPDATE SKIP LOCKED) due
         WHERE d.lane = due.lane AND d.id = due.id RETURNING d.*`,
        [now().toISOString(), limit],
      );
      return rows.map(toLetter).sort((a, b) => a.deadAt.localeCompare(b.deadAt) || a.id.localeCompare(b.id));
    },
    async settleReplay(lane: Lane, id: string) {
      open();
      await db.query("DELETE FROM dead_letters WHERE lane = $1 AND id = $2 AND status = 'replaying'", [lane, id]);
    },
    async resumeReplays() {
      open();
      return (
        await db.query(
          "UPDATE dead_letters SET status = 'replay', updated_at = $1 WHERE status = 'replaying' RETURNING 1",
          [now().toISOString()],
        )
      ).length;
    },
    // The pool belongs to the payment store.
    async close() {
      closed = true;
    },
  });
}

function toLetter(row: Row): HubDeadLetter {
  const lane = row.lane;
  if (lane !== 'results' && !isCore(lane)) {
    throw new DeadLetterStoreError('dead_letter_unreadable', `dead letter ${row.id} has an unknown lane ${lane}`);
  }
  let message: HubDeadLetter['message'];
  let history: AttemptRecord[];
  try {
    message = JSON.parse(row.message) as HubDeadLetter['message'];
    history = JSON.parse(row.history) as AttemptRecord[];
  } catch (err) {
    throw new DeadLetterStoreError('dead_letter_unreadable', `dead letter ${row.id} has an unreadable row`, {
      cause: err,
    });
  }
  return {
    id: row.id,
    lane,
    reason: row.reason,
    attempts: Number(row.attempts),
    history,
    deadAt: row.dead_at,
    message,
  };
}
