import type { Channel, Core } from '../domain/channel';
import type { Currency } from '../domain/money';

// Read-only queries for reports and the ops page: every figure is aggregated by the database (GROUP BY),
// never by loading payments into memory. Owns no table; it reads the hub's, the batch bridge's, the
// webhooks' and the dead letters' tables and writes none.

/** One channel × core × currency of a business date: how many payments reached each state, and their sum. */
export interface StatementRow {
  readonly channel: Channel;
  readonly core: Core;
  readonly currency: Currency;
  /** Every payment taken that day (each starts ACCEPTED). */
  readonly accepted: CountAndSum;
  /** Applied by the core at some point: now APPLIED, REVERSAL_PENDING, REVERSED, POSTED or POST_REJECTED. */
  readonly applied: CountAndSum;
  readonly rejected: CountAndSum;
  readonly reversed: CountAndSum;
  readonly posted: CountAndSum;
  readonly postRejected: CountAndSum;
  /** Still waiting for the core (ACCEPTED) or for a reversal (REVERSAL_PENDING). */
  readonly pending: CountAndSum;
}

export interface CountAndSum {
  readonly count: number;
  /** Minor units. */
  readonly sum: bigint;
}

/** Rows waiting in the outbox, per topic and core. */
export interface OutboxBacklogRow {
  readonly topic: string;
  readonly core: Core;
  readonly pending: number;
  readonly oldestAt: string | null;
}

/** Dead letters per lane (e.g. `command:cash`) and status; empty when the embedded transport never ran here. */
export interface DeadLetterCountRow {
  readonly lane: string;
  readonly status: string;
  readonly count: number;
}

/** Confirmation webhooks not delivered yet (pending, failed, dead), per channel. */
export interface WebhookBacklogRow {
  readonly channel: string;
  readonly status: string;
  readonly count: number;
  readonly oldestAt: string | null;
}

/** Per business date, what was taken (accepted, less rejected and reversed) in each currency. */
export interface DayTotalRow {
  readonly businessDate: string;
  readonly currency: Currency;
  readonly count: number;
  readonly net: bigint;
}

export interface ReportStore {
  statement(businessDate: string): Promise<StatementRow[]>;
  outboxBacklog(): Promise<OutboxBacklogRow[]>;
  deadLetterCounts(): Promise<DeadLetterCountRow[]>;
  webhookBacklog(): Promise<WebhookBacklogRow[]>;
  /** Dates from `from` to `to` (inclusive) that have payments, oldest first. */
  dayTotals(from: string, to: string): Promise<DayTotalRow[]>;
}
