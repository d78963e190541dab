import type { Channel } from 'amqplib';
import { CORES } from '../domain/channel';
import { retryQueueDelays } from './retry-schedule';
import { TransportError, type Lane } from './transport-port';

// The RabbitMQ topology of the hub, declared idempotently by every process that uses the broker
// (docs/rabbitmq.md has the diagram). Quorum queues, manual acks and publisher confirms follow
// RabbitMQ's reliability guide; at-least-once dead-lettering needs `overflow: reject-publish`
// (otherwise 3.10 silently falls back to at-most-once), and a delivery limit stops poison loops
// (3.10 has no default).

export const PAYMENTS_EXCHANGE = 'loanhub.payments';
export const RESULTS_EXCHANGE = 'loanhub.results';
/** Where work queues dead-letter to, and where consumers publish messages they give up on. */
export const DEAD_LETTER_EXCHANGE = 'loanhub.dlx';

export const LANES: readonly Lane[] = [...CORES, 'results'];

/**
 * Delays of the retry queues: doubling from 1 s, then 30 s repeating. Short early steps bring a core
 * back to work soon after a short outage; the 30 s cap bounds how long a recovered core's backlog
 * waits (a 120 s step could add two minutes). While a core is down its open breaker answers without
 * calling it, so frequent retries do not hammer it.
 */
export const RABBITMQ_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 20_000, 30_000];
/**
 * Attempts before a command is dead-lettered, and the queues' x-delivery-limit: 20 is RabbitMQ 4.0's
 * default delivery limit for quorum queues. With the delays above a core may be down about 7.5
 * minutes (1+2+5+10+20 s + 14 x 30 s) before its commands reach the DLQ, where 5 attempts over
 * 1/5/30/120 s gave up after 2.6 minutes.
 */
export const RABBITMQ_DELIVERY_LIMIT = 20;

export interface LaneNames {
  readonly lane: Lane;
  readonly queue: string;
  readonly deadLetterQueue: string;
  /** Where a message is published to reach this lane's work queue. */
  readonly exchange: string;
  readonly routingKey: string;
  /** The routing key on DEAD_LETTER_EXCHANGE that reaches the dead-letter queue. */
  readonly deadLetterKey: string;
  retryQueue(delayMs: number): string;
}

export function laneNames(lane: Lane): LaneNames {
  const queue = lane === 'results' ? 'loanhub.results' : `loanhub.core.${lane}`;
  return {
    lane,
    queue,
    deadLetterQueue: `${queue}.dlq`,
    exchange: lane === 'results' ? RESULTS_EXCHANGE : PAYMENTS_EXCHANGE,
    routingKey: lane === 'results' ? 'result' : lane,
    deadLetterKey: lane,
    // named by the delay, so a changed schedule adds queues instead of clashing with existing ones
    retryQueue: (delayMs) => `${queue}.retry.${delayMs}ms`,
  };
}

export interface TopologyOptions {
  readonly deliveryLimit: number;
  readonly retryDelaysMs: readonly number[];
}

const quorum = { 'x-queue-type': 'quorum', 'x-overflow': 'reject-publish' } as const;

/** Declares exchanges, queues and bindings; safe to run any number of times with the same options. */
export async function declareTopology(channel: Channel, opts: TopologyOptions): Promise<void> {
  try {
    await channel.assertExchange(PAYMENTS_EXCHANGE, 'direct', { durable: true });
    await channel.assertExchange(RESULTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
    for (const lane of LANES) {
      const n = laneNames(lane);
      await channel.assertQueue(n.queue, {
        durable: true,
        arguments: {
          ...quorum,
          'x-delivery-limit': opts.deliveryLimit,
          'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
          'x-dead-letter-routing-key': n.deadLetterKey,
          'x-dead-letter-strategy': 'at-least-once',
        },
      });
      await channel.bindQueue(n.queue, n.exchange, lane === 'results' ? '#' : n.routingKey);
      // three queues per delay of the schedule: the jitter (retry-schedule.ts)
      for (const delayMs of retryQueueDelays(opts.retryDelaysMs)) {
        // a message waits out its delay here, then expires back to the lane's exchange (at least once)
        await channel.assertQueue(n.retryQueue(delayMs), {
          durable: true,
          arguments: {
            ...quorum,
            'x-message-ttl': delayMs,
            'x-dead-letter-exchange': n.exchange,
            'x-dead-letter-routing-key': n.routingKey,
            'x-dead-letter-strategy': 'at-least-once',
          },
        });
      }
      await channel.assertQueue(n.deadLetterQueue, { durable: true, arguments: { ...quorum } });
      await channel.bindQueue(n.deadLetterQueue, DEAD_LETTER_EXCHANGE, n.deadLetterKey);
    }
  } catch (err) {
    if (isAmqpError(err, 406)) {
      throw new TransportError(
        'topology_mismatch',
        `a LoanHub queue exists with other arguments than this process declares (delivery limit ${opts.deliveryLimit}): ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

export function isAmqpError(err: unknown, code: number): err is Error & { code: number } {
  return err instanceof Error && 'code' in err && err.code === code;
}
