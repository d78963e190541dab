import type { Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import { assertReplayChoice, type DeadLetterStore, type HubDeadLetter, type ReplayChoice } from './dead-letter-port';
import { createMemoryDeadLetters } from './memory-dead-letters';
import { jitteredDelay, type Random } from './retry-schedule';
import {
  TransportError,
  type AttemptRecord,
  type CoreCommandMessage,
  type CoreResultMessage,
  type DeadLetter,
  type DeliveryInfo,
  type Disposition,
  type Lane,
  type Subscription,
  type Transport,
  type TransportObserver,
} from './transport-port';
import { RABBITMQ_DELIVERY_LIMIT, RABBITMQ_RETRY_DELAYS_MS } from './rabbitmq-topology';

// The embedded default transport: queues in memory, one per core plus one for results.
//
// Memory is not durable, so "durably taken" (the port's publish contract) can only mean "finished":
// publishCommand / publishResult resolve once a consumer has acked the message, or once it was given up
// as dead after maxAttempts. Until then the outbox row stays pending, so a crash at any point loses
// nothing: the relay publishes the row again after a restart, and consumers are idempotent by payment id.
// The other side of that: a publish waits while no consumer is subscribed, and close() rejects every
// publish still waiting (TransportError transport_closed), which keeps those rows pending too.
//
// A `retry` disposition (or a handler that throws) is delivered again after a growing delay (with
// jitter, retry-schedule.ts) and the attempt count raised; after maxAttempts the message goes to the
// dead letters. Those live in a DeadLetterStore: the embedded hub gives the SQLite one, so they outlive
// the process and `loanhub dlq` reads and replays them from another process; the publisher's promise
// resolves only once the letter is stored, so the outbox row is let go only then. Replays asked for
// from outside are taken from the store every replayPollMs, and at start.

export interface InProcessTransportOptions {
  /** Delay before attempt n+1 is retryDelaysMs[n-1] (the last entry repeats), ±20 % jitter. */
  readonly retryDelaysMs?: readonly number[];
  /** Picks the jitter; Math.random unless a test gives its own. */
  readonly random?: Random;
  /** Where dead letters are kept; in memory unless given (the embedded hub gives the SQLite store). */
  readonly deadLetters?: DeadLetterStore;
  /** How often replays requested by `loanhub dlq replay` (another process) are looked for. */
  readonly replayPollMs?: number;
  /** Attempts before a message is dead (the first delivery counts). */
  readonly maxAttempts?: number;
  /** Handlers running at once per subscription. */
  readonly prefetch?: number;
  readonly logger?: Logger;
  /** Told of each retry and each dead letter once stored (core-metrics.ts counts them). */
  readonly observer?: TransportObserver;
}

export interface InProcessTransport extends Transport {
  readonly kind: 'in-process';
  /** Dead letters, oldest first; all lanes unless one is given. */
  deadLetters(lane?: Lane): Promise<readonly DeadLetter[]>;
  /** Puts dead letters back on their queue with a fresh attempt count; returns how many. Safe to repeat. */
  replayDeadLetters(lane: Lane, which: ReplayChoice): Promise<number>;
  /** Messages per lane now: waiting, in a handler, waiting out a retry delay (for /metrics). */
  depths(): Array<{ lane: Lane; ready: number; unacked: number; retrying: number }>;
}

/**
 * The same retry schedule as the RabbitMQ transport's (see rabbitmq-topology.ts for why): the embedded
 * hub should ride out a core outage as long as production does (~7.5 min before a command is dead).
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = RABBITMQ_RETRY_DELAYS_MS;
export const DEFAULT_MAX_ATTEMPTS = RABBITMQ_DELIVERY_LIMIT;

export const DEFAULT_REPLAY_POLL_MS = 1_000;

export function listInProcessDeadLetters(transport: InProcessTransport, lane?: Lane): Promise<readonly DeadLetter[]> {
  return transport.deadLetters(lane);
}

export function replayInProcessDeadLetters(
  transport: InProcessTransport,
  lane: Lane,
  which: ReplayChoice,
): Promise<number> {
  return transport.replayDeadLetters(lane, which);
}

type AnyMessage = CoreCommandMessage | CoreResultMessage;
type Handler = (message: AnyMessage, delivery: DeliveryInfo) => Promise<Disposition>;

interface Envelope {
  readonly message: AnyMessage;
  /** Deliveries so far. */
  attempts: number;
  readonly history: AttemptRecord[];
  /** Settles the publisher's promise; for a replayed dead letter, removes the letter from the store. */
  readonly done: () => void;
  readonly fail: (err: Error) => void;
}

interface Consumer {
  readonly handler: Handler;
  readonly inFlight: Set<Promise<void>>;
  cancelled: boolean;
}

interface Queue {
  readonly lane: Lane;
  readonly ready: Envelope[];
  readonly consumers: Consumer[];
  next: number;
}

export function createInProcessTransport(opts: InProcessTransportOptions = {}): InProcessTransport {
  const retryDelaysMs =
    opts.retryDelaysMs && opts.retryDelaysMs.length > 0 ? opts.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const prefetch = opts.prefetch ?? 32;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be >= 1, got ${maxAttempts}`);
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new RangeError(`prefetch must be >= 1, got ${prefetch}`);
  const log = opts.logger;
  const random = opts.random ?? Math.random;
  const store = opts.deadLetters ?? createMemoryDeadLetters();
  const replayPollMs = opts.replayPollMs ?? DEFAULT_REPLAY_POLL_MS;

  const queues = new Map<Lane, Queue>();
  const queueOf = (lane: Lane): Queue => {
    let q = queues.get(lane);
    if (!q) {
      q = { lane, ready: [], consumers: [], next: 0 };
      queues.set(lane, q);
    }
    return q;
  };
  /** Envelopes waiting out a retry delay, with their timers, so close() can settle them. */
  const delayed = new Map<Envelope, NodeJS.Timeout>();
  /** Envelopes a handler is working on. */
  const handling = new Set<Envelope>();
  /** The lane of each envelope handled or delayed, for depths(). */
  const laneOfEnvelope = new WeakMap<Envelope, Lane>();
  let state: 'new' | 'started' | 'closed' = 'new';
  let replayTimer: NodeJS.Timeout | undefined;

  const delayFor = (attempt: number): number => jitteredDelay(retryDelaysMs, attempt, random);

  const pickConsumer = (q: Queue): Consumer | undefined => {
    for (let i = 0; i < q.consumers.length; i++) {
      const c = q.consumers[(q.next + i) % q.consumers.length];
      if (c && !c.cancelled && c.inFlight.size < prefetch) {
        q.next = (q.next + i + 1) % q.consumers.length;
        return c;
      }
    }
    return undefined;
  };

  const dispatch = (q: Queue): void => {
    while (state === 'started' && q.ready.length > 0) {
      const consumer = pickConsumer(q);
      if (!consumer) return;
      const envelope = q.ready.shift();
      if (!envelope) return;
      const run = deliver(q, consumer, envelope);
      consumer.inFlight.add(run);
      void run.finally(() => {
        consumer.inFlight.delete(run);
        dispatch(q);
      });
    }
  };

  const deliver = async (q: Queue, consumer: Consumer, envelope: Envelope): Promise<void> => {
    envelope.attempts += 1;
    const attempt = envelope.attempts;
    laneOfEnvelope.set(envelope, q.lane);
    handling.add(envelope);
    let disposition: Disposition;
    try {
      disposition = await consumer.handler(envelope.message, { attempt, redelivered: attempt > 1 });
    } catch (err) {
      const reason = `handler failed: ${err instanceof Error ? err.message : String(err)}`;
      log?.error(
        { messageId: envelope.message.messageId, lane: q.lane, attempt, err: reason },
        'consumer handler threw',
      );
      disposition = { kind: 'retry', reason };
    } finally {
      handling.delete(envelope);
    }
    if (state === 'closed') return; // close() has already settled this envelope's publisher
    settle(q, envelope, attempt, disposition);
  };

  const settle = (q: Queue, envelope: Envelope, attempt: number, disposition: Disposition): void => {
    const at = new Date().toISOString();
    switch (disposition.kind) {
      case 'ack':
        envelope.done();
        return;
      case 'retry': {
        if (attempt >= maxAttempts) {
          toDead(q, envelope, attempt, `gave up after ${attempt} attempts: ${disposition.reason}`);
          return;
        }
        const delayMs = delayFor(attempt);
        envelope.history.push({ attempt, at, outcome: 'retry', reason: disposition.reason, delayMs });
        opts.observer?.retried?.(q.lane);
        log?.warn(
          { messageId: envelope.message.messageId, lane: q.lane, attempt, delayMs, reason: disposition.reason },
          'message will be retried',
        );
        const timer = setTimeout(() => {
          delayed.delete(envelope);
          q.ready.push(envelope);
          dispatch(q);
        }, delayMs);
        delayed.set(envelope, timer);
        return;
      }
      case 'dead':
        toDead(q, envelope, attempt, disposition.reason);
        return;
      default: {
        const never: never = disposition;
        throw new Error(`unknown disposition ${JSON.stringify(never)}`);
      }
    }
  };

  const toDead = (q: Queue, envelope: Envelope, attempt: number, reason: string): void => {
    const deadAt = new Date().toISOString();
    envelope.history.push({ attempt, at: deadAt, outcome: 'dead', reason });
    const letter: HubDeadLetter = {
      id: envelope.message.messageId,
      lane: q.lane,
      reason,
      attempts: attempt,
      history: [...envelope.history],
      deadAt,
      message: envelope.message,
    };
    const where = { messageId: letter.id, paymentId: letter.message.paymentId, lane: q.lane, attempt, reason };
    // the publisher (the outbox relay) lets its row go only once the letter is stored
    store.add(letter).then(
      () => {
        log?.error(where, 'message dead-lettered');
        opts.observer?.deadLettered?.(q.lane);
        envelope.done();
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        log?.error({ ...where, err: why }, 'could not store a dead letter; the publisher keeps the message');
        envelope.fail(new TransportError('transport_not_ready', `could not store dead letter ${letter.id}: ${why}`));
      },
    );
  };

  /** Puts every replay the store has due back on its queue, with a fresh attempt count and its history. */
  let replaying: Promise<void> | null = null;
  let replayAgain = false;
  const replayDue = async (): Promise<void> => {
    do {
      replayAgain = false;
      for (;;) {
        if (state !== 'started') return;
        const letters = await store.takeReplays(100);
        if (letters.length === 0) break;
        const at = new Date().toISOString();
        for (const letter of letters) {
          const history = [
            ...letter.history,
            { attempt: letter.attempts, at, outcome: 'replayed' as const, reason: 'replayed from the dead letters' },
          ];
          const settleReplay = (): void => {
            store.settleReplay(letter.lane, letter.id).catch((err: unknown) => {
              log?.error({ messageId: letter.id, lane: letter.lane, err }, 'could not clear a replayed dead letter');
            });
          };
          // nobody waits on a replay: a close before it is finished leaves the letter `replaying`, and the
          // next start takes it again (resumeReplays)
          queueOf(letter.lane).ready.push({
            message: letter.message,
            attempts: 0,
            history,
            done: settleReplay,
            fail: () => undefined,
          });
          log?.info({ messageId: letter.id, lane: letter.lane }, 'dead letter replayed');
        }
        for (const lane of new Set(letters.map((l) => l.lane))) dispatch(queueOf(lane));
      }
    } while (replayAgain);
  };
  /** One look at a time; a call during a look makes it look once more before it resolves. */
  const takeReplays = (): Promise<void> => {
    if (replaying) {
      replayAgain = true;
      return replaying;
    }
    const run = replayDue().catch((err: unknown) => {
      log?.error({ err }, 'could not take dead-letter replays; will look again');
    });
    replaying = run;
    void run.finally(() => {
      if (replaying === run) replaying = null;
    });
    return run;
  };

  const publish = (lane: Lane, message: AnyMessage): Promise<void> => {
    if (state !== 'started') {
      return Promise.reject(
        new TransportError(
          'transport_not_ready',
          `in-process transport is ${state === 'new' ? 'not started' : 'closed'}`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const q = queueOf(lane);
      q.ready.push({ message, attempts: 0, history: [], done: resolve, fail: reject });
      dispatch(q);
    });
  };

  const subscribe = (lane: Lane, handler: Handler): Subscription => {
    const q = queueOf(lane);
    const consumer: Consumer = { handler, inFlight: new Set(), cancelled: false };
    q.consumers.push(consumer);
    dispatch(q);
    return {
      async cancel() {
        consumer.cancelled = true;
        const i = q.consumers.indexOf(consumer);
        if (i >= 0) q.consumers.splice(i, 1);
        while (consumer.inFlight.size > 0) await Promise.allSettled([...consumer.inFlight]);
      },
    };
  };

  return Object.freeze({
    kind: 'in-process' as const,
    async start() {
      if (state === 'closed')
        throw new TransportError('transport_closed', 'in-process transport was closed; create a new one');
      // this transport is the only one on its store: replays a stopped hub left unfinished are due again
      const resumed = await store.resumeReplays();
      if (resumed > 0) log?.warn({ letters: resumed }, 'resuming dead-letter replays left by an earlier run');
      state = 'started';
      for (const q of queues.values()) dispatch(q);
      await takeReplays();
      replayTimer = setInterval(() => void takeReplays(), replayPollMs);
      replayTimer.unref();
    },
    isReady: () => state === 'started',
    publishCommand: (message: CoreCommandMessage) => publish(message.core, message),
    async consumeCommands(core: Core, handler: (m: CoreCommandMessage, d: DeliveryInfo) => Promise<Disposition>) {
      return subscribe(core, (m, d) => handler(m as CoreCommandMessage, d));
    },
    publishResult: (message: CoreResultMessage) => publish('results', message),
    async consumeResults(handler: (m: CoreResultMessage) => Promise<void>) {
      return subscribe('results', async (m) => {
        await handler(m as CoreResultMessage);
        return { kind: 'ack' } as const;
      });
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      if (replayTimer) clearInterval(replayTimer);
      await replaying;
      const closed = (): TransportError =>
        new TransportError('transport_closed', 'in-process transport closed before a consumer finished the message');
      for (const [envelope, timer] of delayed) {
        clearTimeout(timer);
        envelope.fail(closed());
      }
      delayed.clear();
      for (const envelope of handling) envelope.fail(closed());
      for (const q of queues.values()) {
        for (const envelope of q.ready.splice(0)) envelope.fail(closed());
        q.consumers.forEach((c) => (c.cancelled = true));
        q.consumers.splice(0);
      }
    },
    deadLetters: (lane?: Lane) => store.list(lane),
    depths() {
      const out = new Map<Lane, { lane: Lane; ready: number; unacked: number; retrying: number }>();
      const of = (lane: Lane): { lane: Lane; ready: number; unacked: number; retrying: number } => {
        let d = out.get(lane);
        if (!d) out.set(lane, (d = { lane, ready: 0, unacked: 0, retrying: 0 }));
        return d;
      };
      for (const q of queues.values()) of(q.lane).ready += q.ready.length;
      for (const e of handling) {
        const lane = laneOfEnvelope.get(e);
        if (lane) of(lane).unacked += 1;
      }
      for (const e of delayed.keys()) {
        const lane = laneOfEnvelope.get(e);
        if (lane) of(lane).retrying += 1;
      }
      return [...out.values()];
    },
    async replayDeadLetters(lane: Lane, which: ReplayChoice) {
      assertReplayChoice(which);
      const n = await store.requestReplay(lane, which);
      await takeReplays();
      return n;
    },
  });
}
