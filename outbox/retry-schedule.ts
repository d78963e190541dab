// When a message the consumer could not finish comes back: the schedule's delay for the attempt, with
// jitter, so that commands that failed together (a core went down under load) do not come back
// together each round and meet the recovered core as one synchronized wave (AWS Architecture Blog,
// "Exponential Backoff And Jitter"). The jitter is symmetric, so an outage lasts as long on average
// before a command is dead as with the bare schedule.

/** Each delay is drawn from [base × (1 − RETRY_JITTER), base × (1 + RETRY_JITTER)]. */
export const RETRY_JITTER = 0.2;

/**
 * RabbitMQ cannot give each message its own delay: a retry queue's messages leave in order, so a
 * per-message TTL only takes effect at the head and a burst would leave together behind its longest
 * member. Its jitter is a choice among a few retry queues per delay instead (base × these factors).
 */
export const RETRY_JITTER_FACTORS: readonly number[] = [1 - RETRY_JITTER, 1, 1 + RETRY_JITTER];

/** A number in [0, 1), like Math.random; tests pass their own. */
export type Random = () => number;

/** The schedule's delay before attempt + 1: retryDelaysMs[attempt - 1], the last entry repeating. */
export function baseDelay(retryDelaysMs: readonly number[], attempt: number): number {
  if (retryDelaysMs.length === 0) throw new RangeError('a retry schedule needs at least one delay');
  const i = Math.max(0, Math.min(attempt - 1, retryDelaysMs.length - 1));
  return retryDelaysMs[i] ?? retryDelaysMs[0] ?? 0;
}

/** The in-process transport's delay: uniform over the jitter band around the schedule's delay, whole ms, ≥ 1. */
export function jitteredDelay(retryDelaysMs: readonly number[], attempt: number, random: Random = Math.random): number {
  const base = baseDelay(retryDelaysMs, attempt);
  return Math.max(1, Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random())));
}

/** The RabbitMQ transport's delay: one of the retry queues of the schedule's delay, chosen at random. */
export function bucketedDelay(retryDelaysMs: readonly number[], attempt: number, random: Random = Math.random): number {
  const base = baseDelay(retryDelaysMs, attempt);
  const i = Math.min(RETRY_JITTER_FACTORS.length - 1, Math.floor(random() * RETRY_JITTER_FACTORS.length));
  return bucketOf(base, RETRY_JITTER_FACTORS[i] ?? 1);
}

/** Every delay that has a retry queue for this schedule, ascending, without repeats. */
export function retryQueueDelays(retryDelaysMs: readonly number[]): number[] {
  const all = retryDelaysMs.flatMap((base) => RETRY_JITTER_FACTORS.map((f) => bucketOf(base, f)));
  return [...new Set(all)].sort((a, b) => a - b);
}

function bucketOf(base: number, factor: number): number {
  return Math.max(1, Math.round(base * factor));
}

/**
 * The RabbitMQ retry schedule when the environment overrides it (LOANHUB_AMQP_RETRY_DELAYS_MS as
 * comma-separated milliseconds, LOANHUB_AMQP_DELIVERY_LIMIT); every process on one vhost must agree,
 * since the delivery limit is a queue argument.
 */
export function retryScheduleFromEnv(env: NodeJS.ProcessEnv): { retryDelaysMs?: number[]; deliveryLimit?: number } {
  const out: { retryDelaysMs?: number[]; deliveryLimit?: number } = {};
  const delays = env.LOANHUB_AMQP_RETRY_DELAYS_MS;
  if (delays) {
    const list = delays.split(',').map((d) => d.trim());
    if (list.some((d) => !/^\d{1,9}$/.test(d) || Number(d) < 1)) {
      throw new Error(
        `LOANHUB_AMQP_RETRY_DELAYS_MS must be comma-separated milliseconds, got ${JSON.stringify(delays)}`,
      );
    }
    out.retryDelaysMs = list.map(Number);
  }
  const limit = env.LOANHUB_AMQP_DELIVERY_LIMIT;
  if (limit) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1) {
      throw new Error(`LOANHUB_AMQP_DELIVERY_LIMIT must be a whole number >= 1, got ${JSON.stringify(limit)}`);
    }
    out.deliveryLimit = Number(limit);
  }
  return out;
}
