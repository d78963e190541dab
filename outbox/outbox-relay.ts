import type { Logger } from '../logging/logger';
import type { CoreMetrics } from '../metrics/core-metrics';
import type { OutboxRow, PaymentStore } from '../store/store-port';
import type { CoreCommandMessage, Transport } from './transport-port';

// Hands outbox rows to the transport. A row is marked sent only after the transport has durably taken
// it (publisher confirm, or the in-process consumer finished); a failed publish leaves it pending with a
// growing delay. Rows are leased while in flight so a second relay does not take them; delivery stays at
// least once and consumers are idempotent by payment id.

export interface OutboxRelay {
  start(): void;
  /** Wakes the relay now (called after a commit that wrote outbox rows). */
  notify(): void;
  /** Stops claiming and waits for in-flight publishes. */
  stop(): Promise<void>;
  inFlight(): number;
}

export interface OutboxRelayOptions {
  readonly store: PaymentStore;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly batchSize?: number;
  readonly maxInFlight?: number;
  readonly pollMs?: number;
  readonly leaseMs?: number;
  readonly now?: () => Date;
  /**
   * The only relay on this database (the embedded hub): leases left by a crashed predecessor are
   * dropped at start instead of waiting for them to run out.
   */
  readonly exclusive?: boolean;
  readonly metrics?: CoreMetrics;
}

export function createOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const batchSize = opts.batchSize ?? 200;
  const maxInFlight = opts.maxInFlight ?? 1000;
  const pollMs = opts.pollMs ?? 250;
  const leaseMs = opts.leaseMs ?? 60_000;
  const now = opts.now ?? (() => new Date());
  const inFlight = new Map<number, Promise<void>>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let renewer: NodeJS.Timeout | undefined;
  let pumping = false;
  let again = false;
  let woken = false;

  // Commits and confirms wake the relay many times per event-loop turn; one claim (a write
  // transaction, so an fsync) per turn serves them all instead of one per payment.
  const wake = (): void => {
    if (woken || !running) return;
    woken = true;
    setImmediate(() => {
      woken = false;
      if (running) void pump();
    });
  };

  const publish = async (row: OutboxRow): Promise<void> => {
    const log = opts.logger.child({ paymentId: row.paymentId, outboxId: row.id, messageId: row.messageId });
    try {
      if (row.topic !== 'core.command') throw new Error(`no publisher for outbox topic ${row.topic}`);
      const message = JSON.parse(row.payload) as CoreCommandMessage;
      opts.metrics?.published.inc({ core: message.core });
      await opts.transport.publishCommand(message);
      await opts.store.markOutboxSent(row.id, now());
      opts.metrics?.confirmed.inc({ core: message.core });
      log.debug('outbox row published');
    } catch (err) {
      const delay = Math.min(30_000, 250 * 2 ** Math.min(row.attempts, 7)) * (0.5 + Math.random() / 2);
      const reason = err instanceof Error ? err.message : String(err);
      log.warn(
        { attempt: row.attempts, retryInMs: Math.round(delay), err: reason },
        'outbox publish failed; will retry',
      );
      await opts.store.releaseOutbox(row.id, reason, new Date(now().getTime() + delay)).catch((e: unknown) => {
        log.error({ err: e }, 'could not release outbox row; its lease will expire');
      });
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        const room = maxInFlight - inFlight.size;
        if (!running || room <= 0 || !opts.transport.isReady()) break;
        const rows = await opts.store.claimOutbox(['core.command'], Math.min(batchSize, room), leaseMs, now());
        for (const row of rows) {
          if (inFlight.has(row.id)) continue;
          const p = publish(row).finally(() => {
            inFlight.delete(row.id);
            wake();
          });
          inFlight.set(row.id, p);
        }
        if (rows.length === Math.min(batchSize, room)) again = true;
      } while (again && running);
    } catch (err) {
      opts.logger.error({ err }, 'outbox relay could not claim rows');
    } finally {
      pumping = false;
    }
  };

  const schedule = (): void => {
    if (!running) return;
    timer = setTimeout(() => {
      void pump().finally(schedule);
    }, pollMs);
    timer.unref();
  };

  return Object.freeze({
    start() {
      if (running) return;
      running = true;
      const first = opts.exclusive
        ? opts.store.releaseAllOutboxLeases().then((n) => {
            if (n > 0) opts.logger.warn({ rows: n }, 'dropped outbox leases left by an earlier run');
          })
        : Promise.resolve();
      void first
        .then(pump, (err: unknown) => opts.logger.error({ err }, 'could not drop old outbox leases'))
        .finally(schedule);
      // Rows stay leased while in flight (the in-process transport holds them until a consumer finishes).
      renewer = setInterval(
        () => {
          if (inFlight.size === 0) return;
          opts.store
            .renewOutboxLeases([...inFlight.keys()], new Date(now().getTime() + leaseMs))
            .catch((err: unknown) => {
              opts.logger.error({ err }, 'could not renew outbox leases');
            });
        },
        Math.max(1000, leaseMs / 3),
      );
      renewer.unref();
    },
    notify() {
      wake();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      if (renewer) clearInterval(renewer);
      await Promise.allSettled([...inFlight.values()]);
    },
    inFlight: () => inFlight.size,
  });
}
