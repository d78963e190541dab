import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// The hub's Prometheus metrics, on a registry the composition root owns and /metrics serves.

export interface HubMetrics {
  readonly registry: Registry;
  readonly wafBlocks: Counter<'rule' | 'channel'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly paymentsAccepted: Counter<'channel' | 'core'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
}

export function createHubMetrics(opts: { defaultMetrics?: boolean } = {}): HubMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'loanhub_' });
  return {
    registry,
    wafBlocks: new Counter({
      name: 'loanhub_waf_blocks_total',
      help: 'Requests refused by an in-app WAF rule',
      labelNames: ['rule', 'channel'],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'loanhub_http_requests_total',
      help: 'API requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    paymentsAccepted: new Counter({
      name: 'loanhub_payments_accepted_total',
      help: 'Payments accepted (201, not replays)',
      labelNames: ['channel', 'core'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'loanhub_http_request_duration_seconds',
      help: 'API request latency, from the request to the last byte of the answer, by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
