import type { ChannelCatalogue } from '../channels/channel-catalogue';
import { CHANNELS, isChannel, type Channel } from '../domain/channel';
import type { Logger } from '../logging/logger';
import type { PaymentEventMessage } from '../payments/payment-event';
import type { Delivery, DeliveryResult, DeliveryStore, NewDelivery } from '../store/delivery-store-port';
import type { OutboxRow, PaymentStore } from '../store/store-port';
import { createHttpSender } from './http-sender';
import type { SendOutcome, WebhookSender } from './webhook-sender-port';
import type { DeliveryOutcome, WebhookMetricsPort } from './webhook-metrics-port';
import {
  backoffDelayMs,
  DEFAULT_RETRY_SCHEDULE,
  isGivenUp,
  parseRetryAfter,
  type RetrySchedule,
} from './retry-schedule';
import { resolveChannelSecrets, type ChannelSecrets } from './webhook-secrets';
import { signWebhook } from './webhook-signature';

// Confirmation webhooks, from the outbox to the channel. Two loops share one process:
//   intake:   claim `payment.event` outbox rows → one delivery per event per channel endpoint (one
//             transaction, idempotent by event id) → mark the outbox rows sent.
//   delivery: claim due deliveries (the oldest unfinished one per payment, so a payment's events
//             arrive in order) → sign and POST them concurrently → record the results in batches.
// Delivery is at least once: a crash between a 2xx and its commit sends that event again, with the
// same `webhook-id`, which is what receivers deduplicate on.

export interface WebhookDispatcher {
  start(): void;
  /** Wakes the intake now (called after a commit that wrote outbox rows). */
  notify(): void;
  /** Stops claiming, waits for the deliveries in flight and records their results. */
  stop(): Promise<void>;
}

export interface WebhookDispatcherOptions {
  /** The hub's store; its `deliveries` keep the delivery table. */
  readonly store: PaymentStore;
  /**
   * This is the only dispatcher on the database (SQLite): leases left by a crashed run are dropped at
   * start. With several instances (PostgreSQL) they are left to run out.
   */
  readonly exclusive?: boolean;
  readonly catalogue: ChannelCatalogue;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  /** The clock of the outbox and the delivery table (the hub's); signatures always use the real time. */
  readonly now?: () => Date;
  /** Deliveries in flight at once (default 256). */
  readonly concurrency?: number;
  /** Deliveries in flight to one channel at once (default: half of `concurrency`). */
  readonly perChannelConcurrency?: number;
  readonly schedule?: RetrySchedule;
  /** Per-attempt deadline (default 10 s). */
  readonly timeoutMs?: number;
  /** How often the table is polled for due retries and CLI redeliveries (default 500 ms). */
  readonly pollMs?: number;
  readonly sender?: WebhookSender;
  /** Counts attempts by outcome and the receivers' latency per channel (metrics/webhook-metrics.ts). */
  readonly metrics?: WebhookMetricsPort;
}

const INTAKE_BATCH = 500;
const OUTBOX_LEASE_MS = 60_000;

export function createWebhookDispatcher(opts: WebhookDispatcherOptions): WebhookDispatcher {
  const now = opts.now ?? ((): Date => new Date());
  const concurrency = opts.concurrency ?? 256;
  const perChannel = Math.max(1, Math.min(concurrency, opts.perChannelConcurrency ?? Math.ceil(concurrency / 2)));
  const schedule = opts.schedule ?? DEFAULT_RETRY_SCHEDULE;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 500;
  const leaseMs = Math.max(60_000, timeoutMs * 3);
  const log = opts.logger.child({ part: 'webhooks' });
  const secrets: ReadonlyMap<Channel, ChannelSecrets> = resolveChannelSecrets(opts.catalogue, opts.env, opts.dataDir);
  for (const s of secrets.values()) {
    // Where the secrets come from, never what they are.
    log.debug({ channel: s.channel, source: s.source.kind, keys: s.keys.length }, 'webhook signing keys loaded');
  }
  const deliveries: DeliveryStore = opts.store.deliveries;
  const sender = opts.sender ?? createHttpSender({ timeoutMs, maxSockets: concurrency });

  let running = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let starting: Promise<void> = Promise.resolve();
  let intakeBusy = false;
  let intakeAgain = false;
  let intakePausedUntil = 0;
  let pumpBusy = false;
  let pumpAgain = false;
  let flushScheduled = false;
  const inFlight = new Map<number, Promise<void>>();
  const results: DeliveryResult[] = [];

  // The fields of every log line about a delivery (a pino child per delivery costs more than the send).
  const about = (d: Delivery): Record<string, string | number> => ({
    paymentId: d.paymentId,
    deliveryId: d.id,
    eventId: d.eventId,
    channel: d.channel,
  });

  // Intake ------------------------------------------------------------------------------------------

  const toDelivery = (row: OutboxRow): NewDelivery => {
    const message = JSON.parse(row.payload) as PaymentEventMessage;
    if (!isChannel(message.channel) || typeof message.id !== 'string' || typeof message.type !== 'string') {
      throw new Error('payment event without a known channel, id or type');
    }
    const url = opts.catalogue.policy(message.channel).callbackUrl;
    return {
      eventId: message.id,
      eventType: message.type,
      channel: message.channel,
      paymentId: row.paymentId,
      payload: row.payload,
      status: url ? 'pending' : 'skipped_no_endpoint',
    };
  };

  const intakeOnce = async (): Promise<number> => {
    const rows = await opts.store.claimOutbox(['payment.event'], INTAKE_BATCH, OUTBOX_LEASE_MS, now());
    if (rows.length === 0) return 0;
    const good: NewDelivery[] = [];
    const goodRows: OutboxRow[] = [];
    for (const row of rows) {
      try {
        good.push(toDelivery(row));
        goodRows.push(row);
      } catch (err) {
        // Written by our own code, so this is a bug: keep the row (it is retried hourly) and say so.
        log.error({ paymentId: row.paymentId, outboxId: row.id, err: errText(err) }, 'unreadable payment event');
        await opts.store.releaseOutbox(row.id, errText(err), new Date(now().getTime() + 3600_000));
      }
    }
    try {
      const at = now();
      // One transaction for the batch: the deliveries and the outbox rows' `sent` mark commit together
      // (the port's markOutboxSent is a commit, and an fsync, per row).
      await deliveries.insertFromOutbox(
        good,
        goodRows.map((r) => r.id),
        at,
      );
      for (const d of good) {
        if (d.status === 'skipped_no_endpoint') {
          log.debug(
            { paymentId: d.paymentId, eventId: d.eventId, channel: d.channel },
            'webhook recorded as skipped_no_endpoint: the channel has no callback URL',
          );
        }
      }
    } catch (err) {
      // Give every row back at once, so the next claim takes them in order again (per-payment order
      // depends on it), and pause the intake a little.
      intakePausedUntil = Date.now() + 1000;
      log.error({ rows: rows.length, err: errText(err) }, 'could not turn outbox rows into webhook deliveries');
      for (const row of goodRows) {
        await opts.store.releaseOutbox(row.id, errText(err), now()).catch(() => undefined);
      }
      return 0;
    }
    return rows.length;
  };

  const intake = async (): Promise<void> => {
    if (intakeBusy) {
      intakeAgain = true;
      return;
    }
    intakeBusy = true;
    try {
      do {
        intakeAgain = false;
        if (!running || Date.now() < intakePausedUntil) break;
        const n = await intakeOnce();
        if (n === INTAKE_BATCH) intakeAgain = true;
        if (n > 0) void pump();
      } while (intakeAgain && running);
    } catch (err) {
      log.error({ err: errText(err) }, 'webhook intake could not claim outbox rows');
    } finally {
      intakeBusy = false;
    }
  };

  // Delivery ----------------------------------------------------------------------------------------

  const decide = (d: Delivery, outcome: SendOutcome, at: Date): DeliveryResult => {
    const f = about(d);
    const attempt = d.attempts + 1;
    let httpStatus: number | null = null;
    let error: string;
    let retryAfterMs: number | null = null;
    switch (outcome.kind) {
      case 'response':
        httpStatus = outcome.status;
        if (outcome.status >= 200 && outcome.status < 300) {
          log.debug({ ...f, attempt, status: outcome.status }, 'webhook delivered');
          return { id: d.id, kind: 'delivered', httpStatus: outcome.status };
        }
        if (outcome.status === 410) {
          log.warn(
            { ...f, attempt, status: 410 },
            "webhook endpoint answered 410 Gone; the channel's endpoint is disabled",
          );
          return { id: d.id, kind: 'gone', channel: d.channel };
        }
        error = `HTTP ${outcome.status}`;
        if (outcome.status === 429 || outcome.status === 503) retryAfterMs = parseRetryAfter(outcome.retryAfter, at);
        break;
      case 'timeout':
        error = `no answer within ${outcome.afterMs} ms`;
        break;
      case 'network':
        error = `network error ${outcome.code}`;
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unknown send outcome ${JSON.stringify(never)}`);
      }
    }
    const firstFailedAt = d.firstFailedAt ? new Date(d.firstFailedAt) : at;
    if (isGivenUp(schedule, firstFailedAt, at)) {
      log.error({ ...f, attempt, status: httpStatus, err: error }, 'webhook dead-lettered: retries exhausted');
      return { id: d.id, kind: 'dead', httpStatus, error };
    }
    const delay =
      retryAfterMs !== null ? Math.min(retryAfterMs, schedule.maxRetryAfterMs) : backoffDelayMs(schedule, attempt);
    log.warn(
      { ...f, attempt, status: httpStatus, err: error, retryInMs: delay, retryAfter: retryAfterMs !== null },
      'webhook delivery failed; will retry',
    );
    return { id: d.id, kind: 'retry', httpStatus, error, nextAttemptAt: new Date(at.getTime() + delay) };
  };

  const deliver = async (d: Delivery): Promise<void> => {
    let result: DeliveryResult;
    /** The receiver's latency, when it answered. */
    let seconds: number | null = null;
    try {
      const policy = opts.catalogue.policy(d.channel);
      const keys = secrets.get(d.channel)?.keys ?? [];
      if (!policy.callbackUrl) {
        log.info(about(d), 'webhook not sent: the channel has no callback URL');
        result = { id: d.id, kind: 'skipped' };
      } else {
        const url = new URL(policy.callbackUrl);
        const headers = {
          // The receiver checks this against its own clock: always the real time, whatever `now` is.
          ...signWebhook(keys, d.eventId, new Date(), d.payload),
          'content-type': 'application/json',
          'user-agent': 'LoanHub-Webhooks/1',
        };
        const started = process.hrtime.bigint();
        const outcome = await sender.send(url, headers, d.payload);
        if (outcome.kind === 'response') seconds = Number(process.hrtime.bigint() - started) / 1e9;
        result = decide(d, outcome, now());
      }
    } catch (err) {
      result = decide(d, { kind: 'network', code: errText(err) }, now());
    }
    const counted = OUTCOME_OF[result.kind];
    if (counted) opts.metrics?.attempt(d.channel, counted, seconds);
    results.push(result);
    scheduleFlush();
  };

  // Results are recorded one batch at a time, in order (stop waits for the chain).
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    flushing = flushing.then(recordResults);
    return flushing;
  };
  const recordResults = async (): Promise<void> => {
    flushScheduled = false;
    if (results.length === 0) return;
    const batch = results.splice(0, results.length);
    try {
      await deliveries.record(batch, now());
    } catch (err) {
      // The leases run out and the deliveries are sent again: at least once, never lost.
      log.error({ deliveries: batch.length, err: errText(err) }, 'could not record webhook results');
    }
    void pump(Math.min(32, Math.ceil(concurrency / 8)));
  };

  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => void flush());
  };

  // Each channel has its own share of the slots (a channel at its share is left out of the claim), so
  // one slow or failing receiver cannot hold every slot while the other channels' deliveries wait.
  const inFlightOf = new Map<Channel, number>();
  /**
   * `minRoom`: after a batch of results, claim only when a good number of slots is free (a claim is a
   * transaction; a handful at a time would cost one per handful). The poll claims whatever fits.
   */
  const pump = async (minRoom = 1): Promise<void> => {
    if (pumpBusy) {
      pumpAgain = true;
      return;
    }
    pumpBusy = true;
    try {
      do {
        pumpAgain = false;
        const room = concurrency - inFlight.size;
        if (!running || room < minRoom) break;
        const full = CHANNELS.filter((c) => (inFlightOf.get(c) ?? 0) >= perChannel);
        const open = CHANNELS.filter((c) => !full.includes(c));
        if (open.length === 0) break;
        const limit = Math.min(room, Math.max(...open.map((c) => perChannel - (inFlightOf.get(c) ?? 0))));
        const claimed = await deliveries.claimDue(limit, leaseMs, now(), full);
        // One claim serves every open channel, so it can bring a channel more than its share: the
        // surplus goes back at once (still due, and still first of its payment).
        const due: Delivery[] = [];
        const surplus: number[] = [];
        const taken = new Map<Channel, number>();
        for (const d of claimed) {
          const n = (inFlightOf.get(d.channel) ?? 0) + (taken.get(d.channel) ?? 0);
          if (n >= perChannel) surplus.push(d.id);
          else {
            taken.set(d.channel, (taken.get(d.channel) ?? 0) + 1);
            due.push(d);
          }
        }
        await deliveries.release(surplus, now());
        for (const d of due) {
          inFlightOf.set(d.channel, (inFlightOf.get(d.channel) ?? 0) + 1);
          const p = deliver(d).finally(() => {
            inFlight.delete(d.id);
            inFlightOf.set(d.channel, (inFlightOf.get(d.channel) ?? 1) - 1);
          });
          inFlight.set(d.id, p);
        }
        if (claimed.length === limit) pumpAgain = true;
      } while (pumpAgain && running);
    } catch (err) {
      log.error({ err: errText(err) }, 'could not claim webhook deliveries');
    } finally {
      pumpBusy = false;
    }
  };

  const tick = (): void => {
    if (!running) return;
    timer = setTimeout(() => {
      void intake()
        .then(() => pump())
        .finally(tick);
    }, pollMs);
    timer.unref();
  };

  return Object.freeze({
    start() {
      if (running || stopped) return;
      running = true;
      for (const s of secrets.values()) {
        if (opts.catalogue.policy(s.channel).callbackUrl && s.source.kind === 'file') {
          // Right for `npm start`; in a deployment the channel cannot know this secret.
          log.warn(
            { channel: s.channel, variable: opts.catalogue.policy(s.channel).callbackSecretsEnv },
            "channel's webhooks are signed with the embedded generated secret: set its secrets variable in a deployment",
          );
        }
        if (!opts.catalogue.policy(s.channel).callbackUrl) {
          log.info(
            { channel: s.channel },
            'channel has no callback URL: its webhooks are recorded as skipped_no_endpoint, not sent',
          );
        }
      }
      const begin = async (): Promise<void> => {
        if (opts.exclusive === true) {
          // The only dispatcher on this database: leases left by a crashed run are dropped at once.
          const dropped = await deliveries.dropLeases(now());
          if (dropped > 0) log.warn({ deliveries: dropped }, 'dropped webhook leases left by an earlier run');
        }
        for (const channel of await deliveries.disabledChannels()) {
          log.warn({ channel }, "webhook endpoint is disabled (410); run 'loanhub webhooks enable' to resume");
        }
      };
      starting = begin()
        .catch((err: unknown) => log.error({ err: errText(err) }, 'webhook dispatcher could not read its table'))
        .then(() => intake())
        .then(() => pump())
        .finally(tick);
    },
    notify() {
      if (running) void intake();
    },
    async stop() {
      if (stopped) return;
      running = false;
      stopped = true;
      if (timer) clearTimeout(timer);
      await starting;
      while (intakeBusy || pumpBusy) await new Promise((r) => setTimeout(r, 5));
      await Promise.allSettled([...inFlight.values()]);
      await flush();
      sender.close();
    },
  });
}

/** A result as the metrics name it; a skipped delivery (no callback URL) was never sent. */
const OUTCOME_OF: Readonly<Record<DeliveryResult['kind'], DeliveryOutcome | null>> = {
  delivered: 'delivered',
  retry: 'retried',
  dead: 'gave_up',
  gone: 'gone',
  skipped: null,
};

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
