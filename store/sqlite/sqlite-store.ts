import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
import { BATCH_MIGRATIONS } from './batch-migrations';
import { groupCommit } from './group-commit';
import { createSqliteBatchStore } from './sqlite-batch-store';
import { openSqliteDeliveryStore } from './sqlite-delivery-store';
import { createSqliteReportStore } from './sqlite-report-store';
import { MIGRATIONS, migrate } from './sqlite-migrations';
import { RECON_MIGRATIONS } from './recon-migrations';
import { createSqliteReconStore } from './recon-sqlite-store';

// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a 201 survives a SIGKILL
// or a power cut. better-sqlite3 is synchronous, so each method body is a whole transaction.

interface PaymentRow {
  id: string;
  receipt_number: string;
  channel: string;
  client_id: string;
  channel_reference: string;
  loan_number: string;
  core: string;
  amount_minor: bigint;
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
  response_status: bigint;
  response_body: string;
  created_at: string;
  expires_at: string;
}

interface OutboxDbRow {
  id: bigint;
  topic: string;
  message_id: string;
  payment_id: string;
  payload: string;
  attempts: bigint;
  created_at: string;
}

export function openSqliteStore(opts: { file: string; synchronous?: 'FULL' | 'NORMAL' }): PaymentStore {
  fs.mkdirSync(path.dirname(opts.file), { recursive: true });
  const db = new Database(opts.file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, [...MIGRATIONS, ...BATCH_MIGRATIONS, ...RECON_MIGRATIONS]);
  db.defaultSafeIntegers(true);
  // The outbox's bookkeeping (leases, "sent" marks, retry times) goes through a second connection with
  // synchronous=NORMAL: in WAL mode it survives a process crash, and what a power cut could take from
  // its tail only makes a row be published again, which consumers absorb. Payments, keys and status
  // changes stay on the FULL connection, so every answer a channel gets is on disk first.
  const relayDb = new Database(opts.file);
  relayDb.pragma('synchronous = NORMAL');
  relayDb.pragma('busy_timeout = 5000');
  relayDb.defaultSafeIntegers(true);

  const insertPayment = db.prepare(`INSERT INTO payments (id, receipt_number, channel, client_id, channel_reference,
    loan_number, core, amount_minor, currency, business_date, status, reason, core_reference, created_at, updated_at)
    VALUES (@id, @receiptNumber, @channel, @clientId, @channelReference, @loanNumber, @core, @amount, @currency,
    @businessDate, @status, @reason, @coreReference, @createdAt, @updatedAt)`);
  const insertIdempotency = db.prepare(`INSERT INTO idempotency_keys (client_id, key, fingerprint, payment_id,
    response_status, response_body, created_at, expires_at) VALUES (@clientId, @key, @fingerprint, @paymentId,
    @responseStatus, @responseBody, @createdAt, @expiresAt)`);
  const selectIdempotency = db.prepare('SELECT * FROM idempotency_keys WHERE client_id = ? AND key = ?');
  const insertOutbox = db.prepare(`INSERT INTO outbox (topic, message_id, payment_id, payload, next_attempt_at,
    created_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const insertEvent = db.prepare(`INSERT INTO payment_events (payment_id, from_status, to_status, event, reason, at)
    VALUES (?, ?, ?, ?, ?, ?)`);
  const selectPayment = db.prepare('SELECT * FROM payments WHERE id = ?');
  const selectByReference = db.prepare(
    'SELECT * FROM payments WHERE channel = ? AND channel_reference = ? ORDER BY id',
  );
  const updateStatus =
    db.prepare(`UPDATE payments SET status = ?, reason = ?, core_reference = COALESCE(?, core_reference),
    updated_at = ? WHERE id = ?`);
  const selectDue = relayDb.prepare(`SELECT id, topic, message_id, payment_id, payload, attempts, created_at FROM outbox
    WHERE status = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
    AND topic IN (SELECT value FROM json_each(@topics)) ORDER BY id LIMIT @limit`);
  const leaseRow = relayDb.prepare('UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?');
  const markSent =
    relayDb.prepare(`UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL
    WHERE id = ?`);
  const release = relayDb.prepare(
    "UPDATE outbox SET lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'",
  );
  const renewLease = relayDb.prepare("UPDATE outbox SET lease_until = ? WHERE id = ? AND status = 'pending'");
  const renewLeases = relayDb.transaction((ids: readonly number[], until: string) => {
    for (const id of ids) renewLease.run(until, id);
  });
  const releaseAll = relayDb.prepare(
    "UPDATE outbox SET lease_until = NULL WHERE status = 'pending' AND lease_until IS NOT NULL",
  );
  const pendingStats = db.prepare(
    "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'",
  );
  const takenToday = db.prepare(`SELECT taken_minor AS taken FROM daily_totals
    WHERE channel = ? AND loan_number = ? AND business_date = ? AND currency = ?`);
  const addToDaily = db.prepare(`INSERT INTO daily_totals (channel, loan_number, business_date, currency, taken_minor)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET taken_minor = taken_minor + excluded.taken_minor`);
  const purgeIdempotency = db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?');
  const purgeInFlight = db.prepare('DELETE FROM idempotency_in_flight WHERE until <= ?');
  // A key past its retention is free again: its old row goes in the transaction that reuses the key.
  const dropExpiredKey = db.prepare('DELETE FROM idempotency_keys WHERE client_id = ? AND key = ? AND expires_at <= ?');
  const claimInFlight = db.prepare(`INSERT INTO idempotency_in_flight (client_id, key, holder, until)
    VALUES (@clientId, @key, @holder, @until) ON CONFLICT (client_id, key) DO UPDATE SET holder = excluded.holder,
    until = excluded.until WHERE idempotency_in_flight.until <= @now`);
  const releaseInFlight = db.prepare(
    'DELETE FROM idempotency_in_flight WHERE client_id = ? AND key = ? AND holder = ?',
  );
  const inBatchFile = db.prepare('SELECT 1 AS x FROM batch_file_payments WHERE payment_id = ? LIMIT 1');

  const writeOutbox = (paymentId: string, rows: readonly NewOutboxRow[], at: string): void => {
    for (const row of rows) insertOutbox.run(row.topic, row.messageId, paymentId, row.payload, at, at);
  };

  const acceptOne = (input: AcceptPaymentInput): AcceptOutcome => {
    const { clientId, key, createdAt } = input.idempotency;
    const existing = selectIdempotency.get(clientId, key) as IdempotencyRow | undefined;
    // The expired key's DELETE only when there is a row to drop: a new key costs one lookup, not two.
    if (existing && existing.expires_at > createdAt) return { kind: 'existing', idempotency: toIdempotency(existing) };
    if (existing) dropExpiredKey.run(clientId, key, createdAt);
    const p = input.payment;
    if (input.maxPerLoanPerDay !== undefined) {
      const row = takenToday.get(p.channel, p.loanNumber, p.businessDate, p.currency) as { taken: bigint } | undefined;
      const taken = row ? BigInt(row.taken) : 0n;
      if (taken + p.amount > input.maxPerLoanPerDay) return { kind: 'daily_limit_exceeded', alreadyTaken: taken };
    }
    insertPayment.run(p);
    addToDaily.run(p.channel, p.loanNumber, p.businessDate, p.currency, p.amount);
    insertIdempotency.run(input.idempotency);
    // No payment_events row for the accepted step: the payment row is that step (status ACCEPTED at
    // created_at), and the table holds each change after it. One insert and one index entry less per payment.
    writeOutbox(p.id, input.outbox, p.createdAt);
    return { kind: 'created', payment: p, idempotency: input.idempotency };
  };
  const accept = groupCommit(db, acceptOne);

  const recordOne = (input: RecordEventInput): RecordEventOutcome => {
    if (input.idempotency) {
      dropExpiredKey.run(input.idempotency.clientId, input.idempotency.key, input.at);
      const existing = selectIdempotency.get(input.idempotency.clientId, input.idempotency.key) as
        IdempotencyRow | undefined;
      if (existing) return { kind: 'existing', idempotency: toIdempotency(existing) };
    }
    const row = selectPayment.get(input.paymentId) as PaymentRow | undefined;
    if (!row) return { kind: 'not_found' };
    const before = toPayment(row);
    const refusal = input.guard?.(before) ?? null;
    if (refusal !== null) return { kind: 'refused', reason: refusal, payment: before };
    // Once a payment is in a mainframe file it stays applied: tonight's file and the core never disagree.
    if (input.event.type === 'reversal_requested' && before.status === 'APPLIED' && inBatchFile.get(before.id)) {
      return { kind: 'refused', reason: 'payment_in_batch', payment: before };
    }
    const result = transition(before.status, input.event);
    if (result.kind !== 'changed') return { kind: 'done', result, payment: before };
    updateStatus.run(result.status, result.reason, input.coreReference ?? null, input.at, input.paymentId);
    if (result.status === 'REJECTED' || result.status === 'REVERSED') {
      addToDaily.run(before.channel, before.loanNumber, before.businessDate, before.currency, -before.amount);
    }
    insertEvent.run(input.paymentId, before.status, result.status, input.event.type, result.reason, input.at);
    const after: Payment = {
      ...before,
      status: result.status,
      reason: result.reason,
      coreReference: input.coreReference ?? before.coreReference,
      updatedAt: input.at,
    };
    writeOutbox(input.paymentId, input.outbox(after), input.at);
    if (input.idempotency) insertIdempotency.run(input.idempotency.record(after));
    return { kind: 'done', result, payment: after };
  };
  const record = groupCommit(db, recordOne);
  const markSentGrouped = groupCommit(relayDb, (args: { id: number; at: string }) => {
    markSent.run(args.at, args.id);
  });

  const claim = relayDb.transaction((topics: readonly OutboxTopic[], limit: number, leaseMs: number, now: Date) => {
    const nowIso = now.toISOString();
    const rows = selectDue.all({ now: nowIso, topics: JSON.stringify(topics), limit }) as OutboxDbRow[];
    const leaseUntil = new Date(now.getTime() + leaseMs).toISOString();
    for (const r of rows) leaseRow.run(leaseUntil, r.id);
    return rows.map((r): OutboxRow => ({
      id: Number(r.id),
      topic: r.topic as OutboxTopic,
      messageId: r.message_id,
      paymentId: r.payment_id,
      payload: r.payload,
      attempts: Number(r.attempts) + 1,
      createdAt: r.created_at,
    }));
  });

  const batch = createSqliteBatchStore(db);
  // The deliveries on a connection of their own, as the CLI opens them (synchronous=NORMAL: see there).
  const deliveries = openSqliteDeliveryStore({ file: opts.file });
  let closed = false;
  return Object.freeze({
    kind: 'sqlite' as const,
    batch,
    recon: createSqliteReconStore(db),
    deliveries,
    reports: createSqliteReportStore(db),
    acceptPayment: async (input: AcceptPaymentInput): Promise<AcceptOutcome> => {
      try {
        return await accept(input);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && e.message?.includes('payments.receipt_number')) {
          return { kind: 'receipt_taken' };
        }
        throw err;
      }
    },
    findIdempotency: async (clientId: string, key: string, now?: Date) => {
      const row = selectIdempotency.get(clientId, key) as IdempotencyRow | undefined;
      if (!row || (now !== undefined && row.expires_at <= now.toISOString())) return null;
      return toIdempotency(row);
    },
    claimIdempotencyKey: async (clientId: string, key: string, holder: string, until: Date, now: Date) =>
      claimInFlight.run({ clientId, key, holder, until: until.toISOString(), now: now.toISOString() }).changes === 1,
    releaseIdempotencyKey: async (clientId: string, key: string, holder: string) => {
      releaseInFlight.run(clientId, key, holder);
    },
    getPayment: async (id: string) => {
      const row = selectPayment.get(id) as PaymentRow | undefined;
      return row ? toPayment(row) : null;
    },
    findPaymentsByReference: async (channel: Channel, reference: string) =>
      (selectByReference.all(channel, reference) as PaymentRow[]).map(toPayment),
    recordEvent: async (input: RecordEventInput) => record(input),
    claimOutbox: async (topics: readonly OutboxTopic[], limit: number, leaseMs: number, now: Date) =>
      claim(topics, limit, leaseMs, now),
    markOutboxSent: (id: number, now: Date) => markSentGrouped({ id, at: now.toISOString() }),
    releaseOutbox: async (id: number, error: string, retryAt: Date) => {
      release.run(error.slice(0, 500), retryAt.toISOString(), id);
    },
    renewOutboxLeases: async (ids: readonly number[], until: Date) => {
      renewLeases(ids, until.toISOString());
    },
    releaseAllOutboxLeases: async () => Number(releaseAll.run().changes),
    outboxStats: async (): Promise<OutboxStats> => {
      const r = pendingStats.get() as { pending: bigint; oldest: string | null };
      return { pending: Number(r.pending), oldestPendingAt: r.oldest };
    },
    purgeExpiredIdempotency: async (now: Date) => {
      purgeInFlight.run(now.toISOString());
      return Number(purgeIdempotency.run(now.toISOString()).changes);
    },
    ping: async () => {
      if (closed) throw new Error('store is closed');
      db.prepare('SELECT 1').get();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await deliveries.close();
      relayDb.close();
      db.close();
    },
  });
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
  // The database only ever holds values the code wrote, but a row is still checked, not cast.
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
    amount: minorUnits(r.amount_minor),
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
