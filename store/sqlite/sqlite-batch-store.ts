import type Database from 'better-sqlite3';
import { isChannel, isCore, type Core } from '../../domain/channel';
import { isCurrency } from '../../domain/money';
import {
  BATCH_FILE_STATES,
  type BatchFile,
  type BatchFileState,
  type BatchPaymentRow,
  type BatchStore,
  type NewFileInput,
  type WaitingPayments,
} from '../batch-store-port';

// The batch tables in the hub's SQLite file, on the store's own connection (better-sqlite3 is
// synchronous: each method body is one transaction).

interface FileRow {
  id: bigint;
  name: string;
  core: string;
  business_date: string;
  sequence: bigint;
  state: string;
  record_count: bigint;
  total_pen_minor: bigint;
  total_usd_minor: bigint;
  hash_total: string;
  created_stamp: string;
  sha256: string | null;
  size_bytes: bigint | null;
  attempts: bigint;
  last_error: string | null;
  resend_of: bigint | null;
  superseded_by: bigint | null;
  response_name: string | null;
  response_reason: string | null;
  posted_count: bigint;
  rejected_count: bigint;
  created_at: string;
  sent_at: string | null;
  responded_at: string | null;
  completed_at: string | null;
  alerted_at: string | null;
}

interface PaymentPageRow {
  payment_id: string;
  receipt_number: string;
  channel: string;
  channel_reference: string;
  loan_number: string;
  currency: string;
  amount_minor: bigint;
  applied_at: string;
  core_reference: string | null;
  result: string | null;
}

const HASH_MODULUS = 10n ** 18n;

export function createSqliteBatchStore(db: Database.Database): BatchStore {
  const nextSequence = db.prepare(
    'SELECT COALESCE(MAX(sequence), 0) + 1 AS next FROM batch_files WHERE core = ? AND business_date = ?',
  );
  const insertFile = db.prepare(`INSERT INTO batch_files (name, core, business_date, sequence, state, created_stamp,
    resend_of, created_at) VALUES (?, ?, ?, ?, 'BUILT', ?, ?, ?)`);
  const takeWaiting = db.prepare(`INSERT INTO batch_file_payments (file_id, payment_id, applied_at)
    SELECT @fileId, p.id, COALESCE((SELECT MIN(e.at) FROM payment_events e
      WHERE e.payment_id = p.id AND e.event = 'core_applied'), p.updated_at)
    FROM payments p
    WHERE p.core = @core AND p.business_date = @date AND p.status = 'APPLIED'
      AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)`);
  const takeFromFile = db.prepare(`INSERT INTO batch_file_payments (file_id, payment_id, applied_at)
    SELECT @fileId, b.payment_id, b.applied_at FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id
    WHERE b.file_id = @from AND p.status = 'APPLIED'`);
  // The hash total is the sum of 12-digit loan numbers modulo 10^18; summed in two halves so that no
  // SQL integer overflows however many payments a file holds.
  const totals = db.prepare(`SELECT COUNT(*) AS n,
      COALESCE(SUM(CASE WHEN p.currency = 'PEN' THEN p.amount_minor ELSE 0 END), 0) AS pen,
      COALESCE(SUM(CASE WHEN p.currency = 'USD' THEN p.amount_minor ELSE 0 END), 0) AS usd,
      COALESCE(SUM(CAST(p.loan_number AS INTEGER) / 1000000), 0) AS hi,
      COALESCE(SUM(CAST(p.loan_number AS INTEGER) % 1000000), 0) AS lo
    FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id WHERE b.file_id = ?`);
  const setTotals = db.prepare(
    'UPDATE batch_files SET record_count = ?, total_pen_minor = ?, total_usd_minor = ?, hash_total = ? WHERE id = ?',
  );
  const selectFile = db.prepare('SELECT * FROM batch_files WHERE id = ?');
  const selectFileByName = db.prepare('SELECT * FROM batch_files WHERE name = ?');
  const page = db.prepare(`SELECT b.payment_id, p.receipt_number, p.channel, p.channel_reference, p.loan_number,
      p.currency, p.amount_minor, b.applied_at, p.core_reference, b.result
    FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id
    WHERE b.file_id = ? AND b.payment_id > ? ORDER BY b.payment_id LIMIT ?`);
  const setWritten = db.prepare('UPDATE batch_files SET sha256 = ?, size_bytes = ? WHERE id = ?');
  const setSent = db.prepare(
    "UPDATE batch_files SET state = 'SENT', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
  );
  const setFailed = db.prepare(
    "UPDATE batch_files SET state = 'FAILED', attempts = attempts + 1, last_error = ? WHERE id = ? AND state IN ('BUILT', 'FAILED')",
  );
  const setRefused = db.prepare(`UPDATE batch_files SET state = 'REFUSED', response_name = ?, response_reason = ?,
    responded_at = ? WHERE id = ?`);
  const setAccepted = db.prepare(`UPDATE batch_files SET state = 'ACCEPTED', response_name = ?, responded_at = ?
    WHERE id = ? AND state = 'SENT'`);
  const setResult = db.prepare(
    'UPDATE batch_file_payments SET result = ?, reason = ?, posting_ref = ? WHERE file_id = ? AND payment_id = ?',
  );
  const setComplete = db.prepare(`UPDATE batch_files SET state = 'COMPLETE', completed_at = ?, posted_count = ?,
    rejected_count = ? WHERE id = ?`);
  const setAlerted = db.prepare('UPDATE batch_files SET alerted_at = ? WHERE id = ?');
  const setSuperseded = db.prepare('UPDATE batch_files SET superseded_by = ? WHERE id = ?');
  const waiting = db.prepare(`SELECT COUNT(*) AS n,
      COALESCE(SUM(CASE WHEN currency = 'PEN' THEN amount_minor ELSE 0 END), 0) AS pen,
      COALESCE(SUM(CASE WHEN currency = 'USD' THEN amount_minor ELSE 0 END), 0) AS usd
    FROM payments p WHERE core = ? AND business_date = ? AND status = 'APPLIED'
      AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)`);
  const waitingPage = db.prepare(`SELECT p.id AS payment_id, p.receipt_number, p.channel, p.channel_reference,
      p.loan_number, p.currency, p.amount_minor, COALESCE((SELECT MIN(e.at) FROM payment_events e
        WHERE e.payment_id = p.id AND e.event = 'core_applied'), p.updated_at) AS applied_at,
      p.core_reference, NULL AS result
    FROM payments p WHERE p.core = ? AND p.business_date = ? AND p.status = 'APPLIED' AND p.id > ?
      AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)
    ORDER BY p.id LIMIT ?`);
  const catchUp = db.prepare(`SELECT DISTINCT core, business_date FROM (
      SELECT p.core, p.business_date FROM payments p WHERE p.status = 'APPLIED' AND p.business_date < @before
        AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)
      UNION SELECT core, business_date FROM batch_files
        WHERE state IN ('BUILT', 'FAILED') AND superseded_by IS NULL AND business_date < @before)
    ORDER BY business_date, core`);
  const lease = db.prepare(`INSERT INTO batch_leases (name, holder, until) VALUES (@name, @holder, @until)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE batch_leases.holder = excluded.holder OR batch_leases.until <= @now`);
  const unlease = db.prepare('DELETE FROM batch_leases WHERE name = ? AND holder = ?');
  const counts = db.prepare('SELECT core, state, COUNT(*) AS n FROM batch_files GROUP BY core, state');

  const fileOf = (id: number | bigint): BatchFile => {
    const row = selectFile.get(id) as FileRow | undefined;
    if (!row) throw new Error(`batch file ${id} vanished inside its own transaction`);
    return toFile(row);
  };

  const fillTotals = (fileId: number | bigint): void => {
    const t = totals.get(fileId) as { n: bigint; pen: bigint; usd: bigint; hi: bigint; lo: bigint };
    const hash = (BigInt(t.hi) * 1_000_000n + BigInt(t.lo)) % HASH_MODULUS;
    setTotals.run(t.n, t.pen, t.usd, hash.toString(), fileId);
  };

  const create = db.transaction((input: NewFileInput): BatchFile | null => {
    const seq = Number((nextSequence.get(input.core, input.businessDate) as { next: bigint }).next);
    const info = insertFile.run(
      input.nameFor(seq),
      input.core,
      input.businessDate,
      seq,
      input.createdStamp,
      null,
      input.at,
    );
    const taken = takeWaiting.run({ fileId: info.lastInsertRowid, core: input.core, date: input.businessDate });
    if (taken.changes === 0) throw ROLLBACK_EMPTY;
    fillTotals(info.lastInsertRowid);
    return fileOf(info.lastInsertRowid);
  });

  const resend = db.transaction((fromId: number, input: Omit<NewFileInput, 'core' | 'businessDate'>): BatchFile => {
    const from = selectFile.get(fromId) as FileRow | undefined;
    if (!from) throw new Error(`no batch file ${fromId}`);
    const seq = Number((nextSequence.get(from.core, from.business_date) as { next: bigint }).next);
    const info = insertFile.run(
      input.nameFor(seq),
      from.core,
      from.business_date,
      seq,
      input.createdStamp,
      fromId,
      input.at,
    );
    takeFromFile.run({ fileId: info.lastInsertRowid, from: fromId });
    setSuperseded.run(info.lastInsertRowid, fromId);
    fillTotals(info.lastInsertRowid);
    return fileOf(info.lastInsertRowid);
  });

  const results = db.transaction(
    (
      fileId: number,
      rows: readonly { paymentId: string; result: 'P' | 'R'; reason: string; postingReference: string }[],
    ) => {
      for (const r of rows) setResult.run(r.result, r.reason || null, r.postingReference || null, fileId, r.paymentId);
    },
  );

  return Object.freeze({
    createFile: async (input: NewFileInput) => {
      try {
        return create(input);
      } catch (err) {
        if (err === ROLLBACK_EMPTY) return null;
        throw err;
      }
    },
    createResendFile: async (fromFileId: number, input: Omit<NewFileInput, 'core' | 'businessDate'>) =>
      resend(fromFileId, input),
    getFile: async (id: number) => {
      const row = selectFile.get(id) as FileRow | undefined;
      return row ? toFile(row) : null;
    },
    getFileByName: async (name: string) => {
      const row = selectFileByName.get(name) as FileRow | undefined;
      return row ? toFile(row) : null;
    },
    listFiles: async (filter: { businessDate?: string; core?: Core; states?: readonly BatchFileState[] }) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.businessDate) {
        where.push('business_date = ?');
        args.push(filter.businessDate);
      }
      if (filter.core) {
        where.push('core = ?');
        args.push(filter.core);
      }
      if (filter.states && filter.states.length > 0) {
        where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
        args.push(...filter.states);
      }
      const sql = `SELECT * FROM batch_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY business_date, core, sequence`;
      return (db.prepare(sql).all(...args) as FileRow[]).map(toFile);
    },
    filePayments: (fileId: number, batchSize: number): AsyncIterable<BatchPaymentRow[]> =>
      keysetPages((after) => page.all(fileId, after, batchSize) as PaymentPageRow[], batchSize),
    waitingPaymentRows: (core: Core, businessDate: string, batchSize: number): AsyncIterable<BatchPaymentRow[]> =>
      keysetPages((after) => waitingPage.all(core, businessDate, after, batchSize) as PaymentPageRow[], batchSize),
    nextSequence: async (core: Core, businessDate: string) =>
      Number((nextSequence.get(core, businessDate) as { next: bigint }).next),
    recordWritten: async (fileId: number, sha256: string, sizeBytes: number) => {
      setWritten.run(sha256, sizeBytes, fileId);
    },
    recordSent: async (fileId: number, at: string) => {
      setSent.run(at, fileId);
    },
    recordSendFailure: async (fileId: number, error: string, _at: string) => {
      setFailed.run(error.slice(0, 1000), fileId);
    },
    recordRefused: async (fileId: number, responseName: string, reason: string, at: string) => {
      setRefused.run(responseName, reason, at, fileId);
    },
    recordAccepted: async (fileId: number, responseName: string, at: string) => {
      setAccepted.run(responseName, at, fileId);
    },
    recordResults: async (
      fileId: number,
      rows: readonly { paymentId: string; result: 'P' | 'R'; reason: string; postingReference: string }[],
    ) => {
      results(fileId, rows);
    },
    recordComplete: async (fileId: number, at: string, c: { posted: number; rejected: number }) => {
      setComplete.run(at, c.posted, c.rejected, fileId);
    },
    recordAlerted: async (fileId: number, at: string) => {
      setAlerted.run(at, fileId);
    },
    waitingPayments: async (core: Core, businessDate: string): Promise<WaitingPayments> => {
      const r = waiting.get(core, businessDate) as { n: bigint; pen: bigint; usd: bigint };
      return { count: Number(r.n), totalPen: BigInt(r.pen), totalUsd: BigInt(r.usd) };
    },
    datesToCatchUp: async (before: string) =>
      (catchUp.all({ before }) as { core: string; business_date: string }[]).flatMap((r) =>
        isCore(r.core) ? [{ core: r.core, businessDate: r.business_date }] : [],
      ),
    acquireLease: async (name: string, holder: string, until: Date, now: Date) =>
      lease.run({ name, holder, until: until.toISOString(), now: now.toISOString() }).changes === 1,
    releaseLease: async (name: string, holder: string) => {
      unlease.run(name, holder);
    },
    fileCounts: async () =>
      (counts.all() as { core: string; state: string; n: bigint }[]).flatMap((r) =>
        isCore(r.core) && isState(r.state) ? [{ core: r.core, state: r.state, count: Number(r.n) }] : [],
      ),
  });
}

/** Pages in payment-id order, each read after the last id of the one before: no cursor held open. */
function keysetPages(read: (after: string) => PaymentPageRow[], batchSize: number): AsyncIterable<BatchPaymentRow[]> {
  return {
    async *[Symbol.asyncIterator]() {
      let after = '';
      for (;;) {
        const rows = read(after);
        if (rows.length === 0) return;
        after = rows[rows.length - 1]?.payment_id ?? after;
        yield rows.map(toPaymentRow);
        if (rows.length < batchSize) return;
      }
    },
  };
}

const ROLLBACK_EMPTY = new Error('no payment waiting: roll the new file back');

function isState(s: string): s is BatchFileState {
  return (BATCH_FILE_STATES as readonly string[]).includes(s);
}

function toFile(r: FileRow): BatchFile {
  if (!isCore(r.core) || !isState(r.state)) throw new Error(`batch file ${r.id} has an unreadable row`);
  const n = (v: bigint | null): number | null => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    name: r.name,
    core: r.core,
    businessDate: r.business_date,
    sequence: Number(r.sequence),
    state: r.state,
    recordCount: Number(r.record_count),
    totalPen: BigInt(r.total_pen_minor),
    totalUsd: BigInt(r.total_usd_minor),
    hashTotal: BigInt(r.hash_total),
    createdStamp: r.created_stamp,
    sha256: r.sha256,
    sizeBytes: n(r.size_bytes),
    attempts: Number(r.attempts),
    lastError: r.last_error,
    resendOf: n(r.resend_of),
    supersededBy: n(r.superseded_by),
    responseName: r.response_name,
    responseReason: r.response_reason,
    postedCount: Number(r.posted_count),
    rejectedCount: Number(r.rejected_count),
    createdAt: r.created_at,
    sentAt: r.sent_at,
    respondedAt: r.responded_at,
    completedAt: r.completed_at,
    alertedAt: r.alerted_at,
  };
}

function toPaymentRow(r: PaymentPageRow): BatchPaymentRow {
  if (!isChannel(r.channel) || !isCurrency(r.currency)) {
    throw new Error(`payment ${r.payment_id} has an unreadable row (channel/currency)`);
  }
  return {
    paymentId: r.payment_id,
    receiptNumber: r.receipt_number,
    channel: r.channel,
    channelReference: r.channel_reference,
    loanNumber: r.loan_number,
    currency: r.currency,
    amount: BigInt(r.amount_minor),
    appliedAt: r.applied_at,
    coreReference: r.core_reference ?? '',
    result: r.result === 'P' || r.result === 'R' ? r.result : null,
  };
}
