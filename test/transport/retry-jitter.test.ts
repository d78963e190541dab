import { createInProcessTransport } from '../../outbox/in-process-transport';
import { RABBITMQ_RETRY_DELAYS_MS } from '../../outbox/rabbitmq-topology';
import { baseDelay, bucketedDelay, jitteredDelay, retryQueueDelays } from '../../outbox/retry-schedule';
import type { DeadLetter, Subscription } from '../../outbox/transport-port';
import { command, until } from './transport-contract';

// Commands that fail together (a core went down under load) must not come back together each round:
// retries carry jitter, so a recovered core meets a spread of retries instead of one synchronized wave.
// (The RabbitMQ side, three retry queues per delay, is tested against the broker in
// rabbitmq-transport.test.ts.)

describe('the retry schedule with jitter', () => {
  test('each delay lies within ±20 % of the schedule, whose last entry repeats', () => {
    expect(baseDelay([1_000, 2_000], 1)).toBe(1_000);
    expect(baseDelay([1_000, 2_000], 7)).toBe(2_000);
    expect(jitteredDelay([1_000], 1, () => 0)).toBe(800);
    expect(jitteredDelay([1_000], 1, () => 0.5)).toBe(1_000);
    expect(jitteredDelay([1_000], 1, () => 0.999_999)).toBe(1_200);
    expect(bucketedDelay([30_000], 3, () => 0)).toBe(24_000);
    expect(bucketedDelay([30_000], 3, () => 0.5)).toBe(30_000);
    expect(bucketedDelay([30_000], 3, () => 0.99)).toBe(36_000);
  });

  test("RabbitMQ's retry queues: three per delay of the schedule, named once each", () => {
    expect(retryQueueDelays([1_000, 2_000])).toEqual([800, 1_000, 1_200, 1_600, 2_000, 2_400]);
    // 20 s × 1.2 and 30 s × 0.8 are one queue
    expect(retryQueueDelays(RABBITMQ_RETRY_DELAYS_MS)).toHaveLength(17);
    // every delay the transport may pick has its queue
    for (let attempt = 1; attempt <= 8; attempt++) {
      for (const r of [0, 0.34, 0.67, 0.99]) {
        expect(retryQueueDelays(RABBITMQ_RETRY_DELAYS_MS)).toContain(
          bucketedDelay(RABBITMQ_RETRY_DELAYS_MS, attempt, () => r),
        );
      }
    }
  });
});

describe('in-process transport: retries are spread', () => {
  test('forty commands that failed at the same moment come back spread over the jitter band', async () => {
    const BASE_MS = 200;
    const t = createInProcessTransport({ retryDelaysMs: [BASE_MS], maxAttempts: 2, prefetch: 100 });
    await t.start();
    const tries = new Map<string, number[]>();
    const sub: Subscription = await t.consumeCommands('cash', async (m) => {
      tries.set(m.messageId, [...(tries.get(m.messageId) ?? []), Date.now()]);
      return { kind: 'retry', reason: 'core unavailable' };
    });
    const sent = Array.from({ length: 40 }, (_, i) => command('cash', 'wave', i));
    await Promise.all(sent.map((m) => t.publishCommand(m)));
    await until(async () => (await t.deadLetters('cash')).length === 40, 'all forty used their two attempts');
    const letters: readonly DeadLetter[] = await t.deadLetters('cash');
    const delays = letters.map((l) => l.history.find((h) => h.outcome === 'retry')?.delayMs ?? -1);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(160);
    expect(Math.max(...delays)).toBeLessThanOrEqual(240);
    // not one wave: many distinct delays, spread over most of the 80 ms band
    expect(new Set(delays).size).toBeGreaterThan(20);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(40);
    // and the second attempts did arrive that spread out
    const seconds = [...tries.values()].map((at) => at[1] ?? 0);
    expect(Math.max(...seconds) - Math.min(...seconds)).toBeGreaterThan(40);
    await sub.cancel();
    await t.close();
  });
});
