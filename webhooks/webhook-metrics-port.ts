import type { Channel } from '../domain/channel';

// What the webhook dispatcher reports to metrics, so webhooks/ needs no metrics library:
// metrics/webhook-metrics.ts implements it with prom-client.

/** What one delivery attempt came to (410 Gone disables the channel's endpoint). */
export type DeliveryOutcome = 'delivered' | 'retried' | 'gave_up' | 'gone';

export interface WebhookMetricsPort {
  /** One attempt finished; `seconds` is the receiver's latency when it answered (null on timeout/network). */
  attempt(channel: Channel, outcome: DeliveryOutcome, seconds: number | null): void;
}
