import type { Logger } from '../logging/logger';
import type { PaymentStore } from '../store/store-port';

// Keeps the idempotency table bounded: keys past their retention (LOANHUB_IDEMPOTENCY_TTL_HOURS) are
// deleted every `everyMs` (default 10 min), in-flight marks past their lease with them. A key past its
// retention is already free before the purge comes (the store ignores it), so the purge only frees space.
// Several instances purging at once is harmless: each DELETE takes what is still there.

export interface IdempotencyPurge {
  /** One purge now (the timer's work); returns the keys deleted. */
  runOnce(): Promise<number>;
  stop(): void;
}

export function startIdempotencyPurge(opts: {
  store: PaymentStore;
  logger: Logger;
  now?: () => Date;
  everyMs?: number;
}): IdempotencyPurge {
  const now = opts.now ?? ((): Date => new Date());
  const log = opts.logger.child({ part: 'idempotency-purge' });
  let busy: Promise<number> | null = null;
  const runOnce = (): Promise<number> => {
    busy ??= opts.store
      .purgeExpiredIdempotency(now())
      .then((n) => {
        if (n > 0) log.info({ keys: n }, 'expired idempotency keys purged');
        return n;
      })
      .finally(() => {
        busy = null;
      });
    return busy;
  };
  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => log.warn({ err }, 'idempotency purge failed; next try at the next tick'));
  }, opts.everyMs ?? 600_000);
  timer.unref();
  return Object.freeze({
    runOnce,
    stop: () => clearInterval(timer),
  });
}
