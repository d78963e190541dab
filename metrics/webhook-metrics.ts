import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CHANNELS, type Channel } from '../domain/channel';
import type { DeliveryStore } from '../store/delivery-store-port';
import { boundedCollect } from './bounded-collect';

// Confirmation webhooks in Prometheus: attempts by outcome and the receivers' latency per channel (from
// the dispatcher, through webhooks/webhook-metrics-port.ts, which this implements; metrics/ does not
// import webhooks/, the composition root checks the fit), and, read from the delivery table at each
// scrape, the backlog per channel (unfinished deliveries, age of the oldest) and the disabled endpoints.

export const DELIVERY_OUTCOMES = ['delivered', 'retried', 'gave_up', 'gone'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export interface WebhookMetrics {
  attempt(channel: Channel, outcome: DeliveryOutcome, seconds: number | null): void;
  readonly deliveries: Counter<'channel' | 'outcome'>;
  readonly receiverLatency: Histogram<'channel'>;
}

export function createWebhookMetrics(
  registry: Registry,
  opts: { deliveries?: DeliveryStore; now?: () => Date; scrapeTimeoutMs?: number } = {},
): WebhookMetrics {
  const now = opts.now ?? (() => new Date());
  const store = opts.deliveries;
  const deliveries = new Counter({
    name: 'loanhub_webhook_deliveries_total',
    help: 'Webhook delivery attempts by channel and outcome (delivered, retried, gave_up, gone = 410)',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  const receiverLatency = new Histogram({
    name: 'loanhub_webhook_receiver_duration_seconds',
    help: "Time from sending a webhook to the receiver's answer, per channel (answers only, any status)",
    labelNames: ['channel'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Every channel from the start, so a rate() has a zero to begin from.
  for (const channel of CHANNELS) for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ channel, outcome }, 0);
  if (store) {
    const scrapeTimeoutMs = opts.scrapeTimeoutMs ?? 2_000;
    let ok = 0;
    // One read per scrape, shared by the gauges below (each collect() is called once per scrape).
    const read = boundedCollect(
      async () => ({ backlog: await store.backlog(), disabled: await store.disabledChannels() }),
      scrapeTimeoutMs,
      (good) => (ok = good ? 1 : 0),
    );
    new Gauge({
      name: 'loanhub_webhook_store_up',
      help: 'Whether this scrape could read the webhook delivery table (1) or not (0: the backlog gauges are stale)',
      registers: [registry],
      async collect() {
        await read();
        this.set(ok);
      },
    });
    new Gauge({
      name: 'loanhub_webhook_backlog',
      help: 'Webhook deliveries not finished yet (pending or failed, waiting for a retry or an enable), per channel',
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        const got = await read();
        if (!got) return;
        for (const channel of CHANNELS) {
          this.set({ channel }, got.backlog.find((b) => b.channel === channel)?.waiting ?? 0);
        }
      },
    });
    new Gauge({
      name: 'loanhub_webhook_backlog_oldest_age_seconds',
      help: 'Age of the oldest unfinished webhook delivery per channel (0 when none)',
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        const got = await read();
        if (!got) return;
        for (const channel of CHANNELS) {
          const oldest = got.backlog.find((b) => b.channel === channel)?.oldestCreatedAt;
          this.set({ channel }, oldest ? Math.max(0, (now().getTime() - Date.parse(oldest)) / 1000) : 0);
        }
      },
    });
    new Gauge({
      name: 'loanhub_webhook_endpoint_disabled',
      help: "1 when a channel's webhook endpoint is disabled by a 410 Gone (until 'loanhub webhooks enable'), else 0",
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        const got = await read();
        if (!got) return;
        for (const channel of CHANNELS) this.set({ channel }, got.disabled.includes(channel) ? 1 : 0);
      },
    });
  }
  return {
    deliveries,
    receiverLatency,
    attempt(channel, outcome, seconds) {
      deliveries.inc({ channel, outcome });
      if (seconds !== null) receiverLatency.observe({ channel }, seconds);
    },
  };
}
