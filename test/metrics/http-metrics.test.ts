import { randomUUID } from 'node:crypto';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { api, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';
import { sample, scrape } from './scrape';

// loanhub_http_requests_total and loanhub_http_request_duration_seconds on an embedded hub's /metrics:
// they move with the requests answered, labelled by method, route template (never the raw path: no
// payment id or loan number in a label) and status.

jest.setTimeout(60_000);

const LOAN = SAMPLE_LOANS.find((l) => l.core === 'cash' && l.status === 'ACTIVE');
let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t?.stop();
});

const requests = (text: string, labels: Record<string, string>): number =>
  sample(text, 'loanhub_http_requests_total', labels) ?? 0;
const timed = (text: string, labels: Record<string, string>): number =>
  sample(text, 'loanhub_http_request_duration_seconds_count', labels) ?? 0;

it('counts and times each answer by method, route template and status', async () => {
  if (!LOAN) throw new Error('no active cash sample loan');
  const token = await t.token('app');
  const payRoute = { method: 'POST', route: '/v1/:channel/payments' };
  const getRoute = { method: 'GET', route: '/v1/:channel/payments/:paymentId' };
  const before = await scrape(t.url);

  const created = await api(`${t.url}/v1/app/payments`, {
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      loanNumber: LOAN.loanNumber,
      amount: '1.00',
      currency: LOAN.currency,
      channelReference: sampleReference('app'),
    },
  });
  expect(created.status).toBe(201);
  const paymentId = String(created.json.paymentId);
  const refused = await api(`${t.url}/v1/app/payments`, {
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: { loanNumber: LOAN.loanNumber, amount: '1.001', currency: LOAN.currency, channelReference: 'APP-M1' },
  });
  expect(refused.status).toBe(400);
  const read = await api(`${t.url}/v1/app/payments/${paymentId}`, { token, method: 'GET' });
  expect(read.status).toBe(200);
  const lost = await fetch(`${t.url}/no/such/${paymentId}`);
  expect(lost.status).toBe(404);

  const after = await scrape(t.url);
  expect(requests(after, { ...payRoute, status: '201' }) - requests(before, { ...payRoute, status: '201' })).toBe(1);
  expect(requests(after, { ...payRoute, status: '400' }) - requests(before, { ...payRoute, status: '400' })).toBe(1);
  expect(requests(after, { ...getRoute, status: '200' }) - requests(before, { ...getRoute, status: '200' })).toBe(1);
  const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
  expect(requests(after, unmatched) - requests(before, unmatched)).toBe(1);
  expect(timed(after, payRoute) - timed(before, payRoute)).toBe(2);
  expect(timed(after, getRoute) - timed(before, getRoute)).toBe(1);
  const sum = (text: string): number => sample(text, 'loanhub_http_request_duration_seconds_sum', payRoute) ?? 0;
  expect(sum(after)).toBeGreaterThan(sum(before));
  // The raw path never becomes a label.
  expect(after).not.toContain(paymentId);
  expect(after).not.toContain(LOAN.loanNumber);
});
