import type { PoolClient } from 'pg';
import { isChannel, isCore, type Channel } from '../../domain/channel';
import { isCurrency, minorUnits } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import { PAYMENT_STATUSES, transition, type PaymentStatus } from '../../domain/payment-state';
import type {
  AcceptOutcome,
  AcceptPaymentInput,
  IdempotencyRecord,
  NewOutboxRow,
  OutboxRow,
  OutboxStats,
  OutboxTopic,
  PaymentStore,
  RecordEventInput,
  RecordEventOutcome,
} from '../store-port';
import { createPgBatchStore } from './pg-batch-store';
import { createPgReconStore } from './recon-pg-store';
import { createPgDeliveryStore } from './pg-delivery-store';
import { createPgReportStore } from './pg-report-store';
import { migratePg } from './pg-migrations';
import { ensureSchema, openPgDatabase, type PgDatabase, type PgSettings } from './pg-pool';

// The production store: PostgreSQL through a pool (pg). Each port method is one short transaction that
// only talks to the database. Idempotency across instances rests on the primary key of
// idempotency_keys: two instances racing with one key both try the INSERT … ON CONFLICT DO NOTHING,
// the second waits for the first's commit and then finds its row. Outbox claims use
// FOR UPDATE SKIP LOCKED, so relays on several instances take disjoint rows without waiting.

interface PaymentRow {
  id: string;
  receipt_number: string;
  channel: string;
  client_id: string;
  channel_reference: string;
  loan_number: string;
  core: string;
  amount_minor: string;
  currency: string;
  business_date: string;
  status: string;
  reason: string | null;
  core_reference: string | null;
  created_at: string;
  updated_at: string;
}

interface IdempotencyRow {
  client_id: string;
  key: string;
  fingerprint: string;
  payment_id: string;
  response_status: number;
  response_body: string;
  created_at: string;
  expires_at: string;
}

interface OutboxDbRow {
  id: string;
  topic: string;
  message_id: string;
  payment_id: string;
  payload: string;
  attempts: number;
  created_at: string;
}

/** Thrown out of a transaction to roll it back on purpose, carrying the answer. */
class Outcome<T> {
  constructor(readonly value: T) {}
}

export interface PgStoreOptions extends PgSettings {
  /** Run the migrations at open (default true; `loanhub db migrate` runs them on its own). */
  readonly migrate?: boolean;
}

export async function openPgStore(opts: PgStoreOptions): Promise<PaymentStore & { readonly db: PgDatabase }> {
  if (opts.schema !== undefined) await ensureSchema(opts.url, opts.schema);
  const db = openPgDatabase(opts);
  try {
    if (opts.migrate !== false) {
      const client = await db.pool.connect();
      try {
        await migratePg(client);
      } finally {
        client.release();
      }
    }
  } catch (err) {
    await db.close();
    throw err;
  }

  const selectIdempotency = async (
    c: PoolClient | PgDatabase,
    clientId: string,
    key: string,
  ): Promise<IdempotencyRow | undefined> => {
    const sql = 'SELECT * FROM idempotency_keys WHERE client_id = $1 AND key = $2';
    if ('tx' in c) return (await c.query<IdempotencyRow>(sql, [clientId, key]))[0];
    return (await c.query<IdempotencyRow>(sql, [clientId, key])).rows[0];
  };

  const writeOutbox = async (c: PoolClient, paymentId: string, rows: readonly NewOutboxRow[], at: string) => {
    if (rows.length === 0) return;
    await c.query(
      `INSERT INTO outbox (topic, message_id, payment_id, payload, next_attempt_at, created_at)
       SELECT t, m, $3, p, $4, $4 FROM unnest($1::text[], $2::text[], $5::text[]) AS r(t, m, p)`,
      [rows.map((r) => r.topic), rows.map((r) => r.messageId), paymentId, at, rows.map((r) => r.payload)],
    );
  };

  const addToDaily = async (c: PoolClient, p: Payment, delta: bigint): Promise<void> => {
    await c.query(
      `INSERT INTO daily_totals (channel, loan_number, business_date, currency, taken_minor)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, loan_number, business_date, currency)
       DO UPDATE SET taken_minor = daily_totals.taken_minor + excluded.taken_minor`,
      [p.channel, p.loanNumber, p.businessDate, p.currency, delta.toString()],
    );
  };

  const insertIdempotency = async (c: PoolClient, r: IdempotencyRecord): Promise<boolean> => {
    const res = await c.query(
      `INSERT INTO idempotency_keys (client_id, key, fingerprint, payment_id, response_status, response_body,
       created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (client_id, key) DO NOTHING`,
      [r.clientId, r.key, r.fingerprint, r.paymentId, r.responseStatus, r.responseBody, r.createdAt, r.expiresAt],
    );
    return res.rowCount === 1;
  };

  /** A key past its retention is free again: its old row goes in the transaction that reuses the key. */
  const dropExpiredKey = async (c: PoolClient, clientId: string, key: string, now: string): Promise<void> => {
    await c.query('DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND expires_at <= $3', [
      clientId,
      key,
      now,
    ]);
  };

  const acceptPayment = async (input: AcceptPaymentInput): Promise<AcceptOutcome> => {
    const p = input.payment;
    try {
      return await db.tx(async (c) => {
        await dropExpiredKey(c, input.idempotency.clientId, input.idempotency.key, input.idempotency.createdAt);
        // The payment row first (the key's foreign key needs it), then the key: a key taken by another
        // instance meanwhile rolls this whole transaction back and answers with that instance's record.
        await c.query(
          `INSERT INTO payments (id, receipt_number, channel, client_id, channel_reference, loan_number, core,
           amount_minor, currency, business_date, status, reason, core_reference, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
          [
            p.id,
            p.receiptNumber,
            p.channel,
            p.clientId,
            p.channelReference,
            p.loanNumber,
            p.core,
            p.amount.toString(),
            p.currency,
            p.businessDate,
            p.status,
            p.reason,
            p.coreReference,
            p.createdAt,
            p.updatedAt,
          ],
        );
        if (!(await insertIdempotency(c, input.idempotency))) {
          const existing = await selectIdempotency(c, input.idempotency.clientId, input.idempotency.key);
          if (!existing) throw new Error('idempotency key conflicted but no row was found');
          throw new Outcome<AcceptOutcome>({ kind: 'existing', idempotency: toIdempotency(existing) });
        }
        if (input.maxPerLoanPerDay !== undefined) {
          // The upsert locks the day's row: two instances taking the same loan's payments queue here.
          const r = await c.query<{ taken: string }>(
            `INSERT INTO daily_totals (channel, loan_number, business_date, currency, taken_minor)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, loan_number, business_date, currency)
             DO UPDATE SET taken_minor = daily_totals.taken_minor + excluded.taken_minor
             RETURNING taken_minor AS taken`,
            [p.channel, p.loanNumber, p.businessDate, p.currency, p.amount.toString()],
          );
          const after = BigInt(r.rows[0]?.taken ?? '0');
          if (after > input.maxPerLoanPerDay) {
            throw new Outcome<AcceptOutcome>({ kind: 'daily_limit_exceeded', alreadyTaken: after - p.amount });
          }
        } else {
          await addToDaily(c, p, p.amount);
        }
        // No payment_events row for the accepted step: the payment row is that step (see the SQLite store).
        await writeOutbox(c, p.id, input.outbox, p.createdAt);
        return { kind: 'created', payment: p, idempotency: input.idempotency } as AcceptOutcome;
      });
    } catch (err) {
      if (err instanceof Outcome) return err.value as AcceptOutcome;
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'payments_receipt_number_key') return { kind: 'receipt_taken' };
      if (e.code === '23505' && e.constraint === 'payments_pkey') {
        // The same payment id twice: only a retried transaction whose first COMMIT did land.
        const existing = await selectIdempotency(db, input.idempotency.clientId, input.idempotency.key);
        if (existing) return { kind: 'existing', idempotency: toIdempotency(existing) };
      }
      throw err;
    }
  };

  const recordEvent = async (input: RecordEventInput): Promise<RecordEventOutcome> => {
    try {
      return await db.tx(async (c): Promise<RecordEventOutcome> => {
        if (input.idempotency) {
          await dropExpiredKey(c, input.idempotency.clientId, input.idempotency.key, input.at);
          const existing = await selectIdempotency(c, input.idempotency.clientId, input.idempotency.key);
          if (existing) return { kind: 'existing', idempotency: toIdempotency(existing) };
        }
        // FOR UPDATE: a core result and a reversal of one payment on two instances take turns.
        const row = (await c.query<PaymentRow>('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [input.paymentId]))
          .rows[0];
        if (!row) return { kind: 'not_found' };
        const before = toPayment(row);
        const refusal = input.guard?.(before) ?? null;
        if (refusal !== null) return { kind: 'refused', reason: refusal, payment: before };
        if (input.event.type === 'reversal_requested' && before.status === 'APPLIED') {
          const inFile = await c.query('SELECT 1 FROM batch_file_payments WHERE payment_id = $1 LIMIT 1', [before.id]);
          if ((inFile.rowCount ?? 0) > 0) return { kind: 'refused', reason: 'payment_in_batch', payment: before };
        }
        const result = transition(before.status, input.event);
        if (result.kind !== 'changed') return { kind: 'done', result, payment: before };
        await c.query(
          `UPDATE payments SET status = $1, reason = $2, core_reference = COALESCE($3, core_reference),
           updated_at = $4 WHERE id = $5`,
          [result.status, result.reason, input.coreReference ?? null, input.at, input.paymentId],
        );
        if (result.status === 'REJECTED' || result.status === 'REVERSED') await addToDaily(c, before, -before.amount);
        await c.query(
          'INSERT INTO payment_events (payment_id, from_status, to_status, event, reason, at) VALUES ($1, $2, $3, $4, $5, $6)',
          [input.paymentId, before.status, result.status, input.event.type, result.reason, input.at],
        );
        const after: Payment = {
          ...before,
          status: result.status,
          reason: result.reason,
          coreReference: input.coreReference ?? before.coreReference,
          updatedAt: input.at,
        };
        await writeOutbox(c, input.paymentId, input.outbox(after), input.at);
        if (input.idempotency && !(await insertIdempotency(c, input.idempotency.record(after)))) {
          // Another instance stored this key first: roll back and answer with its record.
          const existing = await selectIdempotency(c, input.idempotency.clientId, input.idempotency.key);
          if (existing)
            throw new Outcome<RecordEventOutcome>({ kind: 'existing', idempotency: toIdempotency(existing) });
        }
        return { kind: 'done', result, payment: after };
      });
    } catch (err) {
      if (err instanceof Outcome) return err.value as RecordEventOutcome;
      throw err;
    }
  };

  const claimOutbox = async (
    topics: readonly OutboxTopic[],
    limit: number,
    leaseMs: number,
    now: Date,
  ): Promise<OutboxRow[]> => {
    const nowIso = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    // One statement: the inner SELECT skips rows another relay has locked, the UPDATE leases the rest.
    const rows = await db.query<OutboxDbRow>(
      `UPDATE outbox o SET lease_until = $3, attempts = o.attempts + 1
       FROM (SELECT id FROM outbox WHERE status = 'pending' AND topic = ANY($1::text[]) AND next_attempt_at <= $2
             AND (lease_until IS NULL OR lease_until <= $2) ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) due
       WHERE o.id = due.id
       RETURNING o.id, o.topic, o.message_id, o.payment_id, o.payload, o.attempts, o.created_at`,
      [topics, nowIso, until, limit],
    );
    return rows
      .map((r): OutboxRow => ({
        id: Number(r.id),
        topic: r.topic as OutboxTopic,
        messageId: r.message_id,
        paymentId: r.payment_id,
        payload: r.payload,
        attempts: Number(r.attempts),
        createdAt: r.created_at,
      }))
      .sort((a, b) => a.id - b.id);
  };

  let closed = false;
  const store = {
    kind: 'postgres' as const,
    db,
    batch: createPgBatchStore(db),
    recon: createPgReconStore(db),
    deliveries: createPgDeliveryStore(db),
    reports: createPgReportStore(db),
    acceptPayment,
    findIdempotency: async (clientId: string, key: string, now?: Date) => {
      const row = await selectIdempotency(db, clientId, key);
      if (!row || (now !== undefined && row.expires_at <= now.toISOString())) return null;
      return toIdempotency(row);
    },
    getPayment: async (id: string) => {
      const row = (await db.query<PaymentRow>('SELECT * FROM payments WHERE id = $1', [id]))[0];
      return row ? toPayment(row) : null;
    },
    findPaymentsByReference: async (channel: Channel, reference: string) =>
      (
        await db.query<PaymentRow>('SELECT * FROM payments WHERE channel = $1 AND channel_reference = $2 ORDER BY id', [
          channel,
          reference,
        ])
      ).map(toPayment),
    recordEvent,
    claimOutbox,
    markOutboxSent: async (id: number, now: Date) => {
      await db.query(
        `UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL WHERE id = $2`,
        [now.toISOString(), id],
      );
    },
    releaseOutbox: async (id: number, error: string, retryAt: Date) => {
      await db.query(
        `UPDATE outbox SET lease_until = NULL, last_error = $1, next_attempt_at = $2 WHERE id = $3 AND status = 'pending'`,
        [error.slice(0, 500), retryAt.toISOString(), id],
      );
    },
    renewOutboxLeases: async (ids: readonly number[], until: Date) => {
      if (ids.length === 0) return;
      await db.query(`UPDATE outbox SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND status = 'pending'`, [
        until.toISOString(),
        ids,
      ]);
    },
    releaseAllOutboxLeases: async () => {
      const r = await db.query<{ n: string }>(
        `WITH r AS (UPDATE outbox SET lease_until = NULL WHERE status = 'pending' AND lease_until IS NOT NULL
         RETURNING 1) SELECT COUNT(*) AS n FROM r`,
      );
      return Number(r[0]?.n ?? 0);
    },
    outboxStats: async (): Promise<OutboxStats> => {
      const r = await db.query<{ pending: string; oldest: string | null }>(
        "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'",
      );
      return { pending: Number(r[0]?.pending ?? 0), oldestPendingAt: r[0]?.oldest ?? null };
    },
    purgeExpiredIdempotency: async (now: Date) => {
      const at = now.toISOString();
      const keys = await db.query<{ n: string }>(
        'WITH d AS (DELETE FROM idempotency_keys WHERE expires_at <= $1 RETURNING 1) SELECT COUNT(*) AS n FROM d',
        [at],
      );
      await db.query('DELETE FROM idempotency_in_flight WHERE until <= $1', [at]);
      return Number(keys[0]?.n ?? 0);
    },
    claimIdempotencyKey: async (clientId: string, key: string, holder: string, until: Date, now: Date) => {
      const r = await db.query(
        `INSERT INTO idempotency_in_flight (client_id, key, holder, until) VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id, key) DO UPDATE SET holder = excluded.holder, until = excluded.until
         WHERE idempotency_in_flight.until <= $5 RETURNING 1`,
        [clientId, key, holder, until.toISOString(), now.toISOString()],
      );
      return r.length === 1;
    },
    releaseIdempotencyKey: async (clientId: string, key: string, holder: string) => {
      await db.query('DELETE FROM idempotency_in_flight WHERE client_id = $1 AND key = $2 AND holder = $3', [
        clientId,
        key,
        holder,
      ]);
    },
    ping: async () => {
      if (closed) throw new Error('store is closed');
      await db.pool.query('SELECT 1');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
  return Object.freeze(store);
}

function toIdempotency(r: IdempotencyRow): IdempotencyRecord {
  return {
    clientId: r.client_id,
    key: r.key,
    fingerprint: r.fingerprint,
    paymentId: r.payment_id,
    responseStatus: Number(r.response_status),
    responseBody: r.response_body,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

function toPayment(r: PaymentRow): Payment {
  if (!isChannel(r.channel) || !isCore(r.core) || !isCurrency(r.currency) || !isStatus(r.status)) {
    throw new Error(`payment ${r.id} has an unreadable row (channel/core/currency/status)`);
  }
  return {
    id: r.id,
    receiptNumber: r.receipt_number,
    channel: r.channel,
    clientId: r.client_id,
    channelReference: r.channel_reference,
    loanNumber: r.loan_number,
    core: r.core,
    amount: minorUnits(BigInt(r.amount_minor)),
    currency: r.currency,
    businessDate: r.business_date,
    status: r.status,
    reason: r.reason,
    coreReference: r.core_reference,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function isStatus(s: string): s is PaymentStatus {
  return (PAYMENT_STATUSES as readonly string[]).includes(s);
}
