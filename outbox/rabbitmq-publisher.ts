import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message } from 'amqplib';
import { errorText } from './rabbitmq-connection';
import { HEADER, encode, publishOptions, type HubMessage } from './rabbitmq-message';
import { laneNames } from './rabbitmq-topology';
import { TransportError, type Lane } from './transport-port';

// The transport's publishing side: every publish goes through the confirm channel with `mandatory` and
// resolves only on the broker's confirm; a nack, a return (unroutable), a lost channel or no confirm in
// time rejects it (the outbox then keeps its row pending). The connection (rabbitmq-transport.ts) hands
// over the current channel and state, the returns the broker sends back, and the rejection of whatever
// is still waiting when it closes.

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  returned: boolean;
}

export interface ConfirmPublisherOptions {
  /** The connection's confirm channel now, or null while there is none. */
  readonly channel: () => ConfirmChannel | null;
  /** The transport's state, for the not-ready message ('ready' with no channel means reconnecting). */
  readonly state: () => string;
  readonly confirmTimeoutMs: number;
}

export interface ConfirmPublisher {
  /** Publishes a hub message with its confirm (exchange '' is the default exchange: a queue by name). */
  publishTo(exchange: string, routingKey: string, message: HubMessage, headers: Record<string, unknown>): Promise<void>;
  /** A fresh message on its lane (a core's commands, or the results). */
  publish(lane: Lane, message: HubMessage): Promise<void>;
  /** A body that is not a hub message, as it came (to the dead letters). */
  publishRaw(exchange: string, routingKey: string, msg: Message, headers: Record<string, unknown>): Promise<void>;
  /** The broker's `return` of an unroutable publish: that publish rejects with publish_unroutable. */
  onReturn(returned: Message): void;
  /** Rejects every publish still waiting for its confirm. */
  rejectPending(err: Error): void;
}

export function createConfirmPublisher(opts: ConfirmPublisherOptions): ConfirmPublisher {
  const confirmTimeoutMs = opts.confirmTimeoutMs;
  const pending = new Map<string, Pending>();

  const publishTo = (
    exchange: string,
    routingKey: string,
    message: HubMessage,
    headers: Record<string, unknown>,
  ): Promise<void> => {
    const ch = opts.channel();
    const state = opts.state();
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

  /** A body that is not a hub message still goes to the dead letters as it came. */
  const publishRaw = (
    exchange: string,
    routingKey: string,
    msg: Message,
    headers: Record<string, unknown>,
  ): Promise<void> => {
    const ch = opts.channel();
    const state = opts.state();
    if (state !== 'ready' || !ch)
      return Promise.reject(new TransportError('transport_not_ready', 'rabbitmq transport is not connected'));
    return new Promise<void>((resolve, reject) => {
      ch.publish(exchange, routingKey, msg.content, { ...msg.properties, persistent: true, headers }, (err: unknown) =>
        err ? reject(new TransportError('publish_nacked', errorText(err))) : resolve(),
      );
    });
  };

  return {
    publishTo,
    publish,
    publishRaw,
    onReturn(returned: Message) {
      const id = publishIdOf(returned);
      const p = id ? pending.get(id) : undefined;
      if (p) p.returned = true;
    },
    rejectPending(err: Error) {
      for (const [, p] of pending) p.reject(err);
      pending.clear();
    },
  };
}

function publishIdOf(msg: Message): string | undefined {
  const h: unknown = msg.properties.headers;
  if (!h || typeof h !== 'object') return undefined;
  const v = (h as Record<string, unknown>)[HEADER.publishId];
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}
