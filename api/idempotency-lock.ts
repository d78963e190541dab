import { HubError } from '../domain/errors';

// While a request with a key is being processed, a second one with the same key gets 409 (the IETF
// Idempotency-Key draft §2.6; Stripe does the same). Per process: the store's transaction is the
// guarantee of one payment; this only gives the concurrent caller a clear answer instead of a wait.

export interface IdempotencyLock {
  run<T>(clientId: string, key: string, work: () => Promise<T>): Promise<T>;
}

export function createIdempotencyLock(): IdempotencyLock {
  const held = new Set<string>();
  return Object.freeze({
    async run<T>(clientId: string, key: string, work: () => Promise<T>): Promise<T> {
      const id = `${clientId}\u0000${key}`;
      if (held.has(id)) {
        throw new HubError(
          'idempotency_key_in_flight',
          'a request with this Idempotency-Key is still being processed; retry shortly',
        );
      }
      held.add(id);
      try {
        return await work();
      } finally {
        held.delete(id);
      }
    },
  });
}
