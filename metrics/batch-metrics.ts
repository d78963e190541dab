import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BatchStore } from '../store/batch-store-port';

// The nightly mainframe batch in Prometheus: files by core and state (read from the store at each
// scrape), payments sent/posted/rejected, the last good night per core, send time, response lag, and
// an overdue-response alert gauge.

export interface BatchMetrics {
  readonly paymentsSent: Counter<'core'>;
  readonly paymentsPosted: Counter<'core'>;
  readonly paymentsRejected: Counter<'core'>;
  readonly lastSuccess: Gauge<'core'>;
  readonly sendDuration: Histogram<'core'>;
  readonly responseLag: Histogram<'core'>;
  readonly responseOverdue: Gauge<'core'>;
  readonly sendFailures: Counter<'core'>;
}

export function createBatchMetrics(registry: Registry, store?: BatchStore): BatchMetrics {
  if (store) {
    new Gauge({
      name: 'loanhub_batch_files',
      help: 'Mainframe request files by core and state',
      labelNames: ['core', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const c of await store.fileCounts()) this.set({ core: c.core, state: c.state }, c.count);
      },
    });
  }
  return {
    paymentsSent: new Counter({
      name: 'loanhub_batch_payments_sent_total',
      help: 'Payments sent to the mainframe in verified request files',
      labelNames: ['core'],
      registers: [registry],
    }),
    paymentsPosted: new Counter({
      name: 'loanhub_batch_payments_posted_total',
      help: 'Payments the mainframe posted (POSTED)',
      labelNames: ['core'],
      registers: [registry],
    }),
    paymentsRejected: new Counter({
      name: 'loanhub_batch_payments_rejected_total',
      help: 'Payments the mainframe rejected (POST_REJECTED)',
      labelNames: ['core'],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'loanhub_batch_last_success_timestamp_seconds',
      help: 'When the last response of a core was applied completely (Unix time)',
      labelNames: ['core'],
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: 'loanhub_batch_send_duration_seconds',
      help: 'Upload, verification and rename of one request file',
      labelNames: ['core'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    responseLag: new Histogram({
      name: 'loanhub_batch_response_lag_seconds',
      help: 'From a request file sent to its response applied',
      labelNames: ['core'],
      buckets: [1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800],
      registers: [registry],
    }),
    responseOverdue: new Gauge({
      name: 'loanhub_batch_files_overdue',
      help: 'Request files of a core whose response is past its deadline (alert when > 0)',
      labelNames: ['core'],
      registers: [registry],
    }),
    sendFailures: new Counter({
      name: 'loanhub_batch_send_failures_total',
      help: 'Request files left FAILED after their upload retries',
      labelNames: ['core'],
      registers: [registry],
    }),
  };
}
