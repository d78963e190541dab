import { randomUUID } from 'node:crypto';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { parseSecret, verifyWebhook } from '../../webhooks/webhook-signature';
import {
  api,
  assertNoSecretsLogged,
  clockFrom,
  NOON_IN_LIMA,
  sampleReference,
  startTestHub,
  type TestHub,
} from '../integration/hub-fixture';
import { eventually, startReceiver, type Receiver } from './webhook-rig';

// A payment taken over HTTP by a whole embedded hub (API, relay, core simulators) reaches the channel's
// receiver as signed webhooks, ACCEPTED then APPLIED, sent by the dispatcher runtime/hub.ts composes.

const SECRET = 'whsec_' + Buffer.alloc(32, 11).toString('base64');

let receiver: Receiver;
let t: TestHub;

beforeAll(async () => {
  receiver = await startReceiver();
  const env = { LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url, LOANHUB_WEBHOOK_SECRETS_APP: SECRET };
  const now = clockFrom(NOON_IN_LIMA);
  t = await startTestHub(env, now);
});

afterAll(async () => {
  await t.stop();
  await receiver.close();
  assertNoSecretsLogged(t.logLines, [SECRET]);
});

it('a payment over the API arrives at the channel as signed ACCEPTED then APPLIED webhooks', async () => {
  const loan = SAMPLE_LOANS.find((l) => l.core === 'cash' && l.status === 'ACTIVE');
  if (!loan) throw new Error('no active cash sample loan');
  const created = await api(`${t.url}/v1/app/payments`, {
    token: await t.token('app'),
    headers: { 'idempotency-key': randomUUID() },
    body: {
      loanNumber: loan.loanNumber,
      amount: '10.37',
      currency: loan.currency,
      channelReference: sampleReference('app'),
    },
  });
  expect(created.status).toBe(201);
  const id = String(created.json.paymentId);
  const got = await eventually(() => {
    const mine = receiver.received.filter((r) => r.eventId.startsWith(`${id}:`));
    return mine.length >= 2 ? mine : undefined;
  }, 'two webhooks');
  expect(got.map((r) => r.eventId)).toEqual([`${id}:ACCEPTED`, `${id}:APPLIED`]);
  for (const r of got) {
    // Signed at the real time, whatever the hub's test clock says.
    expect(verifyWebhook([parseSecret(SECRET, 'test')], r.headers, r.body)).toEqual({ ok: true });
  }
  expect(JSON.parse(got[1]?.body ?? '{}')).toMatchObject({
    type: 'payment.applied',
    data: { amount: '10.37', status: 'APPLIED' },
  });
});
