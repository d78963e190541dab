import { randomUUID } from 'node:crypto';
import { createIdempotencyLock } from '../../api/idempotency-lock';
import { api, clockFrom, NOON_IN_LIMA, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';

// Idempotency per the IETF Idempotency-Key draft and Stripe's behaviour.

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

async function paymentsWithReference(reference: string): Promise<number> {
  const store = t.hub.store;
  if (!store) throw new Error('the test hub has no store');
  return (await store.findPaymentsByReference('app', reference)).length;
}

describe('Idempotency-Key', () => {
  it('50 concurrent identical requests create exactly one payment', async () => {
    const key = randomUUID();
    const body = {
      loanNumber: '200000000001',
      amount: '25.00',
      currency: 'PEN',
      channelReference: sampleReference('app'),
    };
    const token = await t.token('app');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        api(`${t.url}/v1/app/payments`, { token, body, headers: { 'idempotency-key': key } }),
      ),
    );
    const created = answers.filter((a) => a.status === 201);
    // Each answer is the payment (first or replayed) or "still in flight"; never a second payment.
    expect(
      answers.every((a) => a.status === 201 || (a.status === 409 && a.json.code === 'idempotency_key_in_flight')),
    ).toBe(true);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.json.paymentId)).size).toBe(1);
    expect(created.filter((a) => a.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(await paymentsWithReference(body.channelReference)).toBe(1);
  });

  it('a replay carries Idempotent-Replayed: true and the original status and body', async () => {
    const key = randomUUID();
    const body = {
      loanNumber: '300000000001',
      amount: '30.00',
      currency: 'PEN',
      channelReference: sampleReference('web'),
    };
    const first = await api(`${t.url}/v1/web/payments`, {
      token: await t.token('web'),
      body,
      headers: { 'idempotency-key': key },
    });
    const again = await api(`${t.url}/v1/web/payments`, {
      token: await t.token('web'),
      body,
      headers: { 'idempotency-key': key },
    });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(again.text).toBe(first.text);
  });

  it('key order in the body does not make it another request', async () => {
    const key = randomUUID();
    const reference = sampleReference('web');
    const a = await api(`${t.url}/v1/web/payments`, {
      token: await t.token('web'),
      rawBody: `{"loanNumber":"300000000001","amount":"31.00","currency":"PEN","channelReference":"${reference}"}`,
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    const b = await api(`${t.url}/v1/web/payments`, {
      token: await t.token('web'),
      rawBody: `{"channelReference":"${reference}","currency":"PEN","amount":"31.00","loanNumber":"300000000001"}`,
      headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    });
    expect([a.status, b.status, b.json.paymentId]).toEqual([201, 201, a.json.paymentId]);
  });
});

describe('a key still in flight', () => {
  it('gets 409 idempotency_key_in_flight while the first request runs, and works after', async () => {
    const lock = createIdempotencyLock();
    let release: () => void = () => undefined;
    const first = lock.run(
      'app-client',
      'k',
      () => new Promise<string>((resolve) => (release = () => resolve('done'))),
    );
    await expect(lock.run('app-client', 'k', async () => 'second')).rejects.toMatchObject({
      code: 'idempotency_key_in_flight',
    });
    await expect(lock.run('web-client', 'k', async () => 'other client')).resolves.toBe('other client');
    release();
    await expect(first).resolves.toBe('done');
    await expect(lock.run('app-client', 'k', async () => 'after')).resolves.toBe('after');
  });
});

describe('retention', () => {
  it('a key past LOANHUB_IDEMPOTENCY_TTL_HOURS is free again: a new request with it makes a new payment', async () => {
    let offsetMs = 0;
    const base = clockFrom(NOON_IN_LIMA);
    const hub = await startTestHub({ LOANHUB_IDEMPOTENCY_TTL_HOURS: '1' }, () => new Date(base().getTime() + offsetMs));
    try {
      const token = await hub.token('app');
      const key = randomUUID();
      const body = (amount: string) => ({
        loanNumber: '200000000001',
        amount,
        currency: 'PEN',
        channelReference: sampleReference('app'),
      });
      const first = await api(`${hub.url}/v1/app/payments`, {
        token,
        body: body('12.00'),
        headers: { 'idempotency-key': key },
      });
      expect(first.status).toBe(201);
      // within the hour: another body with the key is a conflict
      offsetMs = 59 * 60_000;
      const reused = await api(`${hub.url}/v1/app/payments`, {
        token,
        body: body('13.00'),
        headers: { 'idempotency-key': key },
      });
      expect([reused.status, reused.json.code]).toEqual([422, 'idempotency_key_reused']);
      // past it: the key is free, and a new payment is taken
      offsetMs = 61 * 60_000;
      const again = await api(`${hub.url}/v1/app/payments`, {
        token,
        body: body('13.00'),
        headers: { 'idempotency-key': key },
      });
      expect(again.status).toBe(201);
      expect(again.json.paymentId).not.toBe(first.json.paymentId);
      const store = hub.hub.store;
      if (!store) throw new Error('no store');
      expect(await store.findIdempotency('app-client', key)).toMatchObject({ paymentId: again.json.paymentId });
      expect(await store.getPayment(String(first.json.paymentId))).toMatchObject({ amount: 1200n });
    } finally {
      await hub.stop();
    }
  });
});
