import type { Channel, ConsumeMessage, Message } from 'amqplib';
import type { Logger } from '../logging/logger';
import { errorText } from './rabbitmq-connection';
import { HEADER, attemptOf, copyHeaders, decode, historyOf, type HubMessage } from './rabbitmq-message';
import type { ConfirmPublisher } from './rabbitmq-publisher';
import { DEAD_LETTER_EXCHANGE, laneNames } from './rabbitmq-topology';
import type { AttemptRecord, DeliveryInfo, Disposition, Lane, TransportObserver } from './transport-port';

// The transport's consuming side: what happens to one delivery. Consumers ack manually, only after the
// handler resolved. A `retry` is a copy published (with confirm) to a per-delay retry queue whose TTL
// dead-letters it back to the work queue, and only then is the original acked; `dead` (or the attempt
// limit) is a copy on the lane's dead-letter queue with the reason and history in headers. An ack or
// nack lost with its channel means a redelivery, which consumers absorb (idempotent by payment id).

/** A consumer the transport keeps alive across reconnects (rabbitmq-transport.ts attaches it to a channel). */
export interface LiveSubscription {
  readonly lane: Lane;
  readonly handle: (message: HubMessage, delivery: DeliveryInfo) => Promise<Disposition>;
  channel: Channel | null;
  consumerTag: string | null;
  readonly inFlight: Set<Promise<void>>;
  cancelled: boolean;
}

export interface DeliveryHandlerOptions {
  /** Attempts in all before a message is dead. */
  readonly deliveryLimit: number;
  /** The retry delay after attempt n (the schedule's, with jitter). */
  readonly delayFor: (attempt: number) => number;
  readonly publisher: Pick<ConfirmPublisher, 'publishTo' | 'publishRaw'>;
  readonly logger?: Logger;
  /** Told of each retry and dead letter once the broker confirmed its copy (metrics). */
  readonly observer?: TransportObserver;
}

export interface DeliveryHandler {
  (sub: LiveSubscription, ch: Channel, msg: ConsumeMessage): Promise<void>;
  /** Sends the acks this channel still holds now (before the channel is closed on purpose). */
  flushAcks(ch: Channel): void;
}

/**
 * The deliveries of one channel in the order the broker sent them, and those whose work is done. Acks
 * go out once per event-loop turn: the longest run of done deliveries from the oldest is acked with one
 * `multiple` ack (AMQP 0-9-1 basic.ack multiple: every tag up to it), done ones behind a delivery still
 * in hand one by one. A delivery is marked done only after its work is durable (result published and
 * confirmed, retry or dead-letter copy confirmed), so an ack never runs ahead of its work; acks not yet
 * sent when the channel dies mean redeliveries, which consumers absorb.
 */
interface ChannelAcks {
  readonly lane: Lane;
  readonly open: number[];
  readonly done: Map<number, Message>;
  scheduled: boolean;
}

export function createDeliveryHandler(opts: DeliveryHandlerOptions): DeliveryHandler {
  const { deliveryLimit, delayFor, logger: log, observer } = opts;
  const { publishTo, publishRaw } = opts.publisher;

  const acks = new WeakMap<Channel, ChannelAcks>();

  const flushAcks = (ch: Channel): void => {
    const state = acks.get(ch);
    if (!state) return;
    const lane = state.lane;
    state.scheduled = false;
    if (state.done.size === 0) return;
    let upTo: Message | undefined;
    let taken = 0;
    while (taken < state.open.length) {
      const m = state.done.get(state.open[taken] as number);
      if (!m) break;
      state.done.delete(m.fields.deliveryTag);
      upTo = m;
      taken += 1;
    }
    state.open.splice(0, taken);
    const single = [...state.done.values()];
    state.done.clear();
    for (const m of single) forget(state, m.fields.deliveryTag);
    try {
      if (upTo) {
        if (taken === 1) ch.ack(upTo);
        else ch.ack(upTo, true);
      }
      for (const m of single) ch.ack(m);
    } catch (err) {
      // the channel died with these unacked: the broker delivers them again
      acks.delete(ch);
      log?.warn(
        { lane, messages: taken + single.length, err: errorText(err) },
        'acks lost with their channel; messages will be redelivered',
      );
    }
  };

  const forget = (state: ChannelAcks, tag: number): void => {
    const i = state.open.indexOf(tag);
    if (i >= 0) state.open.splice(i, 1);
  };

  const handleDelivery = async (sub: LiveSubscription, ch: Channel, msg: ConsumeMessage): Promise<void> => {
    // registered before the first await: the broker's delivery order is the order tags are kept in
    let state = acks.get(ch);
    if (!state) {
      state = { lane: sub.lane, open: [], done: new Map(), scheduled: false };
      acks.set(ch, state);
    }
    state.open.push(msg.fields.deliveryTag);
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
        ackSafely(ch, msg);
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
          ackSafely(ch, msg);
          observer?.retried?.(sub.lane);
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
      ackSafely(ch, msg);
      observer?.deadLettered?.(sub.lane);
      log?.error(
        { messageId: message?.messageId, paymentId: message?.paymentId, lane: sub.lane, attempts, reason },
        'message dead-lettered',
      );
    } catch (err) {
      nackSafely(ch, msg, sub.lane, `could not dead-letter: ${errorText(err)}`);
    }
  };

  /** The delivery's work is done: its ack goes out at the end of this event-loop turn. */
  const ackSafely = (ch: Channel, msg: Message): void => {
    const state = acks.get(ch);
    if (!state) return; // the channel died: the broker delivers it again
    state.done.set(msg.fields.deliveryTag, msg);
    if (state.scheduled) return;
    state.scheduled = true;
    setImmediate(() => flushAcks(ch));
  };

  const nackSafely = (ch: Channel, msg: Message, lane: Lane, why: string): void => {
    const state = acks.get(ch);
    if (state) forget(state, msg.fields.deliveryTag);
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

  return Object.assign(handleDelivery, { flushAcks });
}
