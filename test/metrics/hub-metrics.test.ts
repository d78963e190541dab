import { randomUUID } from 'node:crypto';
import { setSimulatorFault } from '../../bank/cores/core-faults';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { api, eventually, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';
import { startReceiver, type Receiver } from '../webhooks/webhook-rig';
import { sample, scrape } from './scrape';

// Real values on an embedded hub's /metrics: webhooks delivered to a local receiver move the outcome
// counter and the latency histogram of their channel; a 410 from the receiver disables the endpoint
// gauge and leaves the channel's backlog waiting; a command the core keeps failing shows in the
// per-core dead-letter gauge.

jest.setTimeout(60_000);

const SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const LOAN = SAMPLE_LOANS.find((l) => l.core === 'cash' && l.status === 'ACTIVE');

let receiver: Receiver;
let t: TestHub;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestHub({
    LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url,
    LOANHUB_WEBHOOK_SECRETS_APP: SECRET,
    // a short schedule so a failing command is dead in well under a second
    LOANHUB_AMQP_RETRY_DELAYS_MS: '50',
    LOANHUB_AMQP_DELIVERY_LIMIT: '3',
  });
});

afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

async function pay(amount: string): Promise<string> {
  if (!LOAN) throw new Error('no active cash sample loan');
  const created = await api(`${t.url}/v1/app/payments`, {
    token: await t.token('app'),
    headers: { 'idempotency-key': randomUUID() },
    body: { loanNumber: LOAN.loanNumber, amount, currency: LOAN.currency, channelReference: sampleReference('app') },
  });
  expect(created.status).toBe(201);
  return String(created.json.paymentId);
}

const app = { channel: 'app' };

it('counts delivered webhooks and their receiver latency per channel, and an empty backlog', async () => {
  const before = await scrape(t.url);
  expect(sample(before, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'delivered' })).toBe(0);
  expect(sample(before, 'loanhub_webhook_endpoint_disabled', app)).toBe(0);
  expect(sample(before, 'loanhub_webhook_store_up')).toBe(1);
  expect(sample(before, 'loanhub_queue_stats_up')).toBe(1);

  const id = await pay('3.21');
  await eventually(
    async () => (receiver.received.filter((r) => r.eventId.startsWith(`${id}:`)).length >= 2 ? true : undefined),
    15_000,
    'ACCEPTED and APPLIED at the receiver',
  );
  const text = await eventually(async () => {
    const s = await scrape(t.url);
    return sample(s, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'delivered' }) === 2 ? s : undefined;
  }, 10_000);
  expect(sample(text, 'loanhub_webhook_receiver_duration_seconds_count', app)).toBe(2);
  const sum = sample(text, 'loanhub_webhook_receiver_duration_seconds_sum', app) ?? -1;
  expect(sum).toBeGreaterThan(0);
  expect(sum).toBeLessThan(20);
  expect(sample(text, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'retried' })).toBe(0);
  expect(sample(text, 'loanhub_webhook_deliveries_total', { channel: 'web', outcome: 'delivered' })).toBe(0);
  expect(sample(text, 'loanhub_webhook_receiver_duration_seconds_count', { channel: 'web' })).toBeUndefined();
  expect(sample(text, 'loanhub_webhook_backlog', app)).toBe(0);
  expect(sample(text, 'loanhub_webhook_backlog_oldest_age_seconds', app)).toBe(0);
});

it('a 500 counts as retried; a 410 counts as gone, disables the endpoint gauge and leaves the backlog waiting', async () => {
  receiver.respond = ({ seen }) => ({ status: seen === 1 ? 500 : 410 });
  const id = await pay('4.32');
  const text = await eventually(
    async () => {
      const s = await scrape(t.url);
      return sample(s, 'loanhub_webhook_endpoint_disabled', app) === 1 ? s : undefined;
    },
    20_000,
    'the endpoint disabled',
  );
  expect(receiver.received.filter((r) => r.eventId === `${id}:ACCEPTED`).map((r) => r.answered)).toEqual([500, 410]);
  expect(sample(text, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'retried' })).toBe(1);
  expect(sample(text, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'gone' })).toBe(1);
  expect(sample(text, 'loanhub_webhook_deliveries_total', { ...app, outcome: 'delivered' })).toBe(2);
  expect(sample(text, 'loanhub_webhook_receiver_duration_seconds_count', app)).toBe(4);
  // ACCEPTED waits for `webhooks enable`, and APPLIED (once the core answers) behind it
  expect(sample(text, 'loanhub_webhook_backlog', app)).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'loanhub_webhook_backlog_oldest_age_seconds', app)).toBeGreaterThan(0);
  expect(sample(text, 'loanhub_webhook_endpoint_disabled', { channel: 'web' })).toBe(0);
});

it('a command the core keeps failing shows in the dead-letter gauge of its core', async () => {
  const before = await scrape(t.url);
  expect(sample(before, 'loanhub_dead_letters', { core: 'cash' })).toBe(0);
  expect(sample(before, 'loanhub_queue_messages', { core: 'cash', state: 'ready' })).toBe(0);
  const cash = t.hub.simulators.find((s) => s.core === 'cash');
  if (!cash) throw new Error('no cash simulator');
  await setSimulatorFault(cash.url, { mode: 'error', status: 503 });
  try {
    await pay('5.43');
    const text = await eventually(
      async () => {
        const s = await scrape(t.url);
        return sample(s, 'loanhub_dead_letters', { core: 'cash' }) === 1 ? s : undefined;
      },
      20_000,
      'one dead letter of cash',
    );
    expect(sample(text, 'loanhub_dead_letters', { core: 'mortgage' })).toBe(0);
    expect(sample(text, 'loanhub_dead_letters', { core: 'results' })).toBe(0);
    expect(sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'retrying' })).toBe(0);
    expect(sample(text, 'loanhub_queue_stats_up')).toBe(1);
  } finally {
    await setSimulatorFault(cash.url, { mode: 'ok' });
  }
});
