import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import { createReconnectLoop, errorText, RECONNECT_MIN_MS, redactUrl } from './rabbitmq-connection';
import { createDeliveryHandler, type LiveSubscription } from './rabbitmq-consumer';
import { createConfirmPublisher } from './rabbitmq-publisher';
import { RABBITMQ_DELIVERY_LIMIT, RABBITMQ_RETRY_DELAYS_MS, declareTopology, laneNames } from './rabbitmq-topology';
import { bucketedDelay, type Random } from './retry-schedule';
import {
  TransportError,
  type CoreCommandMessage,
  type CoreResultMessage,
  type DeliveryInfo,
  type Disposition,
  type Lane,
  type Subscription,
  type Transport,
  type TransportObserver,
} from './transport-port';

// The production transport (LOANHUB_AMQP_URL): amqplib against RabbitMQ, following its reliability
// guide. This file is the connection: it connects, declares the topology, keeps the live
// subscriptions attached, and after a connection loss reconnects through the loop it shares with the
// inquiry server (rabbitmq-connection.ts), re-declares the topology and resumes every subscription;
// messages that were in flight are redelivered by the broker (consumers are idempotent by payment id).
// Publishing with confirms is rabbitmq-publisher.ts; what happens to one delivery (ack, retry through
// a delay queue, dead letter) is rabbitmq-consumer.ts.

export interface RabbitMqTransportOptions {
  readonly url: string;
  /** Unacked messages per subscription of a core's commands. */
  readonly prefetch?: number;
  /**
   * Unacked results in serve's results consumer. Larger than the commands' prefetch: a result is one
   * short store write, and a deeper window lets the broker hand them over in fewer, larger runs.
   */
  readonly resultsPrefetch?: number;
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
  /** Told of each retry and dead letter the consumers made (core-metrics.ts counts them). */
  readonly observer?: TransportObserver;
}

export const DEFAULT_DELIVERY_LIMIT = RABBITMQ_DELIVERY_LIMIT;
export const DEFAULT_PREFETCH = 32;
export const DEFAULT_RESULTS_PREFETCH = 128;

export function createRabbitMqTransport(opts: RabbitMqTransportOptions): Transport {
  const prefetch = opts.prefetch ?? DEFAULT_PREFETCH;
  const resultsPrefetch = opts.resultsPrefetch ?? Math.max(prefetch, DEFAULT_RESULTS_PREFETCH);
  const retryDelaysMs =
    opts.retryDelaysMs && opts.retryDelaysMs.length > 0 ? opts.retryDelaysMs : RABBITMQ_RETRY_DELAYS_MS;
  const deliveryLimit = opts.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const confirmTimeoutMs = opts.confirmTimeoutMs ?? 30_000;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be >= 1, got ${prefetch}`);
  if (!Number.isInteger(resultsPrefetch) || resultsPrefetch < 1)
    throw new RangeError(`resultsPrefetch must be >= 1, got ${resultsPrefetch}`);
  if (!Number.isInteger(deliveryLimit) || deliveryLimit < 1)
    throw new RangeError(`deliveryLimit must be >= 1, got ${deliveryLimit}`);
  const log = opts.logger;
  const where = redactUrl(opts.url);

  let connection: ChannelModel | null = null;
  let publisher: ConfirmChannel | null = null;
  let state: 'new' | 'connecting' | 'ready' | 'closed' = 'new';
  let connecting: Promise<void> | null = null;
  const subscriptions = new Set<LiveSubscription>();

  const isClosed = (): boolean => state === 'closed';
  const random = opts.random ?? Math.random;
  const delayFor = (attempt: number): number => bucketedDelay(retryDelaysMs, attempt, random);
  const publishing = createConfirmPublisher({ confirmTimeoutMs, channel: () => publisher, state: () => state });
  const publish = publishing.publish;
  const handleDelivery = createDeliveryHandler({
    deliveryLimit,
    delayFor,
    publisher: publishing,
    ...(log ? { logger: log } : {}),
    ...(opts.observer ? { observer: opts.observer } : {}),
  });

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
      ch.on('return', publishing.onReturn);
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
    await ch.prefetch(sub.lane === 'results' ? resultsPrefetch : prefetch);
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
        if (ch) {
          handleDelivery.flushAcks(ch);
          await ch.close().catch(() => undefined);
        }
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
      for (const sub of subscriptions) {
        sub.cancelled = true;
        if (sub.channel) handleDelivery.flushAcks(sub.channel);
      }
      subscriptions.clear();
      const conn = connection;
      connection = null;
      publisher = null;
      // unacked deliveries go back to their queues; unconfirmed publishes reject (the outbox retries them)
      if (conn) await conn.close().catch(() => undefined);
      publishing.rejectPending(new TransportError('transport_closed', 'rabbitmq transport closed before the confirm'));
    },
  });
}
