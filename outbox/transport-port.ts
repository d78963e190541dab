import type { Core } from '../domain/channel';
import type { CoreCommandMessage, CoreResultMessage } from '../domain/core-messages';

// The port between the outbox relay / core consumers and whatever carries messages between them:
// the in-process transport (embedded default) or RabbitMQ (LOANHUB_AMQP_URL). Delivery is at least
// once; consumers are idempotent by payment id, so a redelivery never applies a payment twice.
// The messages themselves are the hub's words (domain/core-messages.ts: payments/ writes them to the
// outbox); re-exported here because they are what a transport carries.
export { MESSAGE_SCHEMA_VERSION, type CoreCommandMessage, type CoreResultMessage } from '../domain/core-messages';

export interface DeliveryInfo {
  /** 1 on the first delivery, growing with each retry or redelivery. */
  readonly attempt: number;
  readonly redelivered: boolean;
}

/** What a consumer wants done with a message once its handler has finished. */
export type Disposition =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'dead'; readonly reason: string };

export interface Subscription {
  /** Stops taking new messages, waits for in-flight handlers, then resolves. */
  cancel(): Promise<void>;
}

export interface Transport {
  readonly kind: 'in-process' | 'rabbitmq';
  /** Connects and declares what it needs; idempotent. */
  start(): Promise<void>;
  /** True when a publish would be accepted now. */
  isReady(): boolean;
  /** Resolves once the transport has durably taken the message (a publisher confirm for RabbitMQ). */
  publishCommand(message: CoreCommandMessage): Promise<void>;
  consumeCommands(
    core: Core,
    handler: (message: CoreCommandMessage, delivery: DeliveryInfo) => Promise<Disposition>,
  ): Promise<Subscription>;
  publishResult(message: CoreResultMessage): Promise<void>;
  consumeResults(handler: (message: CoreResultMessage) => Promise<void>): Promise<Subscription>;
  close(): Promise<void>;
}

/** Why a transport refused or gave up on a message; `code` is stable, `message` is for people. */
export type TransportErrorCode =
  | 'transport_not_ready' // not started, closed, or (RabbitMQ) disconnected: publish again later
  | 'transport_closed' // closed while the message was still waiting for a consumer
  | 'publish_nacked' // the broker refused the message (publisher confirm nack)
  | 'publish_unroutable' // a mandatory publish came back: no queue is bound for it
  | 'publish_timeout' // no confirm in time (e.g. the broker blocks publishers on a resource alarm)
  | 'topology_mismatch'; // a queue exists with other arguments than this code declares

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** Where a message is consumed: a core's command queue, or the hub's results queue. */
export type Lane = Core | 'results';

/**
 * Told what a transport did with a message a handler did not finish: parked for a retry, or put on the
 * dead letters (after its attempts, by a `dead` disposition, or unreadable). Each is reported once, only
 * after it took effect (the retry copy confirmed, the dead letter confirmed or stored), so a metric fed
 * from here counts what the queues hold. The worker's handler cannot know this: its last `retry` becomes
 * a dead letter in the transport.
 */
export interface TransportObserver {
  retried?(lane: Lane): void;
  deadLettered?(lane: Lane): void;
}

/** One handling of a message that did not end in an ack. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly at: string;
  readonly outcome: 'retry' | 'dead' | 'replayed';
  readonly reason: string;
  /** On a retry: how long the message waited before its next attempt (the schedule's delay with jitter). */
  readonly delayMs?: number;
}

/** A message no consumer could finish, kept with its reason and history until someone replays it. */
export interface DeadLetter {
  /** The message id (`${paymentId}:${type}`). */
  readonly id: string;
  readonly lane: Lane;
  readonly reason: string;
  readonly attempts: number;
  readonly history: readonly AttemptRecord[];
  readonly deadAt: string;
  /** Null when the body could not be read as a hub message (then `raw` holds it). */
  readonly message: CoreCommandMessage | CoreResultMessage | null;
  readonly raw?: string;
}
