import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { isCore } from '../domain/channel';
import type { OutboxStats } from '../store/store-port';

// Metrics of the path from outbox to core and back, per core (RabbitMQ issue): published, confirmed,
// consumed, applied, rejected, retried, dead-lettered; breaker state; core latency; outbox lag.

export interface CoreMetrics {
  readonly published: Counter<'core'>;
  readonly confirmed: Counter<'core'>;
  readonly consumed: Counter<'core'>;
  readonly applied: Counter<'core'>;
  readonly rejected: Counter<'core' | 'reason'>;
  readonly retried: Counter<'core'>;
  readonly deadLettered: Counter<'core'>;
  /** 0 closed, 1 open, 2 half-open, 3 isolated (cockatiel's CircuitState). */
  readonly breakerState: Gauge<'core'>;
  readonly coreLatency: Histogram<'core' | 'operation' | 'outcome'>;
  readonly outboxLagSeconds: Gauge;
  readonly outboxPending: Gauge;
}

/**
 * `outboxStats`, when this process owns the store, is read at each scrape, so the outbox gauges cost
 * nothing between scrapes and are never stale.
 */
export function createCoreMetrics(
  registry: Registry,
  opts: { outboxStats?: () => Promise<OutboxStats>; now?: () => Date } = {},
): CoreMetrics {
  const { outboxStats } = opts;
  const now = opts.now ?? (() => new Date());
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> =>
    new Counter({ name, help, labelNames, registers: [registry] });
  return {
    published: counter('loanhub_commands_published_total', 'Core commands handed to the transport', ['core']),
    confirmed: counter(
      'loanhub_commands_confirmed_total',
      'Core commands the transport confirmed (outbox row marked sent)',
      ['core'],
    ),
    consumed: counter('loanhub_commands_consumed_total', 'Core commands taken by a worker', ['core']),
    applied: counter('loanhub_core_applied_total', 'Commands the core applied', ['core']),
    rejected: counter('loanhub_core_rejected_total', 'Commands the core refused, by reason', ['core', 'reason']),
    retried: counter(
      'loanhub_commands_retried_total',
      'Commands parked for a delayed retry (the core could not answer, or the worker failed)',
      ['core'],
    ),
    deadLettered: counter(
      'loanhub_commands_dead_lettered_total',
      'Commands put on the dead letters (after their attempts, refused by the worker, or unreadable)',
      ['core'],
    ),
    breakerState: new Gauge({
      name: 'loanhub_core_breaker_state',
      help: 'Circuit breaker per core: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['core'],
      registers: [registry],
    }),
    coreLatency: new Histogram({
      name: 'loanhub_core_request_duration_seconds',
      help: 'Latency of calls to a loan core',
      labelNames: ['core', 'operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    outboxLagSeconds: new Gauge({
      name: 'loanhub_outbox_lag_seconds',
      help: 'Age of the oldest pending outbox row (core commands and channel events)',
      registers: [registry],
      async collect() {
        if (!outboxStats) return;
        const stats = await outboxStats();
        this.set(stats.oldestPendingAt ? Math.max(0, (now().getTime() - Date.parse(stats.oldestPendingAt)) / 1000) : 0);
      },
    }),
    outboxPending: new Gauge({
      name: 'loanhub_outbox_pending',
      help: 'Outbox rows not yet handed on (core commands and channel events)',
      registers: [registry],
      async collect() {
        if (outboxStats) this.set((await outboxStats()).pending);
      },
    }),
  };
}

/**
 * Retries and dead letters are counted where they happen, in the transport (the worker's last `retry`
 * becomes a dead letter there, and an unreadable message never reaches the worker). The results lane is
 * not a core's command queue: its dead letters show in loanhub_dead_letters{core="results"}. Shaped as
 * outbox/transport-port.ts's TransportObserver (metrics/ does not import the transport).
 */
export function commandOutcomeObserver(metrics: Pick<CoreMetrics, 'retried' | 'deadLettered'>): {
  retried(lane: string): void;
  deadLettered(lane: string): void;
} {
  return {
    retried: (lane) => {
      if (isCore(lane)) metrics.retried.inc({ core: lane });
    },
    deadLettered: (lane) => {
      if (isCore(lane)) metrics.deadLettered.inc({ core: lane });
    },
  };
}
