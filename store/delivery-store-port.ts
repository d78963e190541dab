import type { Channel } from '../domain/channel';

// The confirmation webhooks' persistence port: one delivery row per event per channel endpoint, fed from
// the outbox, and one endpoint row per channel disabled by a 410. Owned tables: webhook_deliveries,
// webhook_endpoints (and the outbox rows it marks sent, through insertFromOutbox, in the same transaction).
// Every method is one transaction. Lifecycle of a delivery:
//   pending ──2xx──▶ delivered
//      │ └─no callback URL──▶ skipped_no_endpoint
//      └─failure──▶ failed ──(retry)──▶ delivered | failed | dead (after the schedule)
// A 410 disables the channel's endpoint: its deliveries wait (pending/failed) until `enable`.

export const DELIVERY_STATUSES = ['pending', 'failed', 'delivered', 'dead', 'skipped_no_endpoint'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NewDelivery {
  readonly eventId: string;
  readonly eventType: string;
  readonly channel: Channel;
  readonly paymentId: string;
  readonly payload: string;
  readonly status: 'pending' | 'skipped_no_endpoint';
}

export interface Delivery {
  readonly id: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly channel: Channel;
  readonly paymentId: string;
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly firstFailedAt: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deliveredAt: string | null;
}

/** What one attempt came to; the dispatcher decides, the store records. */
export type DeliveryResult =
  | { readonly id: number; readonly kind: 'delivered'; readonly httpStatus: number }
  | {
      readonly id: number;
      readonly kind: 'retry';
      readonly httpStatus: number | null;
      readonly error: string;
      readonly nextAttemptAt: Date;
    }
  | { readonly id: number; readonly kind: 'dead'; readonly httpStatus: number | null; readonly error: string }
  /** 410 Gone: the channel's endpoint is disabled; the delivery waits for `enable`. */
  | { readonly id: number; readonly kind: 'gone'; readonly channel: Channel }
  /** The channel has no callback URL (any more). */
  | { readonly id: number; readonly kind: 'skipped' };

export interface DeliveryFilter {
  readonly channel?: Channel;
  readonly status?: DeliveryStatus;
  readonly paymentId?: string;
  readonly limit?: number;
}

export interface RedeliverySelector {
  /** A delivery id (digits) or an event id (`<paymentId>:<STATUS>`, the `webhook-id`). */
  readonly id?: string;
  readonly channel?: Channel;
  /** Every dead delivery (of the channel, when given). */
  readonly dead?: boolean;
  /** Every delivery skipped for want of a callback URL (after one has been configured). */
  readonly skipped?: boolean;
}

export interface EndpointState {
  readonly channel: Channel;
  readonly disabledAt: string | null;
  readonly disabledReason: string | null;
}

/** Deliveries not finished yet (pending or failed) of a channel, for /metrics. */
export interface ChannelBacklog {
  readonly channel: Channel;
  readonly waiting: number;
  /** When the oldest of them was created (ISO), null when there is none. */
  readonly oldestCreatedAt: string | null;
}

export interface DeliveryStore {
  /** Inserts new deliveries; an event already there (same event id and channel) is left as it is. */
  insert(deliveries: readonly NewDelivery[], now: Date): Promise<number>;
  /**
   * The intake's step, in one transaction: inserts the deliveries and marks the hub's outbox rows they
   * came from as sent (same database). Either both happen or neither; a retry after a crash is idempotent.
   */
  insertFromOutbox(deliveries: readonly NewDelivery[], outboxIds: readonly number[], now: Date): Promise<number>;
  /**
   * Leases up to `limit` due deliveries (not of `skipChannels`): not leased, endpoint enabled, and the oldest
   * unfinished one of its payment (a later event waits until the earlier is delivered, dead or skipped).
   */
  claimDue(limit: number, leaseMs: number, now: Date, skipChannels?: readonly Channel[]): Promise<Delivery[]>;
  record(results: readonly DeliveryResult[], now: Date): Promise<void>;
  /** Gives claimed deliveries back untried: due at once, unleased. */
  release(ids: readonly number[], now: Date): Promise<void>;
  /** Makes every leased delivery due now: for the only dispatcher on the database, at start after a crash. */
  dropLeases(now: Date): Promise<number>;
  list(filter: DeliveryFilter): Promise<Delivery[]>;
  redeliver(selector: RedeliverySelector, now: Date): Promise<Delivery[]>;
  /** How many deliveries have this status (all channels). */
  count(status: DeliveryStatus): Promise<number>;
  /** Unfinished deliveries (pending or failed) per channel that has any, with the oldest one's age. */
  backlog(): Promise<ChannelBacklog[]>;
  disabledChannels(): Promise<Channel[]>;
  endpoint(channel: Channel): Promise<EndpointState>;
  /** Turns a channel's endpoint back on; its waiting deliveries are due now with a fresh retry window. */
  enable(channel: Channel, now: Date): Promise<{ readonly wasDisabled: boolean; readonly waiting: number }>;
  close(): Promise<void>;
}
