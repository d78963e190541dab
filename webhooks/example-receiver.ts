import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express } from 'express';

// A channel's webhook receiver, as docs/webhooks.md shows it to integrators: everything it needs is
// Node's crypto and express, nothing of LoanHub's. It verifies the Standard Webhooks signature over the
// raw body, refuses stale timestamps, answers fast, and deduplicates by `webhook-id` (delivery is at
// least once). Run it:  WEBHOOK_SECRET=whsec_… PORT=9999 node dist/webhooks/example-receiver.js
// or through the CLI:   loanhub webhooks receive --channel app --port 9999

/** Verifies `webhook-signature` against any of the secrets (several during a rotation). */
export function verifySignature(
  secrets: readonly string[],
  id: string,
  timestamp: string,
  signatureHeader: string,
  rawBody: Buffer,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - ts) > toleranceSeconds) return false;
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), rawBody]);
  const offered = signatureHeader
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  return secrets.some((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(signed).digest();
    return offered.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
  });
}

export interface PaymentWebhook {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly channel: string;
  readonly data: { readonly paymentId: string; readonly status: string; readonly amount: string };
}

export function createExampleReceiver(opts: {
  secrets: readonly string[];
  onEvent: (event: PaymentWebhook) => void;
}): Express {
  const seen = new Set<string>(); // use your database in production: a unique key on webhook-id
  const app = express();
  // The signature covers the exact bytes sent: verify the raw body before parsing it.
  app.post('/hooks/loanhub', express.raw({ type: 'application/json', limit: '256kb' }), (req, res) => {
    const id = req.header('webhook-id') ?? '';
    const timestamp = req.header('webhook-timestamp') ?? '';
    const signature = req.header('webhook-signature') ?? '';
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!id || !verifySignature(opts.secrets, id, timestamp, signature, body)) {
      res.status(401).end();
      return;
    }
    if (!seen.has(id)) {
      seen.add(id);
      opts.onEvent(JSON.parse(body.toString('utf8')) as PaymentWebhook);
    }
    // 2xx tells LoanHub it is delivered; do slow work after answering.
    res.status(204).end();
  });
  return app;
}

export function listenExampleReceiver(app: Express, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

if (require.main === module) {
  const secrets = (process.env.WEBHOOK_SECRET ?? '').split(',').filter(Boolean);
  if (secrets.length === 0) {
    process.stderr.write('set WEBHOOK_SECRET to the channel secret (loanhub webhooks secret --channel app)\n');
    process.exit(2);
  }
  const app = createExampleReceiver({
    secrets,
    onEvent: (e) => process.stdout.write(`${e.type} ${e.data.paymentId} ${e.data.status} ${e.data.amount}\n`),
  });
  void listenExampleReceiver(app, Number(process.env.PORT ?? 9999)).then((server) => {
    process.stdout.write(
      `listening on http://127.0.0.1:${String((server.address() as { port: number }).port)}/hooks/loanhub\n`,
    );
  });
}
