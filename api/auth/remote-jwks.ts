import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { OperatorErrorCode } from '../../domain/errors';

// The signing keys of an external IdP, read from its JWKS URL and kept in memory. Two rules decide
// how it behaves when the IdP misbehaves (RFC 8725 §3.1, and what a bank's on-call needs):
//  - keys already fetched keep verifying while the IdP is down: a stale set is refreshed in the
//    background and a failed refresh keeps the last good set, so an IdP outage does not turn every
//    channel's valid token into a 401;
//  - a token whose `kid` is not in the set makes the hub refetch (that is how a rotated-in key is picked
//    up at once), but only a few times in a row and then once per interval, so forged kids cannot make
//    the hub hammer the IdP; when the refetch fails or finds nothing the token is refused (fail closed).

export interface RemoteJwksOptions {
  readonly url: URL;
  /** A set older than this is refreshed in the background (the old one keeps serving meanwhile). */
  readonly maxAgeMs?: number;
  /** Refetches an unknown `kid` may trigger back to back… */
  readonly unknownKidBurst?: number;
  /** …and then one per this interval. Also the wait between background refresh attempts that failed. */
  readonly refetchIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

export interface RemoteJwks {
  readonly getKey: JWTVerifyGetKey;
  /** When the set now in use was fetched (epoch ms), or null before the first fetch. */
  fetchedAt(): number | null;
  /** The last fetch error, cleared by the next successful fetch. */
  lastError(): string | null;
}

export const JWKS_MAX_BYTES = 256 * 1024;

export function createRemoteJwks(opts: RemoteJwksOptions): RemoteJwks {
  const maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
  const burst = opts.unknownKidBurst ?? 3;
  const intervalMs = opts.refetchIntervalMs ?? 10_000;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;

  let current: { readonly fetchedAt: number; readonly select: JWTVerifyGetKey } | null = null;
  let inFlight: Promise<void> | null = null;
  let failure: string | null = null;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  // Token bucket of refetches an unknown kid may trigger.
  let tokens = burst;
  let refilledAt = now();

  const load = async (): Promise<void> => {
    lastAttemptAt = now();
    try {
      const res = await doFetch(opts.url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await res.text();
      if (text.length > JWKS_MAX_BYTES) throw new Error(`larger than ${JWKS_MAX_BYTES} bytes`);
      const jwks = JSON.parse(text) as JSONWebKeySet;
      // createLocalJWKSet checks the shape ({ keys: [objects] }) and throws on anything else.
      current = { fetchedAt: now(), select: createLocalJWKSet(jwks) };
      failure = null;
    } catch (err) {
      failure = `fetching ${opts.url.href} failed: ${describe(err)}`;
      throw new JwksUnavailable(failure);
    }
  };
  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const mayRefetchForUnknownKid = (): boolean => {
    const t = now();
    const earned = Math.floor((t - refilledAt) / intervalMs);
    if (earned > 0) {
      tokens = Math.min(burst, tokens + earned);
      refilledAt = tokens === burst ? t : refilledAt + earned * intervalMs;
    }
    if (tokens === 0) return false;
    tokens -= 1;
    return true;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!current) {
      // Never fetched yet: fetch now, but while the IdP is unreachable at most once a second.
      if (failure !== null && now() - lastAttemptAt < 1000) throw new JwksUnavailable(failure);
      await refresh();
    }
    const set = current;
    if (!set) throw new JwksUnavailable(failure ?? 'no keys');
    if (now() - set.fetchedAt > maxAgeMs && now() - lastAttemptAt >= intervalMs) {
      // Stale: refresh for the next requests; this one is served from the set we have.
      refresh().catch(() => undefined);
    }
    try {
      return await set.select(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      const kid = typeof header.kid === 'string' ? header.kid.slice(0, 64) : '(none)';
      if (!mayRefetchForUnknownKid()) {
        throw new errors.JWKSNoMatchingKey(`no key with kid ${kid}, and refetching is rate-limited`);
      }
      try {
        await refresh();
      } catch {
        throw new errors.JWKSNoMatchingKey(`no key with kid ${kid}; ${failure ?? 'the refetch failed'}`);
      }
      const fresh = current;
      if (!fresh) throw new errors.JWKSNoMatchingKey(`no key with kid ${kid}`);
      try {
        return await fresh.select(header, token);
      } catch (again) {
        if (again instanceof errors.JWKSNoMatchingKey)
          throw new errors.JWKSNoMatchingKey(`no key with kid ${kid}, not even in a fresh copy of the JWKS`);
        throw again;
      }
    }
  };

  return Object.freeze({
    getKey,
    fetchedAt: () => current?.fetchedAt ?? null,
    lastError: () => failure,
  });
}

/** The JWKS could not be fetched (and no keys were cached yet). */
export class JwksUnavailable extends Error {
  readonly code: OperatorErrorCode = 'ERR_JWKS_UNAVAILABLE';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  return typeof causeCode === 'string' ? `${err.message} (${causeCode})` : err.message;
}
