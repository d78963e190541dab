import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExampleReceiver, listenExampleReceiver, type PaymentWebhook } from '../../webhooks/example-receiver';
import { openSqliteDeliveryStore } from '../../store/sqlite/sqlite-delivery-store';
import { parseSecret, signWebhook } from '../../webhooks/webhook-signature';
import { eventually, startRig, type Rig } from './webhook-rig';

// The receiver integrators copy from docs/webhooks.md, run against the real dispatcher.

const SECRET = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
const OLD = 'whsec_' + Buffer.alloc(32, 4).toString('base64');

let server: Server;
let rig: Rig | undefined;
const events: PaymentWebhook[] = [];

beforeEach(async () => {
  events.length = 0;
  // The receiver still accepts the old secret while the hub has moved to the new one (rotation).
  server = await listenExampleReceiver(
    createExampleReceiver({ secrets: [OLD, SECRET], onEvent: (e) => events.push(e) }),
    0,
  );
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

const url = (): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/loanhub`;

describe('the example receiver', () => {
  it("takes the hub's signed webhooks, once each even when one is redelivered", async () => {
    rig = await startRig({
      env: { LOANHUB_CHANNEL_APP_CALLBACK_URL: url(), LOANHUB_WEBHOOK_SECRETS_APP: SECRET },
    });
    const p = await rig.pay();
    await rig.change(p.id, { type: 'core_rejected', reason: 'loan_closed' });
    await eventually(() => (events.length === 2 ? true : undefined), 'two events');
    expect(events.map((e) => [e.type, e.data.paymentId, e.data.status])).toEqual([
      ['payment.accepted', p.id, 'ACCEPTED'],
      ['payment.rejected', p.id, 'REJECTED'],
    ]);
    await eventually(
      () => (rig?.deliveries({ paymentId: p.id }).every((d) => d.status === 'delivered') ? true : undefined),
      'both recorded as delivered',
    );
    const first = rig.deliveries({ paymentId: p.id }).find((d) => d.eventId === `${p.id}:ACCEPTED`);
    const store = openSqliteDeliveryStore({ file: rig.dbFile });
    try {
      expect(await store.redeliver({ id: `${p.id}:ACCEPTED` }, new Date())).toHaveLength(1);
    } finally {
      await store.close();
    }
    await eventually(
      () =>
        rig
          ?.deliveries({ paymentId: p.id })
          .find((d) => d.id === first?.id && d.status === 'delivered' && d.deliveredAt !== first.deliveredAt),
      'the redelivery answered 2xx',
    );
    expect(events).toHaveLength(2);
  });

  it('answers 401 to a forged or tampered webhook and 204 to a well-signed one', async () => {
    const body = JSON.stringify({ id: 'p1:APPLIED', type: 'payment.applied', data: { paymentId: 'p1' } });
    const post = (headers: Record<string, string>, b = body) =>
      fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b }).then(
        (r) => r.status,
      );
    const good = signWebhook([parseSecret(SECRET, 't')], 'p1:APPLIED', new Date(), body);
    const forged = signWebhook(
      [parseSecret('whsec_' + Buffer.alloc(32, 5).toString('base64'), 't')],
      'p1:APPLIED',
      new Date(),
      body,
    );
    const stale = signWebhook([parseSecret(SECRET, 't')], 'p1:APPLIED', new Date(Date.now() - 3600_000), body);
    expect(await post({ ...forged })).toBe(401);
    expect(await post({ ...good }, body.replace('p1', 'p2'))).toBe(401);
    expect(await post({ ...stale })).toBe(401);
    expect(await post({})).toBe(401);
    expect(await post({ ...good })).toBe(204);
    expect(await post({ ...good })).toBe(204);
    expect(events).toHaveLength(1);
  });
});
