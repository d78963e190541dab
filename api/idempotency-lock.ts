import { randomUUID } from 'node:crypto';
import { HubError } from '../domain/errors';
import type { PaymentStore } from '../store/store-port';

// While a request with a key is being processed, a second one with the same key gets 409 (the IETF
// Idempotency-Key draft §2.6; Stripe does the same). The store's transaction is the guarantee of one
// payment; this only gives the concurrent caller a clear answer instead of a wait.
// - Within a process: a set of the keys in hand (no database round trip for the common case).
// - Across instances (a shared database such as PostgreSQL): a mark in the database with a lease, so a
//   key in hand at another instance is refused too, and an instance that dies holding a key holds it
//   only until the lease runs out. SQLite is one process's database, so the set alone is exact there.

export interface IdempotencyLock {
  run<T>(clientId: string, key: string, work: () => Promise<T>): Promise<T>;
}

export interface IdempotencyLockOptions {
  /** Set with a shared database: the in-flight mark is kept there too. */
  readonly store?: Pick<PaymentStore, 'kind' | 'claimIdempotencyKey' | 'releaseIdempotencyKey'>;
  /** How long a mark holds if its instance dies (default 60 s: longer than any request may take). */
  readonly leaseMs?: number;
  readonly now?: () => Date;
}

function inFlight(): HubError {
  return new HubError(
    'idempotency_key_in_flight',
    'a request with this Idempotency-Key is still being processed; retry shortly',
  );
}

export function createIdempotencyLock(opts: IdempotencyLockOptions = {}): IdempotencyLock {
  const held = new Set<string>();
  const shared = opts.store && opts.store.kind !== 'sqlite' ? opts.store : undefined;
  const leaseMs = opts.leaseMs ?? 60_000;
  const now = opts.now ?? ((): Date => new Date());
  // Marks name their instance and request, so a release never drops another holder's mark.
  const instance = randomUUID();
  let seq = 0;
  return Object.freeze({
    async run<T>(clientId: string, key: string, work: () => Promise<T>): Promise<T> {
      const id = `${clientId}\u0000${key}`;
      if (held.has(id)) throw inFlight();
      held.add(id);
      try {
        if (!shared) return await work();
        seq += 1;
        const holder = `${instance}:${seq}`;
        const at = now();
        if (!(await shared.claimIdempotencyKey(clientId, key, holder, new Date(at.getTime() + leaseMs), at))) {
          throw inFlight();
        }
        try {
          return await work();
        } finally {
          // A release that fails (the database just went away) only makes the key wait out its lease.
          await shared.releaseIdempotencyKey(clientId, key, holder).catch(() => undefined);
        }
      } finally {
        held.delete(id);
      }
    },
  });
}
