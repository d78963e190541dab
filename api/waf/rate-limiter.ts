// Token buckets per key (client id, or source IP), in memory. Each process limits what it serves; behind
// a load balancer the AWS WAF's rate rules give the fleet-wide ceiling.

export interface RateLimiter {
  /** Takes one token; on refusal says how many seconds until one is free. */
  take(key: string, perMinute: number, now?: number): { ok: true } | { ok: false; retryAfterSeconds: number };
}

export function createRateLimiter(opts: { maxKeys?: number } = {}): RateLimiter {
  const maxKeys = opts.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return Object.freeze({
    take(key: string, perMinute: number, now: number = Date.now()) {
      const ratePerMs = perMinute / 60_000;
      // A burst of up to ten seconds' worth, at least a few requests.
      const capacity = Math.max(5, perMinute / 6);
      let b = buckets.get(key);
      if (!b) {
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
        b = { tokens: capacity, at: now };
        buckets.set(key, b);
      }
      b.tokens = Math.min(capacity, b.tokens + (now - b.at) * ratePerMs);
      b.at = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true } as const;
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)) } as const;
    },
  });
}
