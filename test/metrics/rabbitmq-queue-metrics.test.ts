import { pay, paymentRequest, requireBroker, startStack, waitFor, type Stack } from '../e2e/process-harness';
import { sample, scrape } from './scrape';

// With RabbitMQ, queue depths per core are on the /metrics of every process (`serve` and each `work`),
// read from the broker at scrape time like `loanhub queues`, with unacked from the management API:
// with the cash worker stopped a cash payment waits as `ready` on the cash queue and cash has no
// consumer; a worker started again takes it and the queue is empty.

const broker = requireBroker();
jest.setTimeout(180_000);

const CASH_LOAN = '100000000001';
let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

const settle = <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => waitFor(probe, 30_000, what, 250);

it('serve and work show ready, unacked, retrying, dead letters and consumers per core from the broker', async () => {
  const managementUrl = process.env.LOANHUB_TEST_AMQP_MANAGEMENT_URL;
  if (!managementUrl) throw new Error('LOANHUB_TEST_AMQP_MANAGEMENT_URL is not set: start the test servers');
  stack = await startStack(broker, { name: 'metrics', extraEnv: { LOANHUB_AMQP_MANAGEMENT_URL: managementUrl } });
  const s = stack;

  // a worker's /metrics: every core's queue, not only its own; unacked once the management API has stats
  const atWorker = await settle(async () => {
    const text = await scrape(s.workerUrls.mortgage);
    return sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'unacked' }) !== undefined ? text : undefined;
  }, 'unacked from the management API on the mortgage worker');
  expect(sample(atWorker, 'loanhub_queue_stats_up')).toBe(1);
  expect(sample(atWorker, 'loanhub_queue_messages', { core: 'cash', state: 'ready' })).toBe(0);
  expect(sample(atWorker, 'loanhub_queue_messages', { core: 'vehicle', state: 'retrying' })).toBe(0);
  expect(sample(atWorker, 'loanhub_dead_letters', { core: 'cash' })).toBe(0);
  expect(sample(atWorker, 'loanhub_queue_consumers', { core: 'cash' })).toBeGreaterThanOrEqual(1);
  expect(sample(atWorker, 'loanhub_queue_consumers', { core: 'results' })).toBeGreaterThanOrEqual(1);

  // no cash worker: a cash payment waits on the cash queue, in view on serve's /metrics
  await s.worker('cash')?.stop();
  const accepted = await pay(s, paymentRequest('app', CASH_LOAN, '1.25', 'PEN'));
  const waiting = await settle(async () => {
    const text = await scrape(s.apiUrl);
    return sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'ready' }) === 1 ? text : undefined;
  }, 'the cash command ready on the cash queue');
  expect(sample(waiting, 'loanhub_queue_consumers', { core: 'cash' })).toBe(0);
  expect(sample(waiting, 'loanhub_queue_messages', { core: 'mortgage', state: 'ready' })).toBe(0);

  // the worker is back: it takes the command, the queue is empty and the payment applied
  await s.startWorker('cash');
  await waitFor(
    async () => {
      const r = await fetch(`${s.apiUrl}/v1/app/payments/${accepted.paymentId}`, {
        headers: { authorization: `Bearer ${await s.token('app')}` },
      });
      const body = (await r.json()) as { status?: string };
      return body.status === 'APPLIED' ? true : undefined;
    },
    30_000,
    'the payment applied',
  );
  const drained = await settle(async () => {
    const text = await scrape(s.workerUrls.cash);
    return sample(text, 'loanhub_queue_messages', { core: 'cash', state: 'ready' }) === 0 ? text : undefined;
  }, 'the cash queue empty on the cash worker');
  expect(sample(drained, 'loanhub_queue_consumers', { core: 'cash' })).toBeGreaterThanOrEqual(1);
  expect(sample(drained, 'loanhub_dead_letters', { core: 'cash' })).toBe(0);
});
