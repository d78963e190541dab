import type { Channel } from '../domain/channel';
import type { BatchStore } from './batch-store-port';
import type { ReconStore } from './recon-store-port';
import type { DeliveryStore } from './delivery-store-port';
import type { ReportStore } from './report-store-port';
import type { Payment } from '../domain/payment';
import type { PaymentEvent, TransitionResult } from '../domain/payment-state';

// The hub's persistence port. Every method is one transaction in the implementation.

export interface IdempotencyRecord {
  readonly clientId: string;
  readonly key: string;
  /** SHA-256 of the canonical request; decides replay (same) or conflict (different). */
  readonly fingerprint: string;
  readonly paymentId: string;
  readonly responseStatus: number;
  readonly responseBody: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** A row of the transactional outbox: written with the change that caused it, relayed afterwards. */
export interface OutboxRow {
  readonly id: number;
  readonly topic: OutboxTopic;
  readonly messageId: string;
  readonly paymentId: string;
  readonly payload: string;
  readonly attempts: number;
  readonly createdAt: string;
}

/** `core.command`: a CoreCommandMessage for the transport. `payment.event`: a state change for the channel. */
export type OutboxTopic = 'core.command' | 'payment.event';

export interface NewOutboxRow {
  readonly topic: OutboxTopic;
  readonly messageId: string;
  readonly payload: string;
}

export type AcceptOutcome =
  | { readonly kind: 'created'; readonly payment: Payment; readonly idempotency: IdempotencyRecord }
  /** The key was used before: the stored record decides whether this is a replay or a conflict. */
  | { readonly kind: 'existing'; readonly idempotency: IdempotencyRecord }
  /** Another payment already has this receipt number; nothing was written, try another number. */
  | { readonly kind: 'receipt_taken' }
  /** The channel's limit per loan per business day would be passed; nothing was written. */
  | { readonly kind: 'daily_limit_exceeded'; readonly alreadyTaken: bigint };

export interface AcceptPaymentInput {
  readonly payment: Payment;
  readonly idempotency: IdempotencyRecord;
  /** Built from the payment; the store writes them in the same transaction as the payment row. */
  readonly outbox: readonly NewOutboxRow[];
  /** Checked inside the transaction: payments of this channel, loan and business date not rejected or reversed. */
  readonly maxPerLoanPerDay?: bigint;
}

export interface RecordEventInput {
  readonly paymentId: string;
  readonly event: PaymentEvent;
  readonly coreReference?: string;
  readonly at: string;
  /** Rows to write with the change (only when it really changes the state). */
  readonly outbox: (payment: Payment) => readonly NewOutboxRow[];
  /** For a channel request (a reversal): the key is looked up first and stored with the change. */
  readonly idempotency?: {
    readonly clientId: string;
    readonly key: string;
    readonly record: (after: Payment) => IdempotencyRecord;
  };
  /** A check inside the transaction on the payment as it is; a string refuses the change and names why. */
  readonly guard?: (before: Payment) => string | null;
}

export type RecordEventOutcome =
  | { readonly kind: 'not_found' }
  | { readonly kind: 'done'; readonly result: TransitionResult; readonly payment: Payment }
  | { readonly kind: 'existing'; readonly idempotency: IdempotencyRecord }
  | { readonly kind: 'refused'; readonly reason: string; readonly payment: Payment };

export interface OutboxStats {
  readonly pending: number;
  readonly oldestPendingAt: string | null;
}

export interface PaymentStore {
  readonly kind: 'sqlite' | 'postgres' | 'mssql';
  /** The mainframe files' tables, in the same database. */
  readonly batch: BatchStore;
  /** Reconciliation's tables (settlement files, core extracts, runs, breaks), in the same database. */
  readonly recon?: ReconStore;
  /** The confirmation webhooks' deliveries, in the same database (they consume `payment.event` outbox rows). */
  readonly deliveries: DeliveryStore;
  /** Read-only aggregates for reports and the ops page (SQLite now; absent on a store without them). */
  readonly reports?: ReportStore;
  acceptPayment(input: AcceptPaymentInput): Promise<AcceptOutcome>;
  /** With `now`, a key past its expiry is not found: it is free again (its row goes when the key is reused or purged). */
  findIdempotency(clientId: string, key: string, now?: Date): Promise<IdempotencyRecord | null>;
  /**
   * Marks a key as being processed by `holder` until `until`, across every instance on this database; false
   * when another holder has it and its lease has not run out (a crashed instance's mark expires by itself).
   */
  claimIdempotencyKey(clientId: string, key: string, holder: string, until: Date, now: Date): Promise<boolean>;
  releaseIdempotencyKey(clientId: string, key: string, holder: string): Promise<void>;
  getPayment(id: string): Promise<Payment | null>;
  findPaymentsByReference(channel: Channel, channelReference: string): Promise<Payment[]>;
  recordEvent(input: RecordEventInput): Promise<RecordEventOutcome>;
  /** Leases up to `limit` due rows of `topics` for `leaseMs`; another relay will not take them meanwhile. */
  claimOutbox(topics: readonly OutboxTopic[], limit: number, leaseMs: number, now: Date): Promise<OutboxRow[]>;
  markOutboxSent(id: number, now: Date): Promise<void>;
  /** Gives a row back for a later try, after `retryAt`, recording why. */
  releaseOutbox(id: number, error: string, retryAt: Date): Promise<void>;
  /** Extends the leases of rows this relay still has in flight. */
  renewOutboxLeases(ids: readonly number[], until: Date): Promise<void>;
  /** Drops every lease: for a relay that knows it is the only one (the embedded hub at start-up, after a crash). */
  releaseAllOutboxLeases(): Promise<number>;
  outboxStats(): Promise<OutboxStats>;
  /** Deletes keys past their expiry (and in-flight marks past their lease); returns the keys deleted. */
  purgeExpiredIdempotency(now: Date): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
