import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { minorUnits } from '../domain/money';
import type { Payment } from '../domain/payment';
import { createLogger } from '../logging/logger';
import { paymentEventRow } from '../payments/payment-event';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import { createWebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { createHttpSender } from '../webhooks/http-sender';
import { parseSecret, signWebhook, verifyWebhook } from '../webhooks/webhook-signature';

// Webhooks delivered per second to a local receiver. N payments are accepted first (each writes its
// `payment.event` outbox row, as the API does); then the dispatcher starts and the clock runs until
// every delivery is recorded as delivered: intake from the outbox, signing, HTTP over keep-alive,
// and the batched result writes are all inside the figure. The receiver runs in its own process and
// verifies every signature, as a channel would. Usage:
//   npm run build && node dist/bench/webhook-bench.js [--events 20000] [--concurrency 256]

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECRET = 'whsec_' + Buffer.alloc(32, 42).toString('base64');

function runReceiver(): void {
  const keys = [parseSecret(SECRET, 'bench')];
  let ok = 0;
  let bad = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const good = verifyWebhook(keys, req.headers, Buffer.concat(chunks).toString('utf8')).ok;
      if (good) ok += 1;
      else bad += 1;
      res.writeHead(good ? 204 : 400).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on('message', () => {
    process.send?.({ ok, bad });
    server.close();
    server.closeAllConnections();
    process.disconnect?.();
  });
}

/**
 * The yardstick of the same run: the same number of signed POSTs to the same receiver over the same
 * keep-alive sender and concurrency, with no database at all.
 */
async function httpCeiling(port: number, events: number, concurrency: number): Promise<number> {
  const sender = createHttpSender({ maxSockets: concurrency });
  const keys = [parseSecret(SECRET, 'bench')];
  const url = new URL(`http://127.0.0.1:${port}/hooks`);
  const body = JSON.stringify({ id: 'bench', type: 'payment.accepted', data: { amount: '100.00' } });
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < events) {
      next += 1;
      const headers = { ...signWebhook(keys, `bench-${next}`, new Date(), body), 'content-type': 'application/json' };
      await sender.send(url, headers, body);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  sender.close();
  return events / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main(): Promise<void> {
  const events = arg('events', 20_000);
  const concurrency = arg('concurrency', 256);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-webhook-bench-'));
  const dbFile = path.join(dataDir, 'hub.db');
  const receiver: ChildProcess = fork(__filename, ['--receiver'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) =>
    receiver.once('message', (m: { port: number }) => resolve(m.port)),
  );
  const store = openSqliteStore({ file: dbFile });
  process.stdout.write(`accepting ${events} payments (each with its payment.event outbox row)...\n`);
  for (let i = 0; i < events; i += 1) {
    const at = new Date().toISOString();
    const payment: Payment = {
      id: randomUUID(),
      receiptNumber: `B${String(i).padStart(10, '0')}`,
      channel: 'app',
      clientId: 'app-bench',
      channelReference: `APP-${String(i).padStart(10, '0')}`,
      loanNumber: '0011223344',
      core: 'cash',
      amount: minorUnits(10_000n + BigInt(i)),
      currency: 'PEN',
      businessDate: '2026-11-23',
      status: 'ACCEPTED',
      reason: null,
      coreReference: null,
      createdAt: at,
      updatedAt: at,
    };
    await store.acceptPayment({
      payment,
      idempotency: {
        clientId: payment.clientId,
        key: payment.id,
        fingerprint: 'bench',
        paymentId: payment.id,
        responseStatus: 201,
        responseBody: '{}',
        createdAt: at,
        expiresAt: at,
      },
      outbox: [paymentEventRow(payment)],
    });
  }
  // --intake-only: no callback URL, so every event is recorded as skipped: the outbox leg alone.
  const intakeOnly = args.includes('--intake-only');
  const env: NodeJS.ProcessEnv = {
    ...(intakeOnly ? {} : { LOANHUB_CHANNEL_APP_CALLBACK_URL: `http://127.0.0.1:${port}/hooks` }),
    LOANHUB_WEBHOOK_SECRETS_APP: SECRET,
  };
  const dispatcher = createWebhookDispatcher({
    store,
    exclusive: true,
    catalogue: createChannelCatalogue(env),
    logger: createLogger({ level: 'warn' }),
    env,
    dataDir,
    concurrency,
  });
  const started = process.hrtime.bigint();
  dispatcher.start();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    if ((await store.deliveries.count(intakeOnly ? 'skipped_no_endpoint' : 'delivered')) >= events) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await dispatcher.stop();
  const ceiling = await httpCeiling(port, events, concurrency);
  receiver.send('report');
  const seen = await new Promise<{ ok: number; bad: number }>((resolve) =>
    receiver.once('message', (m: { ok: number; bad: number }) => resolve(m)),
  );
  receiver.disconnect();
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({
      events,
      concurrency,
      leg: intakeOnly ? 'outbox intake only (skipped_no_endpoint)' : 'outbox intake + signed HTTP delivery',
      seconds: Number(seconds.toFixed(2)),
      webhooksPerSecond: Math.round(events / seconds),
      httpCeilingPerSecond: Math.round(ceiling),
      ratioToCeiling: Number((events / seconds / ceiling).toFixed(2)),
      receiverVerified: seen.ok,
      receiverRefused: seen.bad,
      note: 'receiverVerified counts the dispatcher run and the ceiling run',
      cpus: os.cpus().length,
    })}\n`,
  );
  process.stdout.write(
    `webhooks delivered: ${Math.round(events / seconds)}/s (${events} in ${seconds.toFixed(2)} s)\n`,
  );
}

if (process.argv.includes('--receiver')) runReceiver();
else
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
