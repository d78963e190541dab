import type { PoolClient } from 'pg';
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
import type { PgDatabase } from './pg-pool';

// The batch tables on PostgreSQL (same statements as store/sqlite/sqlite-batch-store.ts, in PostgreSQL's
// words). A new file takes its payments in one transaction; the per-core-and-date advisory lock makes two
// schedulers that race for the same file take turns (the lease already keeps them apart; this is the floor).

interface FileRow {
  id: string;
  name: string;
  core: string;
  business_date: string;
  sequence: number;
  state: string;
  record_count: number;
  total_pen_minor: string;
  total_usd_minor: string;
  hash_total: string;
  created_stamp: string;
  sha256: string | null;
  size_bytes: string | null;
  attempts: number;
  last_error: string | null;
  resend_of: string | null;
  superseded_by: string | null;
  response_name: string | null;
  response_reason: string | null;
  posted_count: number;
  rejected_count: number;
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
  amount_minor: string;
  applied_at: string;
  core_reference: string | null;
  result: string | null;
}

const HASH_MODULUS = 10n ** 18n;
const APPLIED_AT = `COALESCE((SELECT MIN(e.at) FROM payment_events e
  WHERE e.payment_id = p.id AND e.event = 'core_applied'), p.updated_at)`;

type Results = readonly { paymentId: string; result: 'P' | 'R'; reason: string; postingReference: string }[];

export function createPgBatchStore(db: PgDatabase): BatchStore {
  const nextSeq = async (c: PoolClient | PgDatabase, core: string, date: string): Promise<number> => {
    const sql = 'SELECT COALESCE(MAX(sequence), 0) + 1 AS next FROM batch_files WHERE core = $1 AND business_date = $2';
    const rows =
      'tx' in c ? await c.query<{ next: number }>(sql, [core, date]) : (await c.query(sql, [core, date])).rows;
    return Number((rows[0] as { next: number } | undefined)?.next ?? 1);
  };

  const insertFile = async (
    c: PoolClient,
    core: string,
    date: string,
    input: Omit<NewFileInput, 'core' | 'businessDate'>,
    resendOf: number | null,
  ): Promise<string> => {
    // One file number per core and date at a time, across instances.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`batch:${core}:${date}`]);
    const seq = await nextSeq(c, core, date);
    const r = await c.query<{ id: string }>(
      `INSERT INTO batch_files (name, core, business_date, sequence, state, created_stamp, resend_of, created_at)
       VALUES ($1, $2, $3, $4, 'BUILT', $5, $6, $7) RETURNING id`,
      [input.nameFor(seq), core, date, seq, input.createdStamp, resendOf, input.at],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) throw new Error('batch file insert returned no id');
    return id;
  };

  const fillTotals = async (c: PoolClient, fileId: string): Promise<BatchFile> => {
    const t = (
      await c.query<{ n: string; pen: string; usd: string; hash: string }>(
        `SELECT COUNT(*) AS n,
           COALESCE(SUM(CASE WHEN p.currency = 'PEN' THEN p.amount_minor ELSE 0 END), 0) AS pen,
           COALESCE(SUM(CASE WHEN p.currency = 'USD' THEN p.amount_minor ELSE 0 END), 0) AS usd,
           COALESCE(SUM(p.loan_number::numeric), 0) AS hash
         FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id WHERE b.file_id = $1`,
        [fileId],
      )
    ).rows[0];
    if (!t) throw new Error('totals query returned nothing');
    const hash = BigInt(t.hash) % HASH_MODULUS;
    const r = await c.query<FileRow>(
      `UPDATE batch_files SET record_count = $1, total_pen_minor = $2, total_usd_minor = $3, hash_total = $4
       WHERE id = $5 RETURNING *`,
      [Number(t.n), t.pen, t.usd, hash.toString(), fileId],
    );
    const row = r.rows[0];
    if (!row) throw new Error(`batch file ${fileId} vanished inside its own transaction`);
    return toFile(row);
  };

  const one = async (sql: string, params: readonly unknown[]): Promise<BatchFile | null> => {
    const row = (await db.query<FileRow>(sql, params))[0];
    return row ? toFile(row) : null;
  };

  return Object.freeze({
    createFile: async (input: NewFileInput) =>
      db.tx(async (c) => {
        const id = await insertFile(c, input.core, input.businessDate, input, null);
        const taken = await c.query(
          `INSERT INTO batch_file_payments (file_id, payment_id, applied_at)
           SELECT $1, p.id, ${APPLIED_AT} FROM payments p
           WHERE p.core = $2 AND p.business_date = $3 AND p.status = 'APPLIED'
             AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)`,
          [id, input.core, input.businessDate],
        );
        if ((taken.rowCount ?? 0) === 0) {
          await c.query('DELETE FROM batch_files WHERE id = $1', [id]);
          return null;
        }
        return fillTotals(c, id);
      }),
    createResendFile: async (fromFileId: number, input: Omit<NewFileInput, 'core' | 'businessDate'>) =>
      db.tx(async (c) => {
        const from = (await c.query<FileRow>('SELECT * FROM batch_files WHERE id = $1', [fromFileId])).rows[0];
        if (!from) throw new Error(`no batch file ${fromFileId}`);
        const id = await insertFile(c, from.core, from.business_date, input, fromFileId);
        await c.query(
          `INSERT INTO batch_file_payments (file_id, payment_id, applied_at)
           SELECT $1, b.payment_id, b.applied_at FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id
           WHERE b.file_id = $2 AND p.status = 'APPLIED'`,
          [id, fromFileId],
        );
        await c.query('UPDATE batch_files SET superseded_by = $1 WHERE id = $2', [id, fromFileId]);
        return fillTotals(c, id);
      }),
    getFile: (id: number) => one('SELECT * FROM batch_files WHERE id = $1', [id]),
    getFileByName: (name: string) => one('SELECT * FROM batch_files WHERE name = $1', [name]),
    listFiles: async (filter: { businessDate?: string; core?: Core; states?: readonly BatchFileState[] }) => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.businessDate) {
        args.push(filter.businessDate);
        where.push(`business_date = $${args.length}`);
      }
      if (filter.core) {
        args.push(filter.core);
        where.push(`core = $${args.length}`);
      }
      if (filter.states && filter.states.length > 0) {
        args.push(filter.states);
        where.push(`state = ANY($${args.length}::text[])`);
      }
      const sql = `SELECT * FROM batch_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY business_date, core, sequence`;
      return (await db.query<FileRow>(sql, args)).map(toFile);
    },
    filePayments: (fileId: number, batchSize: number): AsyncIterable<BatchPaymentRow[]> =>
      keysetPages(
        (after) =>
          db.query<PaymentPageRow>(
            `SELECT b.payment_id, p.receipt_number, p.channel, p.channel_reference, p.loan_number, p.currency,
               p.amount_minor, b.applied_at, p.core_reference, b.result
             FROM batch_file_payments b JOIN payments p ON p.id = b.payment_id
             WHERE b.file_id = $1 AND b.payment_id > $2 ORDER BY b.payment_id LIMIT $3`,
            [fileId, after, batchSize],
          ),
        batchSize,
      ),
    waitingPaymentRows: (core: Core, businessDate: string, batchSize: number): AsyncIterable<BatchPaymentRow[]> =>
      keysetPages(
        (after) =>
          db.query<PaymentPageRow>(
            `SELECT p.id AS payment_id, p.receipt_number, p.channel, p.channel_reference, p.loan_number,
               p.currency, p.amount_minor, ${APPLIED_AT} AS applied_at, p.core_reference, NULL AS result
             FROM payments p WHERE p.core = $1 AND p.business_date = $2 AND p.status = 'APPLIED' AND p.id > $3
               AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)
             ORDER BY p.id LIMIT $4`,
            [core, businessDate, after, batchSize],
          ),
        batchSize,
      ),
    nextSequence: (core: Core, businessDate: string) => nextSeq(db, core, businessDate),
    recordWritten: async (fileId: number, sha256: string, sizeBytes: number) => {
      await db.query('UPDATE batch_files SET sha256 = $1, size_bytes = $2 WHERE id = $3', [sha256, sizeBytes, fileId]);
    },
    recordSent: async (fileId: number, at: string) => {
      await db.query(
        "UPDATE batch_files SET state = 'SENT', sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2",
        [at, fileId],
      );
    },
    recordSendFailure: async (fileId: number, error: string, _at: string) => {
      await db.query(
        `UPDATE batch_files SET state = 'FAILED', attempts = attempts + 1, last_error = $1
         WHERE id = $2 AND state IN ('BUILT', 'FAILED')`,
        [error.slice(0, 1000), fileId],
      );
    },
    recordRefused: async (fileId: number, responseName: string, reason: string, at: string) => {
      await db.query(
        `UPDATE batch_files SET state = 'REFUSED', response_name = $1, response_reason = $2, responded_at = $3
         WHERE id = $4`,
        [responseName, reason, at, fileId],
      );
    },
    recordAccepted: async (fileId: number, responseName: string, at: string) => {
      await db.query(
        `UPDATE batch_files SET state = 'ACCEPTED', response_name = $1, responded_at = $2 WHERE id = $3 AND state = 'SENT'`,
        [responseName, at, fileId],
      );
    },
    recordResults: async (fileId: number, rows: Results) => {
      if (rows.length === 0) return;
      await db.query(
        `UPDATE batch_file_payments b SET result = r.result, reason = NULLIF(r.reason, ''),
           posting_ref = NULLIF(r.posting_ref, '')
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS r(payment_id, result, reason, posting_ref)
         WHERE b.file_id = $1 AND b.payment_id = r.payment_id`,
        [
          fileId,
          rows.map((r) => r.paymentId),
          rows.map((r) => r.result),
          rows.map((r) => r.reason),
          rows.map((r) => r.postingReference),
        ],
      );
    },
    recordComplete: async (fileId: number, at: string, c: { posted: number; rejected: number }) => {
      await db.query(
        `UPDATE batch_files SET state = 'COMPLETE', completed_at = $1, posted_count = $2, rejected_count = $3
         WHERE id = $4`,
        [at, c.posted, c.rejected, fileId],
      );
    },
    recordAlerted: async (fileId: number, at: string) => {
      await db.query('UPDATE batch_files SET alerted_at = $1 WHERE id = $2', [at, fileId]);
    },
    waitingPayments: async (core: Core, businessDate: string): Promise<WaitingPayments> => {
      const r = (
        await db.query<{ n: string; pen: string; usd: string }>(
          `SELECT COUNT(*) AS n,
             COALESCE(SUM(CASE WHEN currency = 'PEN' THEN amount_minor ELSE 0 END), 0) AS pen,
             COALESCE(SUM(CASE WHEN currency = 'USD' THEN amount_minor ELSE 0 END), 0) AS usd
           FROM payments p WHERE core = $1 AND business_date = $2 AND status = 'APPLIED'
             AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)`,
          [core, businessDate],
        )
      )[0];
      return { count: Number(r?.n ?? 0), totalPen: BigInt(r?.pen ?? 0), totalUsd: BigInt(r?.usd ?? 0) };
    },
    datesToCatchUp: async (before: string) =>
      (
        await db.query<{ core: string; business_date: string }>(
          `SELECT DISTINCT core, business_date FROM (
             SELECT p.core, p.business_date FROM payments p WHERE p.status = 'APPLIED' AND p.business_date < $1
               AND NOT EXISTS (SELECT 1 FROM batch_file_payments b WHERE b.payment_id = p.id)
             UNION SELECT core, business_date FROM batch_files
               WHERE state IN ('BUILT', 'FAILED') AND superseded_by IS NULL AND business_date < $1) d
           ORDER BY business_date, core`,
          [before],
        )
      ).flatMap((r) => (isCore(r.core) ? [{ core: r.core, businessDate: r.business_date }] : [])),
    acquireLease: async (name: string, holder: string, until: Date, now: Date) =>
      (
        await db.query(
          `INSERT INTO batch_leases (name, holder, until) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
           WHERE batch_leases.holder = excluded.holder OR batch_leases.until <= $4 RETURNING 1`,
          [name, holder, until.toISOString(), now.toISOString()],
        )
      ).length === 1,
    releaseLease: async (name: string, holder: string) => {
      await db.query('DELETE FROM batch_leases WHERE name = $1 AND holder = $2', [name, holder]);
    },
    fileCounts: async () =>
      (
        await db.query<{ core: string; state: string; n: string }>(
          'SELECT core, state, COUNT(*) AS n FROM batch_files GROUP BY core, state',
        )
      ).flatMap((r) =>
        isCore(r.core) && isState(r.state) ? [{ core: r.core, state: r.state, count: Number(r.n) }] : [],
      ),
  });
}

function keysetPages(
  read: (after: string) => Promise<PaymentPageRow[]>,
  batchSize: number,
): AsyncIterable<BatchPaymentRow[]> {
  return {
    async *[Symbol.asyncIterator]() {
      let after = '';
      for (;;) {
        const rows = await read(after);
        if (rows.length === 0) return;
        after = rows[rows.length - 1]?.payment_id ?? after;
        yield rows.map(toPaymentRow);
        if (rows.length < batchSize) return;
      }
    },
  };
}

function isState(s: string): s is BatchFileState {
  return (BATCH_FILE_STATES as readonly string[]).includes(s);
}

function toFile(r: FileRow): BatchFile {
  if (!isCore(r.core) || !isState(r.state)) throw new Error(`batch file ${r.id} has an unreadable row`);
  const n = (v: string | null): number | null => (v === null ? null : Number(v));
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
