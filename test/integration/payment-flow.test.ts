import { randomUUID } from 'node:crypto';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { CORES, type Channel, type Core } from '../../domain/channel';
import { parseMinorUnits } from '../../domain/money';
import { api, CHANNELS, eventually, sampleReference, startTestHub, type TestHub } from './hub-fixture';

// A payment from every channel to every core, over HTTP, through the embedded hub.

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

function activeLoan(core: Core, currency?: string): { loanNumber: string; currency: string } {
  const loan = SAMPLE_LOANS.find(
    (l) => l.core === core && l.status === 'ACTIVE' && (!currency || l.currency === currency),
  );
  if (!loan) throw new Error(`no active ${core} sample loan`);
  return loan;
}

function closedLoan(core: Core): string {
  const loan = SAMPLE_LOANS.find((l) => l.core === core && l.status === 'CLOSED');
  if (!loan) throw new Error(`no closed ${core} sample loan`);
  return loan.loanNumber;
}

async function amountDue(channel: Channel, loanNumber: string): Promise<bigint> {
  const r = await api(`${t.url}/v1/${channel}/loans/${loanNumber}`, { token: await t.token(channel) });
  expect(r.status).toBe(200);
  const due = parseMinorUnits(r.json.amountDue);
  if (due === undefined) throw new Error(`amountDue ${String(r.json.amountDue)} unreadable`);
  return due;
}

async function pay(channel: Channel, body: Record<string, unknown>, key: string = randomUUID()) {
  return api(`${t.url}/v1/${channel}/payments`, {
    token: await t.token(channel),
    body,
    headers: { 'idempotency-key': key },
  });
}

async function settled(channel: Channel, paymentId: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const r = await api(`${t.url}/v1/${channel}/payments/${paymentId}`, { token: await t.token(channel) });
      return r.json.status === 'ACCEPTED' ? undefined : r.json;
    },
    10_000,
    `payment ${paymentId} to leave ACCEPTED`,
  );
}

describe('a payment from every channel to every core', () => {
  for (const core of CORES) {
    for (const channel of CHANNELS) {
      it(`${channel} pays a ${core} loan: APPLIED, and the amount due drops by exactly the amount`, async () => {
        const loan = activeLoan(core);
        const before = await amountDue(channel, loan.loanNumber);
        const created = await pay(channel, {
          loanNumber: loan.loanNumber,
          amount: '10.37',
          currency: loan.currency,
          channelReference: sampleReference(channel),
        });
        expect(created.status).toBe(201);
        expect(created.json).toMatchObject({
          status: 'ACCEPTED',
          core,
          channel,
          amount: '10.37',
          loanNumber: loan.loanNumber,
        });
        expect(created.json.receiptNumber).toMatch(/^[A-Z]-\d{8}-\d{4}-\d{4}$/);
        expect(created.json.businessDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        const final = await settled(channel, String(created.json.paymentId));
        expect(final).toMatchObject({ status: 'APPLIED', paymentId: created.json.paymentId });
        expect(await amountDue(channel, loan.loanNumber)).toBe(before - 1037n);
      });
    }
    it(`a payment to a CLOSED ${core} loan ends REJECTED with reason loan_closed`, async () => {
      const loanNumber = closedLoan(core);
      const loan = (await api(`${t.url}/v1/app/loans/${loanNumber}`, { token: await t.token('app') })).json;
      expect(loan.status).toBe('CLOSED');
      const created = await pay('app', {
        loanNumber,
        amount: '10.00',
        currency: loan.currency,
        channelReference: sampleReference('app'),
      });
      expect(created.status).toBe(201);
      expect(await settled('app', String(created.json.paymentId))).toMatchObject({
        status: 'REJECTED',
        reason: 'loan_closed',
      });
    });
    it(`paying more than a ${core} loan owes ends REJECTED with reason overpayment and changes nothing`, async () => {
      // The loan that owes least, so one cent more is still within the per-payment maximum.
      const loan = SAMPLE_LOANS.filter((l) => l.core === core && l.status === 'ACTIVE').sort((a, b) =>
        Number(BigInt(a.amountDue.replace('.', '')) - BigInt(b.amountDue.replace('.', ''))),
      )[0];
      if (!loan) throw new Error(`no active ${core} loan`);
      const before = await amountDue('web', loan.loanNumber);
      const tooMuch = before + 100n;
      const amount = `${tooMuch / 100n}.${(tooMuch % 100n).toString().padStart(2, '0')}`;
      const created = await pay('web', {
        loanNumber: loan.loanNumber,
        amount,
        currency: loan.currency,
        channelReference: sampleReference('web'),
      });
      expect(created.status).toBe(201);
      expect(await settled('web', String(created.json.paymentId))).toMatchObject({
        status: 'REJECTED',
        reason: 'overpayment',
      });
      expect(await amountDue('web', loan.loanNumber)).toBe(before);
    });
  }
});

describe('idempotency', () => {
  const body = {
    loanNumber: activeLoan('cash', 'PEN').loanNumber,
    amount: '20.00',
    currency: 'PEN',
    channelReference: sampleReference('agents'),
  };

  it('a replay returns the same payment, marked as replayed, and applies nothing twice', async () => {
    const key = randomUUID();
    const before = await amountDue('agents', body.loanNumber);
    const first = await pay('agents', body, key);
    await settled('agents', String(first.json.paymentId));
    const again = await pay('agents', { ...body }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.paymentId).toBe(first.json.paymentId);
    expect(again.json.receiptNumber).toBe(first.json.receiptNumber);
    expect(await amountDue('agents', body.loanNumber)).toBe(before - 2000n);
  });

  it('the same key with a changed body gets 422 idempotency_key_reused', async () => {
    const key = randomUUID();
    expect((await pay('agents', body, key)).status).toBe(201);
    const changed = await pay('agents', { ...body, amount: '3.00' }, key);
    expect(changed.status).toBe(422);
    expect(changed.json.code).toBe('idempotency_key_reused');
    expect(changed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('keys are scoped per client: another channel may use the same key', async () => {
    const key = randomUUID();
    const a = await pay('atm', { ...body, channelReference: sampleReference('atm') }, key);
    const b = await pay('stores', { ...body, channelReference: sampleReference('stores') }, key);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.paymentId).not.toBe(b.json.paymentId);
  });

  it('a payment without an Idempotency-Key gets 400 idempotency_key_missing', async () => {
    const r = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: { ...body, channelReference: sampleReference('app') },
    });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('idempotency_key_missing');
  });
});

describe('authentication and channel boundaries', () => {
  it('no token: 401 invalid_token with a WWW-Authenticate header', async () => {
    const r = await api(`${t.url}/v1/app/loans/100000000001`);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('invalid_token');
    expect(r.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('a valid token of another channel: 403 forbidden_channel', async () => {
    const r = await api(`${t.url}/v1/web/loans/100000000001`, { token: await t.token('app') });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('forbidden_channel');
  });

  it('a token without the needed scope: 403 insufficient_scope', async () => {
    const readOnly = await t.token('app', ['loans:read']);
    const r = await api(`${t.url}/v1/app/payments`, {
      token: readOnly,
      body: { loanNumber: '100000000001', amount: '1.00', currency: 'PEN', channelReference: sampleReference('app') },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('insufficient_scope');
  });

  it("another channel's payment id is not found, never forbidden", async () => {
    const created = await pay('app', {
      loanNumber: activeLoan('cash').loanNumber,
      amount: '1.00',
      currency: activeLoan('cash').currency,
      channelReference: sampleReference('app'),
    });
    const r = await api(`${t.url}/v1/web/payments/${String(created.json.paymentId)}`, { token: await t.token('web') });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('payment_not_found');
  });

  it('a token from the OAuth2 endpoint works; a wrong secret gets 401 invalid_client', async () => {
    const client = t.hub.issuer.clients().find((c) => c.channel === 'atm');
    const secret = client && t.hub.issuer.clientSecret(client.clientId);
    if (!client || !secret) throw new Error('no atm client');
    const basic = (s: string) => `Basic ${Buffer.from(`${client.clientId}:${s}`).toString('base64')}`;
    const ok = await api(`${t.url}/oauth/token`, {
      rawBody: 'grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(secret) },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const loan = await api(`${t.url}/v1/atm/loans/${activeLoan('vehicle').loanNumber}`, {
      token: String(ok.json.access_token),
    });
    expect(loan.status).toBe(200);
    const bad = await api(`${t.url}/oauth/token`, {
      rawBody: 'grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('wrong') },
    });
    expect(bad.status).toBe(401);
    expect(bad.json.code).toBe('invalid_client');
  });
});

describe('inquiry', () => {
  it('answers loanNumber, core, currency, amountDue as a decimal string and status', async () => {
    const loan = activeLoan('mortgage');
    const r = await api(`${t.url}/v1/web/loans/${loan.loanNumber}`, { token: await t.token('web') });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['amountDue', 'core', 'currency', 'loanNumber', 'status']);
    expect(r.json).toMatchObject({
      loanNumber: loan.loanNumber,
      core: 'mortgage',
      currency: loan.currency,
      status: 'ACTIVE',
    });
    expect(r.json.amountDue).toMatch(/^\d+\.\d{2}$/);
  });

  it.each([
    ['100000000999', 404, 'loan_not_found'],
    ['900000000001', 404, 'loan_not_found'],
    ['12345', 400, 'invalid_loan_number'],
    ['10000000000%27', 400, 'invalid_loan_number'],
  ])('loan %s: %i %s', async (loan, status, code) => {
    const r = await api(`${t.url}/v1/app/loans/${loan}`, { token: await t.token('app') });
    expect([r.status, r.json.code]).toEqual([status, code]);
  });

  it('an unknown channel is 404 unknown_channel', async () => {
    const r = await api(`${t.url}/v1/bank/loans/100000000001`, { token: await t.token('app') });
    expect([r.status, r.json.code]).toEqual([404, 'unknown_channel']);
  });
});

describe('health', () => {
  it('/metrics has the outbox lag, the breakers and the per-core counts after payments went through', async () => {
    const text = (await api(`${t.url}/metrics`)).text;
    expect(text).toMatch(/^loanhub_outbox_pending \d+$/m);
    expect(text).toMatch(/^loanhub_outbox_lag_seconds [\d.e+-]+$/m);
    expect(text).toMatch(/^loanhub_core_breaker_state\{core="cash"\} 0$/m);
    expect(text).toMatch(/^loanhub_core_applied_total\{core="mortgage"\} [1-9]\d*$/m);
    expect(text).toMatch(/^loanhub_commands_confirmed_total\{core="vehicle"\} [1-9]\d*$/m);
  });

  it('/healthz answers and /readyz reports store and transport ready', async () => {
    expect((await api(`${t.url}/healthz`)).status).toBe(200);
    const ready = await api(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', checks: { store: true, transport: true } });
  });
});
