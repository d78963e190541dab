import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { createChannelCatalogue } from '../../channels/channel-catalogue';
import type { Channel } from '../../domain/channel';
import { minorUnits } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import type { PaymentEvent } from '../../domain/payment-state';
import { createLogger } from '../../logging/logger';
import { paymentEventRow } from '../../payments/payment-event';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import type { PaymentStore } from '../../store/store-port';
import type { Delivery, DeliveryFilter } from '../../store/delivery-store-port';
import type { RetrySchedule } from '../../webhooks/retry-schedule';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../webhooks/webhook-dispatcher';

// A receiver, a store with real payments, and a dispatcher between them, in a temp data dir. The hub's
// own composition is not needed: payments are written through the PaymentStore port the way the API and
// the result consumer write them (state change + `payment.event` outbox row in one transaction).

export interface Received {
  readonly index: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly eventId: string;
  readonly at: number;
  readonly answered: number;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
}

export type Responder = (req: { eventId: string; body: string; index: number; seen: number }) => Answer;

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  respond: Responder;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => ({ status: 204 })): Promise<Receiver> {
  const received: Received[] = [];
  const seenById = new Map<string, number>();
  const state: { respond: Responder } = { respond };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Taken before the responder runs: a Retry-After it computes is later than this.
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const eventId = String(req.headers['webhook-id'] ?? '');
      const seen = (seenById.get(eventId) ?? 0) + 1;
      seenById.set(eventId, seen);
      const answer = state.respond({ eventId, body, index: received.length, seen });
      received.push({
        index: received.length,
        headers: req.headers,
        body,
        eventId,
        at,
        answered: answer.status,
      });
      res.writeHead(answer.status, answer.headers ?? {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/loanhub`,
    received,
    get respond() {
      return state.respond;
    },
    set respond(r: Responder) {
      state.respond = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Rig {
  readonly dataDir: string;
  readonly dbFile: string;
  readonly store: PaymentStore;
  readonly dispatcher: WebhookDispatcher;
  readonly logLines: string[];
  pay(channel?: Channel): Promise<Payment>;
  change(paymentId: string, event: PaymentEvent): Promise<Payment>;
  deliveries(filter?: { paymentId?: string }): Delivery[];
  stop(): Promise<void>;
}

export const FAST_SCHEDULE: RetrySchedule = {
  baseDelayMs: 20,
  maxDelayMs: 80,
  giveUpAfterMs: 60_000,
  maxRetryAfterMs: 10_000,
};

let seq = 0;

export async function startRig(opts: {
  env?: NodeJS.ProcessEnv;
  schedule?: RetrySchedule;
  concurrency?: number;
  dataDir?: string;
  timeoutMs?: number;
}): Promise<Rig> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-webhooks-'));
  const dbFile = path.join(dataDir, 'hub.db');
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const env = opts.env ?? {};
  const store = openSqliteStore({ file: dbFile, synchronous: 'NORMAL' });
  const dispatcher = createWebhookDispatcher({
    store,
    exclusive: true,
    catalogue: createChannelCatalogue(env),
    logger: createLogger({ level: 'debug', destination: sink }),
    env,
    dataDir,
    schedule: opts.schedule ?? FAST_SCHEDULE,
    concurrency: opts.concurrency ?? 16,
    pollMs: 20,
    timeoutMs: opts.timeoutMs ?? 2_000,
  });
  dispatcher.start();
  const view = deliveryView(dbFile);
  return {
    dataDir,
    dbFile,
    store,
    dispatcher,
    logLines,
    async pay(channel: Channel = 'app') {
      seq += 1;
      const at = new Date().toISOString();
      const payment: Payment = {
        id: randomUUID(),
        receiptNumber: `R${process.pid}${String(seq).padStart(8, '0')}${Math.floor(Math.random() * 1e6)}`,
        channel,
        clientId: `${channel}-client`,
        channelReference: `REF-${seq}`,
        loanNumber: '0011223344',
        core: 'cash',
        amount: minorUnits(12_345n),
        currency: 'PEN',
        businessDate: '2026-11-23',
        status: 'ACCEPTED',
        reason: null,
        coreReference: null,
        createdAt: at,
        updatedAt: at,
      };
      const outcome = await store.acceptPayment({
        payment,
        idempotency: {
          clientId: payment.clientId,
          key: randomUUID(),
          fingerprint: 'f',
          paymentId: payment.id,
          responseStatus: 201,
          responseBody: '{}',
          createdAt: at,
          expiresAt: at,
        },
        outbox: [paymentEventRow(payment)],
      });
      if (outcome.kind !== 'created') throw new Error(`payment not created: ${outcome.kind}`);
      dispatcher.notify();
      return payment;
    },
    async change(paymentId, event) {
      const outcome = await store.recordEvent({
        paymentId,
        event,
        at: new Date().toISOString(),
        outbox: (after) => [paymentEventRow(after)],
      });
      if (outcome.kind !== 'done') throw new Error(`no change: ${outcome.kind}`);
      dispatcher.notify();
      return outcome.payment;
    },
    deliveries: (filter = {}) => view.list({ ...filter, limit: 10_000 }),
    async stop() {
      await dispatcher.stop();
      view.close();
      await store.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The delivery table read synchronously (a read-only connection beside the hub's), so the tests' probes
 * stay plain functions; the same rows the port's `list` returns, newest first.
 */
function deliveryView(dbFile: string): { list(filter: DeliveryFilter): Delivery[]; close(): void } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  return {
    list(filter) {
      const where: string[] = [];
      const params: Record<string, string | number> = { limit: filter.limit ?? 100 };
      for (const [column, value] of [
        ['channel', filter.channel],
        ['status', filter.status],
        ['payment_id', filter.paymentId],
      ] as const) {
        if (value === undefined) continue;
        where.push(`${column} = @${column}`);
        params[column] = value;
      }
      const rows = db
        .prepare(
          `SELECT * FROM webhook_deliveries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
           ORDER BY id DESC LIMIT @limit`,
        )
        .all(params) as Record<string, string | number | null>[];
      return rows.map((r): Delivery => ({
        id: Number(r.id),
        eventId: String(r.event_id),
        eventType: String(r.event_type),
        channel: r.channel as Delivery['channel'],
        paymentId: String(r.payment_id),
        payload: String(r.payload),
        status: r.status as Delivery['status'],
        attempts: Number(r.attempts),
        nextAttemptAt: String(r.next_attempt_at),
        firstFailedAt: r.first_failed_at === null ? null : String(r.first_failed_at),
        lastStatus: r.last_status === null ? null : Number(r.last_status),
        lastError: r.last_error === null ? null : String(r.last_error),
        createdAt: String(r.created_at),
        updatedAt: String(r.updated_at),
        deliveredAt: r.delivered_at === null ? null : String(r.delivered_at),
      }));
    },
    close: () => db.close(),
  };
}

/** Polls `probe` until it returns a value (25 ms apart); fails naming `what` after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
