import type { Core } from './channel';

// The messages between the hub and its loan-core workers: a command to a core (written to the outbox by
// payments/ in the same transaction as the payment change) and the core's result (recorded by
// payments/). JSON on the wire; outbox/transport-port.ts carries them and re-exports these types.

export const MESSAGE_SCHEMA_VERSION = 1;

/** A command to a loan core, written to the outbox in the same transaction as the payment change. */
export interface CoreCommandMessage {
  readonly schemaVersion: typeof MESSAGE_SCHEMA_VERSION;
  /** `${paymentId}:${type}`: stable across re-publishes, so duplicates are recognisable. */
  readonly messageId: string;
  readonly type: 'apply_payment' | 'reverse_payment';
  readonly paymentId: string;
  readonly core: Core;
  readonly correlationId: string;
  readonly timestamp: string;
  /** W3C trace context of the request that caused the command. */
  readonly traceparent?: string;
  /** Amounts are decimal strings here; the message is JSON on the wire. */
  readonly body: {
    readonly loanNumber: string;
    readonly amount: string;
    readonly currency: string;
    readonly receiptNumber: string;
    readonly channel: string;
    readonly businessDate: string;
  };
}

/** What a core answered, carried back to the hub, which records it through the payment state machine. */
export interface CoreResultMessage {
  readonly schemaVersion: typeof MESSAGE_SCHEMA_VERSION;
  readonly messageId: string;
  readonly type: 'payment_applied' | 'payment_rejected' | 'reversal_applied' | 'reversal_rejected';
  readonly paymentId: string;
  readonly core: Core;
  readonly correlationId: string;
  readonly timestamp: string;
  readonly traceparent?: string;
  readonly body: {
    readonly coreReference?: string;
    readonly amountDueAfter?: string;
    readonly reason?: string;
    readonly detail?: string;
  };
}
