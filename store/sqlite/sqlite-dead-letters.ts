import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isCore } from '../../domain/channel';
import {
  DeadLetterStoreError,
  assertReplayChoice,
  type DeadLetterStore,
  type HubDeadLetter,
  type ReplayChoice,
} from '../../outbox/dead-letter-port';
import type { AttemptRecord, Lane } from '../../outbox/transport-port';
import { DEAD_LETTER_MIGRATIONS } from './dead-letter-migrations';
import { migrate } from './sqlite-migrations';

// The embedded transport's dead letters in the hub's SQLite file, on a connection of their own (WAL lets
// the CLI read and mark them while the hub runs). synchronous=FULL: a letter must be on disk before the
// transport lets the outbox row go, and dead letters are rare enough that the fsync costs nothing.

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

export interface SqliteDeadLetterOptions {
  readonly file: string;
  /** The CLI refuses to make a database where there was none (a wrong LOANHUB_DATA_DIR). */
  readonly mustExist?: boolean;
  readonly now?: () => Date;
}

export function openSqliteDeadLetters(opts: SqliteDeadLetterOptions): DeadLetterStore {
  if (opts.mustExist === true && !fs.existsSync(opts.file)) {
    throw new DeadLetterStoreError('dead_letter_store_missing', `no hub database at ${opts.file}`);
  }
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  const now = opts.now ?? ((): Date => new Date());
  const db = new Database(opts.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  migrate(db, DEAD_LETTER_MIGRATIONS);

  const upsert = db.prepare(`INSERT INTO dead_letters (lane, id, payment_id, status, reason, attempts, history,
    message, dead_at, updated_at) VALUES (@lane, @id, @paymentId, 'dead', @reason, @attempts, @history, @message,
    @deadAt, @deadAt)
    ON CONFLICT (lane, id) DO UPDATE SET status = 'dead', reason = excluded.reason, attempts = excluded.attempts,
      history = excluded.history, message = excluded.message, dead_at = excluded.dead_at,
      updated_at = excluded.updated_at`);
  const listAll = db.prepare("SELECT * FROM dead_letters WHERE status = 'dead' ORDER BY dead_at, id");
  const listLane = db.prepare("SELECT * FROM dead_letters WHERE status = 'dead' AND lane = ? ORDER BY dead_at, id");
  const byId = db.prepare("SELECT * FROM dead_letters WHERE id = ? AND status = 'dead' ORDER BY dead_at LIMIT 1");
  const markAll = db.prepare(
    "UPDATE dead_letters SET status = 'replay', updated_at = ? WHERE lane = ? AND status = 'dead'",
  );
  const markOne = db.prepare(
    "UPDATE dead_letters SET status = 'replay', updated_at = ? WHERE lane = ? AND id = ? AND status = 'dead'",
  );
  const anyDue = db.prepare("SELECT 1 FROM dead_letters WHERE status = 'replay' LIMIT 1");
  const take = db.prepare(`UPDATE dead_letters SET status = 'replaying', updated_at = @at
    WHERE (lane, id) IN (SELECT lane, id FROM dead_letters WHERE status = 'replay' ORDER BY dead_at, id LIMIT @limit)
    RETURNING *`);
  const settle = db.prepare("DELETE FROM dead_letters WHERE lane = ? AND id = ? AND status = 'replaying'");
  const resume = db.prepare("UPDATE dead_letters SET status = 'replay', updated_at = ? WHERE status = 'replaying'");

  let closed = false;
  const open = (): void => {
    if (closed) throw new DeadLetterStoreError('dead_letter_store_closed', 'the dead-letter store is closed');
  };

  return Object.freeze({
    async add(letter: HubDeadLetter) {
      open();
      upsert.run({
        lane: letter.lane,
        id: letter.id,
        paymentId: letter.message.paymentId,
        reason: letter.reason,
        attempts: letter.attempts,
        history: JSON.stringify(letter.history),
        message: JSON.stringify(letter.message),
        deadAt: letter.deadAt,
      });
    },
    async list(lane?: Lane) {
      open();
      return ((lane === undefined ? listAll.all() : listLane.all(lane)) as Row[]).map(toLetter);
    },
    async find(id: string) {
      open();
      const row = byId.get(id) as Row | undefined;
      return row ? toLetter(row) : null;
    },
    async requestReplay(lane: Lane, which: ReplayChoice) {
      assertReplayChoice(which);
      open();
      const at = now().toISOString();
      const changed = which.all === true ? markAll.run(at, lane) : markOne.run(at, lane, which.id);
      return changed.changes;
    },
    async takeReplays(limit: number) {
      open();
      // a read first: the transport asks every second, and an UPDATE would take the write lock each time
      if (anyDue.get() === undefined) return [];
      const rows = take.all({ at: now().toISOString(), limit }) as Row[];
      return rows.map(toLetter).sort((a, b) => a.deadAt.localeCompare(b.deadAt) || a.id.localeCompare(b.id));
    },
    async settleReplay(lane: Lane, id: string) {
      open();
      settle.run(lane, id);
    },
    async resumeReplays() {
      open();
      return resume.run(now().toISOString()).changes;
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
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
