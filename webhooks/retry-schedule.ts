// When a failed delivery is tried again, and when it is given up. Exponential backoff with full jitter
// (AWS Architecture Blog, "Exponential Backoff And Jitter": sleep = random(0, min(cap, base * 2^n))),
// so a receiver coming back after an outage is not hit by every waiting delivery at the same instant.
// A delivery is dead-lettered on the first failure at least `giveUpAfterMs` after its first failure,
// so it is retried for at least that long whatever the jitter draws.

export interface RetrySchedule {
  /** The ceiling of the first retry's delay; doubles per failure. */
  readonly baseDelayMs: number;
  /** The largest ceiling a delay can have. */
  readonly maxDelayMs: number;
  /** Retries go on at least this long after the first failure (24 h by default). */
  readonly giveUpAfterMs: number;
  /** The longest `Retry-After` honoured (a receiver asking for a week gets this). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = Object.freeze({
  baseDelayMs: 5_000,
  maxDelayMs: 60 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
  maxRetryAfterMs: 6 * 60 * 60_000,
});

/** The delay before the next try after `failures` failed attempts (1 = the first failure). */
export function backoffDelayMs(schedule: RetrySchedule, failures: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/** Whether a failure at `now` ends the retries of a delivery that first failed at `firstFailedAt`. */
export function isGivenUp(schedule: RetrySchedule, firstFailedAt: Date, now: Date): boolean {
  return now.getTime() - firstFailedAt.getTime() >= schedule.giveUpAfterMs;
}

/**
 * A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as milliseconds from `now`;
 * null when absent or unreadable, so the caller falls back to its backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}
