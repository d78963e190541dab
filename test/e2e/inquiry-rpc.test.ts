import { api } from '../integration/hub-fixture';
import { requireBroker, startStack, type Stack } from './process-harness';

// Debt inquiry when the API and the adapters live in different processes: serve asks the core's worker
// over RabbitMQ (direct reply-to) and answers 503 core_unavailable when no worker answers in time.
const broker = requireBroker();
jest.setTimeout(120_000);

let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
});

it('serve inquires through the worker of the core, and says core_unavailable while that worker is gone', async () => {
  stack = await startStack(broker, { name: 'inquiry' });
  const s = stack;
  const token = await s.token('app');
  const ask = () => api(`${s.apiUrl}/v1/app/loans/200000000001`, { token });
  const first = await ask();
  expect([first.status, first.json.core, first.json.currency]).toEqual([200, 'mortgage', 'PEN']);

  // With the mortgage worker stopped nobody answers, although the mortgage core itself is up:
  // the answer really came over the broker.
  const worker = s.worker('mortgage');
  if (!worker) throw new Error('no mortgage worker');
  await worker.stop();
  const gone = await ask();
  expect([gone.status, gone.json.code]).toEqual([503, 'core_unavailable']);
  // The other cores' workers still answer.
  expect((await api(`${s.apiUrl}/v1/app/loans/300000000001`, { token })).status).toBe(200);

  await s.startWorker('mortgage');
  const back = await ask();
  expect([back.status, back.json.amountDue]).toEqual([200, first.json.amountDue]);
});
