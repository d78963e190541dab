import { Gauge, type Registry } from 'prom-client';
import { CORES, type Core } from '../domain/channel';
import { boundedCollect } from './bounded-collect';

// Queue depths and dead letters per core (and the results queue), read at each scrape from where
// `loanhub queues` reads them: on RabbitMQ the broker (AMQP counts, unacked from the management API
// when configured), in embedded mode the in-process transport and its durable dead letters. A read is
// bounded by a timeout: a slow or missing broker turns loanhub_queue_stats_up to 0, never a hung scrape.

/** A core's queue, or the hub's results queue (the transport's lanes). */
export type Lane = Core | 'results';

export interface LaneDepth {
  readonly lane: Lane;
  readonly ready: number;
  /** Delivered, not yet acked; null when the source cannot say (RabbitMQ without the management API). */
  readonly unacked: number | null;
  readonly retrying: number;
  readonly deadLettered: number;
  /** Consumers on the lane's work queue; null when the source has no such notion. */
  readonly consumers: number | null;
}

/** Reads every lane's depth now. */
export type QueueDepthSource = () => Promise<readonly LaneDepth[]>;

export const QUEUE_LANES: readonly Lane[] = [...CORES, 'results'];

export function createQueueMetrics(
  registry: Registry,
  source: QueueDepthSource,
  opts: { timeoutMs?: number; onError?: (err: unknown) => void } = {},
): void {
  let ok = 0;
  const read = boundedCollect(source, opts.timeoutMs ?? 3_000, (good, err) => {
    ok = good ? 1 : 0;
    if (!good) opts.onError?.(err);
  });
  new Gauge({
    name: 'loanhub_queue_stats_up',
    help: 'Whether this scrape could read the queue depths (1) or not (0: broker unreachable or too slow; the queue gauges are stale)',
    registers: [registry],
    async collect() {
      await read();
      this.set(ok);
    },
  });
  new Gauge({
    name: 'loanhub_queue_messages',
    help: 'Messages per queue (core, or results) and state: ready, unacked (when known), retrying (waiting out a retry delay)',
    labelNames: ['core', 'state'],
    registers: [registry],
    async collect() {
      const depths = await read();
      if (!depths) return;
      this.reset();
      for (const d of depths) {
        this.set({ core: d.lane, state: 'ready' }, d.ready);
        this.set({ core: d.lane, state: 'retrying' }, d.retrying);
        if (d.unacked !== null) this.set({ core: d.lane, state: 'unacked' }, d.unacked);
      }
    },
  });
  new Gauge({
    name: 'loanhub_dead_letters',
    help: 'Dead-lettered messages waiting for an operator (loanhub dlq list|replay), per core (or results)',
    labelNames: ['core'],
    registers: [registry],
    async collect() {
      const depths = await read();
      if (!depths) return;
      for (const d of depths) this.set({ core: d.lane }, d.deadLettered);
    },
  });
  new Gauge({
    name: 'loanhub_queue_consumers',
    help: "Consumers on a core's (or the results) work queue (RabbitMQ; 0 means no worker takes that core)",
    labelNames: ['core'],
    registers: [registry],
    async collect() {
      const depths = await read();
      if (!depths) return;
      for (const d of depths) if (d.consumers !== null) this.set({ core: d.lane }, d.consumers);
    },
  });
}

/** The embedded mode: the in-process transport's queues and its durable dead letters. */
export function inProcessDepthSource(transport: {
  depths(): Array<{ lane: Lane; ready: number; unacked: number; retrying: number }>;
  deadLetters(): Promise<ReadonlyArray<{ readonly lane: Lane }>>;
}): QueueDepthSource {
  return async () => {
    const letters = await transport.deadLetters();
    const now = transport.depths();
    return QUEUE_LANES.map((lane) => {
      const d = now.find((x) => x.lane === lane);
      return {
        lane,
        ready: d?.ready ?? 0,
        unacked: d?.unacked ?? 0,
        retrying: d?.retrying ?? 0,
        deadLettered: letters.filter((l) => l.lane === lane).length,
        consumers: null,
      };
    });
  };
}
