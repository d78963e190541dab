import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { SAMPLE_LOANS } from '../../adapters/core-simulators';
import { createChannelCatalogue } from '../../channels/channel-catalogue';
import { createLogger } from '../../logging/logger';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../webhooks/webhook-dispatcher';
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
// receiver as signed webhooks, ACCEPTED then APPLIED. The dispatcher is composed here the way
// runtime/hub.ts composes it (same store, same hub.db, same clock).

const SECRET = 'whsec_' + Buffer.alloc(32, 11).toString('base64');

let receiver: Receiver;
let t: TestHub;
let dispatcher: WebhookDispatcher;
const logLines: string[] = [];

beforeAll(async () => {
  receiver = await startReceiver();
  const env = { LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url, LOANHUB_WEBHOOK_SECRETS_APP: SECRET };
  const now = clockFrom(NOON_IN_LIMA);
  t = await startTestHub(env, now);
  const store = t.hub.store;
  if (!store) throw new Error('the test hub has no store');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  dispatcher = createWebhookDispatcher({
    store,
    dbFile: path.join(t.dataDir, 'hub.db'),
    catalogue: createChannelCatalogue(env),
    logger: createLogger({ level: 'debug', destination: sink }),
    env,
    dataDir: t.dataDir,
    now,
  });
  dispatcher.start();
});

afterAll(async () => {
  await dispatcher.stop();
  await t.stop();
  await receiver.close();
  assertNoSecretsLogged(logLines, [SECRET]);
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
