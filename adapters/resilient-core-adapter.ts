import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen } from 'cockatiel';
import type { Core } from '../domain/channel';
import type { Logger } from '../logging/logger';
import type { CoreMetrics } from '../metrics/core-metrics';
import { CoreUnavailableError, type CoreAdapter, type CoreOutcome } from './core-port';

// Cross-cutting behaviour around a core adapter (STYLE habit 8): a circuit breaker per core (cockatiel),
// latency metrics and logging. The adapter inside only translates contracts. When a core is down the
// breaker opens and calls fail at once with a retryable CoreUnavailableError, so commands wait in the
// transport's delayed retry queues instead of hammering the core; a half-open probe closes it again.
// Retries themselves are the transport's job (delayed retry queues), not repeated calls here.

export interface ResilienceOptions {
  /** Consecutive failures that open the breaker. */
  readonly failuresToOpen?: number;
  /** How long the breaker stays open before one probe call is let through. */
  readonly halfOpenAfterMs?: number;
}

export function withResilience(
  adapter: CoreAdapter,
  deps: { logger: Logger; metrics?: CoreMetrics; options?: ResilienceOptions },
): CoreAdapter & { breakerState(): CircuitState } {
  const core: Core = adapter.core;
  // Only "the core could not answer" counts against it; a refusal (closed loan) is a healthy answer.
  const breaker = circuitBreaker(
    handleWhen((err) => err instanceof CoreUnavailableError && err.retryable),
    {
      breaker: new ConsecutiveBreaker(deps.options?.failuresToOpen ?? 5),
      halfOpenAfter: deps.options?.halfOpenAfterMs ?? 5_000,
    },
  );
  const log = deps.logger.child({ core });
  deps.metrics?.breakerState.set({ core }, CircuitState.Closed);
  breaker.onStateChange((state) => {
    deps.metrics?.breakerState.set({ core }, state);
    const name = CircuitState[state];
    if (state === CircuitState.Open)
      log.warn({ breaker: name }, 'core circuit breaker opened; commands wait in the retry queues');
    else log.info({ breaker: name }, 'core circuit breaker state changed');
  });

  async function call<T>(operation: string, fn: () => Promise<T>, outcomeOf: (v: T) => string): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      const value = await breaker.execute(fn);
      deps.metrics?.coreLatency.observe({ core, operation, outcome: outcomeOf(value) }, seconds(started));
      return value;
    } catch (err) {
      if (err instanceof BrokenCircuitError)
        throw new CoreUnavailableError(core, `${core} core circuit is open`, true, { cause: err });
      deps.metrics?.coreLatency.observe({ core, operation, outcome: 'unavailable' }, seconds(started));
      throw err;
    }
  }
  const outcomeKind = (o: CoreOutcome): string => o.kind;

  return Object.freeze({
    core,
    inquire: (loanNumber: string) =>
      call(
        'inquire',
        () => adapter.inquire(loanNumber),
        (v) => (v ? 'found' : 'not_found'),
      ),
    applyPayment: (command: Parameters<CoreAdapter['applyPayment']>[0]) =>
      call('apply', () => adapter.applyPayment(command), outcomeKind),
    reversePayment: (command: Parameters<CoreAdapter['reversePayment']>[0]) =>
      call('reverse', () => adapter.reversePayment(command), outcomeKind),
    breakerState: () => breaker.state,
  });
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
