import { randomUUID } from 'node:crypto';
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
} from 'amqplib';
import type { Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import { createReconnectLoop, RECONNECT_MIN_MS, redactUrl } from './rabbitmq-connection';
import {
  HEADER,
  attemptOf,
  copyHeaders,
  decode,
  encode,
  historyOf,
  publishOptions,
  type HubMessage,
} from './rabbitmq-message';
import {
  DEAD_LETTER_EXCHANGE,
  RABBITMQ_DELIVERY_LIMIT,
  RABBITMQ_RETRY_DELAYS_MS,
  declareTopology,
  laneNames,
} from './rabbitmq-topology';
import { bucketedDelay, type Random } from './retry-schedule';
import {
  TransportError,
  type AttemptRecord,
  type CoreCommandMessage,
  type CoreResultMessage,
  type DeliveryInfo,
  type Disposition,
  type Lane,
  type Subscription,
  type Transport,
} from './transport-port';

// The production transport (LOANHUB_AMQP_URL): amqplib against RabbitMQ, following its reliability
// guide. Publishes go through a confirm channel with `mandatory`, so a publish resolves only on the
// broker's confirm; a nack, a return (unroutable) or a lost connection rejects it and the outbox keeps
// the row pending. Consumers ack manually, with a bounded prefetch, only after the handler resolved.
// A `retry` is a copy published (with confirm) to a per-delay retry queue whose TTL dead-letters it
// back to the work queue, and only then is the original acked; `dead` (or the attempt limit) is a copy
// on the lane's dead-letter queue with the reason and history in headers. After a connection loss the
// transport reconnects with backoff, re-declares the topology and resumes every live subscription;
// messages that were in flight are redelivered by the broker (consumers are idempotent by payment id).

export interface RabbitMqTransportOptions {
  readonly url: string;
  /** Unacked messages per subscription. */
  readonly prefetch?: number;
  /**
   * Delay before attempt n+1 is retryDelaysMs[n-1] (the last entry repeats), give or take the jitter of
   * retry-schedule.ts: three retry queues per delay (×0.8, ×1, ×1.2), one chosen at random per retry.
   */
  readonly retryDelaysMs?: readonly number[];
  /** Picks the jitter; Math.random unless a test gives its own. */
  readonly random?: Random;
  /** Attempts in all (retries and redeliveries) before a message is dead; also the queues' x-delivery-limit. */
  readonly deliveryLimit?: number;
  /** How long start() keeps trying to reach the broker. */
  readonly startTimeoutMs?: number;
  /**
   * How long a publish waits for its confirm before it rejects (publish_timeout), so a broker that
   * blocks publishers does not pin outbox rows in flight forever. A late confirm then only makes a
   * duplicate, which consumers absorb.
   */
  readonly confirmTimeoutMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_DELIVERY_LIMIT = RABBITMQ_DELIVERY_LIMIT;
export const DEFAULT_PREFETCH = 32;

interface LiveSubscription {
  readonly lane: Lane;
  readonly handle: (message: HubMessage, delivery: DeliveryInfo) => Promise<Disposition>;
  channel: Channel | null;
  consumerTag: string | null;
  readonly inFlight: Set<Promise<void>>;
  cancelled: boolean;
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  returned: boolean;
}

export function createRabbitMqTransport(opts: RabbitMqTransportOptions): Transport {
  const prefetch = opts.prefetch ?? DEFAULT_PREFETCH;
  const retryDelaysMs =
    opts.retryDelaysMs && opts.retryDelaysMs.length > 0 ? opts.retryDelaysMs : RABBITMQ_RETRY_DELAYS_MS;
  const deliveryLimit = opts.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const confirmTimeoutMs = opts.confirmTimeoutMs ?? 30_000;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be >= 1, got ${prefetch}`);
  if (!Number.isInteger(deliveryLimit) || deliveryLimit < 1)
    throw new RangeError(`deliveryLimit must be >= 1, got ${deliveryLimit}`);
  const log = opts.logger;
  const where = redactUrl(opts.url);

  let connection: ChannelModel | null = null;
  let publisher: ConfirmChannel | null = null;
  let state: 'new' | 'connecting' | 'ready' | 'closed' = 'new';
  let connecting: Promise<void> | null = null;
  const subscriptions = new Set<LiveSubscription>();
  const pending = new Map<string, Pending>();

  const isClosed = (): boolean => state === 'closed';
  const random = opts.random ?? Math.random;
  const delayFor = (attempt: number): number => bucketedDelay(retryDelaysMs, attempt, random);

  // ---- connection lifecycle ----

  const connectOnce = async (): Promise<void> => {
    const conn = await connect(opts.url, {
      noDelay: true,
      clientProperties: { connection_name: `loanhub-${process.pid}` },
    });
    try {
      conn.on('error', (err: Error) => log?.warn({ broker: where, err: err.message }, 'rabbitmq connection error'));
      conn.on('blocked', (reason: string) =>
        log?.warn({ broker: where, reason }, 'rabbitmq blocked publishing (resource alarm)'),
      );
      const ch = await conn.createConfirmChannel();
      ch.on('error', (err: Error) => log?.warn({ err: err.message }, 'rabbitmq publish channel error'));
      ch.on('return', (returned: Message) => {
        const id = publishIdOf(returned);
        const p = id ? pending.get(id) : undefined;
        if (p) p.returned = true;
      });
      await declareTopology(ch, { deliveryLimit, retryDelaysMs });
      conn.on('close', () => onConnectionLost(conn));
      ch.on('close', () => {
        if (connection === conn && state === 'ready') {
          log?.warn({ broker: where }, 'rabbitmq publish channel closed; reconnecting');
          void conn.close().catch(() => undefined);
        }
      });
      connection = conn;
      publisher = ch;
      state = 'ready';
      reconnect.reset();
      for (const sub of subscriptions) await attach(sub);
      log?.info({ broker: where }, 'rabbitmq transport connected');
    } catch (err) {
      if (connection === conn) {
        connection = null;
        publisher = null;
        if (state === 'ready') state = 'connecting';
      }
      await conn.close().catch(() => undefined);
      throw err;
    }
  };

  const onConnectionLost = (conn: ChannelModel): void => {
    if (connection !== conn) return;
    connection = null;
    publisher = null;
    for (const sub of subscriptions) {
      sub.channel = null;
      sub.consumerTag = null;
    }
    if (state === 'closed') return;
    state = 'connecting';
    log?.warn({ broker: where }, 'rabbitmq connection lost; reconnecting');
    scheduleReconnect();
  };

  // The reconnect loop shared with the inquiry server (rabbitmq-connection.ts).
  const reconnect = createReconnectLoop({
    connect: connectOnce,
    onFailure: (err, delay) => {
      if (err instanceof TransportError && err.code === 'topology_mismatch') {
        log?.error({ broker: where, err: err.message }, 'rabbitmq topology mismatch; will keep retrying');
      } else {
        log?.debug({ broker: where, err: errorText(err), delay }, 'rabbitmq reconnect failed');
      }
    },
  });

  const scheduleReconnect = (): void => {
    if (state === 'closed') return;
    reconnect.schedule();
  };

  const attach = async (sub: LiveSubscription): Promise<void> => {
    const conn = connection;
    if (!conn || sub.cancelled) return;
    const ch = await conn.createChannel();
    ch.on('error', (err: Error) => log?.warn({ lane: sub.lane, err: err.message }, 'rabbitmq consumer channel error'));
    ch.on('close', () => {
      // a channel can die alone (a channel error) while the connection lives: consume again on a new one
      if (sub.cancelled || sub.channel !== ch || connection !== conn) return;
      sub.channel = null;
      sub.consumerTag = null;
      log?.warn({ lane: sub.lane }, 'rabbitmq consumer channel closed; consuming again');
      setTimeout(() => {
        if (sub.cancelled || sub.channel !== null || connection !== conn) return; // a reconnect took over
        attach(sub).catch((err: unknown) => {
          log?.warn(
            { lane: sub.lane, err: errorText(err) },
            'could not consume again; closing the connection to recover',
          );
          void conn.close().catch(() => undefined);
        });
      }, RECONNECT_MIN_MS).unref();
    });
    await ch.prefetch(prefetch);
    sub.channel = ch;
    const { consumerTag } = await ch.consume(
      laneNames(sub.lane).queue,
      (msg) => {
        if (msg === null) {
          // the broker cancelled the consumer (queue deleted): come back through a reconnect
          log?.warn({ lane: sub.lane }, 'rabbitmq cancelled the consumer; reconnecting');
          void conn.close().catch(() => undefined);
          return;
        }
        const run = handleDelivery(sub, ch, msg);
        sub.inFlight.add(run);
        void run.finally(() => sub.inFlight.delete(run));
      },
      { noAck: false },
    );
    sub.consumerTag = consumerTag;
  };

  // ---- publishing ----

  const publishTo = (
    exchange: string,
    routingKey: string,
    message: HubMessage,
    headers: Record<string, unknown>,
  ): Promise<void> => {
    const ch = publisher;
    if (state !== 'ready' || !ch) {
      return Promise.reject(
        new TransportError(
          'transport_not_ready',
          `rabbitmq transport is ${state === 'ready' ? 'reconnecting' : state}`,
        ),
      );
    }
    const publishId = randomUUID();
    return new Promise<void>((resolve, reject) => {
      const entry: Pending = { resolve, reject, returned: false };
      pending.set(publishId, entry);
      const timer = setTimeout(() => {
        if (!pending.delete(publishId)) return;
        reject(
          new TransportError('publish_timeout', `no confirm for ${message.messageId} within ${confirmTimeoutMs} ms`),
        );
      }, confirmTimeoutMs);
      timer.unref();
      const settle = (err: unknown): void => {
        clearTimeout(timer);
        if (!pending.delete(publishId)) return; // timed out or closed already: that rejection stands
        if (err) {
          // amqplib says 'message nacked' for a broker nack; anything else means the channel went away
          const nacked = errorText(err) === 'message nacked';
          reject(
            new TransportError(
              nacked ? 'publish_nacked' : 'transport_not_ready',
              `${nacked ? 'broker refused' : 'connection lost before the confirm of'} ${message.messageId}: ${errorText(err)}`,
              { cause: err },
            ),
          );
        } else if (entry.returned) {
          reject(
            new TransportError(
              'publish_unroutable',
              `no queue took ${message.messageId} (${exchange} / ${routingKey})`,
            ),
          );
        } else {
          resolve();
        }
      };
      try {
        ch.publish(
          exchange,
          routingKey,
          encode(message),
          publishOptions(message, { ...headers, [HEADER.publishId]: publishId }),
          settle,
        );
      } catch (err) {
        clearTimeout(timer);
        pending.delete(publishId);
        reject(new TransportError('transport_not_ready', `publish failed: ${errorText(err)}`, { cause: err }));
      }
    });
  };

  const publish = (lane: Lane, message: HubMessage): Promise<void> => {
    const n = laneNames(lane);
    return publishTo(n.exchange, lane === 'results' ? `${message.core}.${message.type}` : n.routingKey, message, {
      [HEADER.attempts]: 0,
    });
  };

  // ---- consuming ----

  const handleDelivery = async (sub: LiveSubscription, ch: Channel, msg: ConsumeMessage): Promise<void> => {
    const n = laneNames(sub.lane);
    const attempt = attemptOf(msg);
    const history = historyOf(msg);
    let message: HubMessage;
    try {
      message = decode(msg);
    } catch (err) {
      await giveUp(sub, ch, msg, null, attempt, history, `malformed message body: ${errorText(err)}`);
      return;
    }
    if (attempt > deliveryLimit) {
      const reason = `delivery limit ${deliveryLimit} reached: consumers stopped without an answer`;
      await giveUp(sub, ch, msg, message, attempt - 1, history, reason);
      return;
    }
    let disposition: Disposition;
    try {
      disposition = await sub.handle(message, { attempt, redelivered: attempt > 1 || msg.fields.redelivered });
    } catch (err) {
      const reason = `handler failed: ${errorText(err)}`;
      log?.error(
        { messageId: message.messageId, paymentId: message.paymentId, lane: sub.lane, attempt, err: reason },
        'consumer handler threw',
      );
      disposition = { kind: 'retry', reason };
    }
    switch (disposition.kind) {
      case 'ack':
        ackSafely(ch, msg, sub.lane);
        return;
      case 'retry': {
        if (attempt >= deliveryLimit) {
          await giveUp(
            sub,
            ch,
            msg,
            message,
            attempt,
            history,
            `gave up after ${attempt} attempts: ${disposition.reason}`,
          );
          return;
        }
        const delayMs = delayFor(attempt);
        const record: AttemptRecord = {
          attempt,
          at: new Date().toISOString(),
          outcome: 'retry',
          reason: disposition.reason,
          delayMs,
        };
        try {
          // straight to the retry queue through the default exchange; its TTL sends it back to the work queue
          await publishTo('', n.retryQueue(delayMs), message, copyHeaders(msg, attempt, [...history, record]));
          ackSafely(ch, msg, sub.lane);
          log?.warn(
            {
              messageId: message.messageId,
              paymentId: message.paymentId,
              lane: sub.lane,
              attempt,
              delayMs,
              reason: disposition.reason,
            },
            'message will be retried',
          );
        } catch (err) {
          nackSafely(ch, msg, sub.lane, `could not park for retry: ${errorText(err)}`);
        }
        return;
      }
      case 'dead':
        await giveUp(sub, ch, msg, message, attempt, history, disposition.reason);
        return;
      default: {
        const never: never = disposition;
        throw new Error(`unknown disposition ${JSON.stringify(never)}`);
      }
    }
  };

  const giveUp = async (
    sub: LiveSubscription,
    ch: Channel,
    msg: ConsumeMessage,
    message: HubMessage | null,
    attempts: number,
    history: readonly AttemptRecord[],
    reason: string,
  ): Promise<void> => {
    const n = laneNames(sub.lane);
    const at = new Date().toISOString();
    const headers = copyHeaders(msg, attempts, [...history, { attempt: attempts, at, outcome: 'dead', reason }], {
      [HEADER.deadReason]: reason,
      [HEADER.deadAt]: at,
    });
    try {
      if (message) {
        await publishTo(DEAD_LETTER_EXCHANGE, n.deadLetterKey, message, headers);
      } else {
        await publishRaw(DEAD_LETTER_EXCHANGE, n.deadLetterKey, msg, headers);
      }
      ackSafely(ch, msg, sub.lane);
      log?.error(
        { messageId: message?.messageId, paymentId: message?.paymentId, lane: sub.lane, attempts, reason },
        'message dead-lettered',
      );
    } catch (err) {
      nackSafely(ch, msg, sub.lane, `could not dead-letter: ${errorText(err)}`);
    }
  };

  /** A body that is not a hub message still goes to the dead letters as it came. */
  const publishRaw = (
    exchange: string,
    routingKey: string,
    msg: Message,
    headers: Record<string, unknown>,
  ): Promise<void> => {
    const ch = publisher;
    if (state !== 'ready' || !ch)
      return Promise.reject(new TransportError('transport_not_ready', 'rabbitmq transport is not connected'));
    return new Promise<void>((resolve, reject) => {
      ch.publish(exchange, routingKey, msg.content, { ...msg.properties, persistent: true, headers }, (err: unknown) =>
        err ? reject(new TransportError('publish_nacked', errorText(err))) : resolve(),
      );
    });
  };

  const ackSafely = (ch: Channel, msg: Message, lane: Lane): void => {
    try {
      ch.ack(msg);
    } catch (err) {
      // the channel died with the message unacked: the broker delivers it again
      log?.warn(
        { lane, messageId: msg.properties.messageId, err: errorText(err) },
        'ack lost with its channel; message will be redelivered',
      );
    }
  };

  const nackSafely = (ch: Channel, msg: Message, lane: Lane, why: string): void => {
    try {
      ch.nack(msg, false, true);
      log?.warn({ lane, messageId: msg.properties.messageId, why }, 'message requeued');
    } catch (err) {
      log?.warn(
        { lane, messageId: msg.properties.messageId, why, err: errorText(err) },
        'nack lost with its channel; message will be redelivered',
      );
    }
  };

  const subscribe = async (lane: Lane, handle: LiveSubscription['handle']): Promise<Subscription> => {
    if (state === 'closed') throw new TransportError('transport_closed', 'rabbitmq transport is closed');
    const sub: LiveSubscription = {
      lane,
      handle,
      channel: null,
      consumerTag: null,
      inFlight: new Set(),
      cancelled: false,
    };
    subscriptions.add(sub);
    if (state === 'ready') await attach(sub);
    return {
      async cancel() {
        if (sub.cancelled) return;
        sub.cancelled = true;
        subscriptions.delete(sub);
        const ch = sub.channel;
        if (ch && sub.consumerTag) await ch.cancel(sub.consumerTag).catch(() => undefined);
        while (sub.inFlight.size > 0) await Promise.allSettled([...sub.inFlight]);
        if (ch) await ch.close().catch(() => undefined);
        sub.channel = null;
      },
    };
  };

  return Object.freeze({
    kind: 'rabbitmq' as const,
    async start() {
      if (state === 'ready' || state === 'connecting') return connecting ?? undefined;
      if (state === 'closed')
        throw new TransportError('transport_closed', 'rabbitmq transport was closed; create a new one');
      state = 'connecting';
      const deadline = Date.now() + startTimeoutMs;
      connecting = (async () => {
        for (;;) {
          try {
            await connectOnce();
            return;
          } catch (err) {
            if (isClosed()) throw new TransportError('transport_closed', 'closed while starting');
            if ((err instanceof TransportError && err.code === 'topology_mismatch') || Date.now() > deadline) {
              state = 'new';
              throw err;
            }
            await new Promise((r) => setTimeout(r, reconnect.nextBackoffMs()));
          }
        }
      })();
      try {
        await connecting;
      } finally {
        connecting = null;
      }
    },
    isReady: () => state === 'ready' && publisher !== null,
    publishCommand: (message: CoreCommandMessage) => publish(message.core, message),
    consumeCommands: (core: Core, handler: (m: CoreCommandMessage, d: DeliveryInfo) => Promise<Disposition>) =>
      subscribe(core, (m, d) => handler(m as CoreCommandMessage, d)),
    publishResult: (message: CoreResultMessage) => publish('results', message),
    consumeResults: (handler: (m: CoreResultMessage) => Promise<void>) =>
      subscribe('results', async (m) => {
        await handler(m as CoreResultMessage);
        return { kind: 'ack' } as const;
      }),
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      reconnect.stop();
      for (const sub of subscriptions) sub.cancelled = true;
      subscriptions.clear();
      const conn = connection;
      connection = null;
      publisher = null;
      // unacked deliveries go back to their queues; unconfirmed publishes reject (the outbox retries them)
      if (conn) await conn.close().catch(() => undefined);
      for (const [, p] of pending)
        p.reject(new TransportError('transport_closed', 'rabbitmq transport closed before the confirm'));
      pending.clear();
    },
  });
}

function publishIdOf(msg: Message): string | undefined {
  const h: unknown = msg.properties.headers;
  if (!h || typeof h !== 'object') return undefined;
  const v = (h as Record<string, unknown>)[HEADER.publishId];
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
