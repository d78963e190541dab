import { randomUUID } from 'node:crypto';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { CORES, type Channel, type Core } from '../../domain/channel';
import {
  api,
  clockFrom,
  eventually,
  NOON_IN_LIMA,
  sampleReference,
  startTestHub,
  type TestHub,
} from '../integration/hub-fixture';

// Same-day reversal (extorno): back through the outbox and the core, amount due restored exactly.

let t: TestHub;
let clock = clockFrom(NOON_IN_LIMA);
beforeAll(async () => {
  t = await startTestHub({}, () => clock());
});
afterAll(async () => {
  await t.stop();
});

const loanOf = (core: Core) => {
  const l = SAMPLE_LOANS.find((x) => x.core === core && x.status === 'ACTIVE');
  if (!l) throw new Error(`no ${core} loan`);
  return l;
};
const minor = (s: unknown): bigint => BigInt(String(s).replace('.', ''));

async function due(channel: Channel, loanNumber: string): Promise<bigint> {
  return minor(
    (await api(`${t.url}/v1/${channel}/loans/${loanNumber}`, { token: await t.token(channel) })).json.amountDue,
  );
}

async function payAndApply(channel: Channel, core: Core, amount = '15.25'): Promise<string> {
  const loan = loanOf(core);
  const r = await api(`${t.url}/v1/${channel}/payments`, {
    token: await t.token(channel),
    body: { loanNumber: loan.loanNumber, amount, currency: loan.currency, channelReference: sampleReference(channel) },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(r.status).toBe(201);
  const id = String(r.json.paymentId);
  await waitFor(channel, id, 'APPLIED');
  return id;
}

async function waitFor(channel: Channel, id: string, status: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const r = await api(`${t.url}/v1/${channel}/payments/${id}`, { token: await t.token(channel) });
      return r.json.status === status ? r.json : undefined;
    },
    10_000,
    `payment ${id} to be ${status}`,
  );
}

function reverse(channel: Channel, id: string, key: string = randomUUID(), body?: unknown) {
  return (async () =>
    api(`${t.url}/v1/${channel}/payments/${id}/reversal`, {
      token: await t.token(channel),
      method: 'POST',
      ...(body !== undefined ? { body } : {}),
      headers: { 'idempotency-key': key },
    }))();
}

describe('a reversal per core restores the amount due exactly', () => {
  for (const core of CORES) {
    it(`${core}: 202 REVERSAL_PENDING, then REVERSED, amount due back to what it was`, async () => {
      const loan = loanOf(core);
      const before = await due('web', loan.loanNumber);
      const id = await payAndApply('web', core);
      expect(await due('web', loan.loanNumber)).toBe(before - 1525n);
      const r = await reverse('web', id);
      expect(r.status).toBe(202);
      expect(r.json.status).toBe('REVERSAL_PENDING');
      await waitFor('web', id, 'REVERSED');
      expect(await due('web', loan.loanNumber)).toBe(before);
    });
  }
});

describe('reversal rules', () => {
  it('a replay of the reversal returns the same answer; another key on a reversed payment is 409', async () => {
    const id = await payAndApply('app', 'cash');
    const key = randomUUID();
    const first = await reverse('app', id, key, { reason: 'customer changed mind' });
    expect(first.status).toBe(202);
    const again = await reverse('app', id, key, { reason: 'customer changed mind' });
    expect([again.status, again.headers.get('idempotent-replayed')]).toEqual([202, 'true']);
    await waitFor('app', id, 'REVERSED');
    const other = await reverse('app', id);
    expect([other.status, other.json.code]).toEqual([409, 'payment_not_reversible']);
  });

  it('another channel cannot reverse it, and does not learn it exists: 404', async () => {
    const id = await payAndApply('app', 'vehicle');
    const r = await reverse('web', id);
    expect([r.status, r.json.code]).toEqual([404, 'payment_not_found']);
    expect((await api(`${t.url}/v1/app/payments/${id}`, { token: await t.token('app') })).json.status).toBe('APPLIED');
  });

  it('a rejected payment cannot be reversed', async () => {
    const closed = SAMPLE_LOANS.find((l) => l.core === 'cash' && l.status === 'CLOSED');
    if (!closed) throw new Error('no closed loan');
    const r = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: {
        loanNumber: closed.loanNumber,
        amount: '10.00',
        currency: closed.currency,
        channelReference: sampleReference('app'),
      },
      headers: { 'idempotency-key': randomUUID() },
    });
    const id = String(r.json.paymentId);
    await waitFor('app', id, 'REJECTED');
    const rev = await reverse('app', id);
    expect([rev.status, rev.json.code]).toEqual([409, 'payment_not_reversible']);
  });

  it("after the channel's reversal cutoff: 409 reversal_window_closed, and the payment stays applied", async () => {
    const id = await payAndApply('atm', 'mortgage');
    // atm reversals end at 21:30 Lima; move the hub's clock to 21:45 the same day.
    clock = clockFrom(Date.parse('2026-11-24T02:45:00Z'));
    try {
      const r = await reverse('atm', id);
      expect([r.status, r.json.code]).toEqual([409, 'reversal_window_closed']);
    } finally {
      clock = clockFrom(NOON_IN_LIMA);
    }
    expect((await api(`${t.url}/v1/atm/payments/${id}`, { token: await t.token('atm') })).json.status).toBe('APPLIED');
  });

  it('on a later business day: 409 reversal_window_closed', async () => {
    const id = await payAndApply('stores', 'cash');
    clock = clockFrom(NOON_IN_LIMA + 24 * 3600_000);
    try {
      const r = await reverse('stores', id);
      expect([r.status, r.json.code]).toEqual([409, 'reversal_window_closed']);
    } finally {
      clock = clockFrom(NOON_IN_LIMA);
    }
  });

  it('a token without payments:reverse gets 403 insufficient_scope', async () => {
    const id = await payAndApply('app', 'cash');
    const token = await t.token('app', ['loans:read', 'payments:write']);
    const r = await api(`${t.url}/v1/app/payments/${id}/reversal`, {
      token,
      method: 'POST',
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([r.status, r.json.code]).toEqual([403, 'insufficient_scope']);
  });

  it('the same key first used for a payment cannot be reused for a reversal: 422', async () => {
    const loan = loanOf('cash');
    const key = randomUUID();
    const p = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: {
        loanNumber: loan.loanNumber,
        amount: '11.00',
        currency: loan.currency,
        channelReference: sampleReference('app'),
      },
      headers: { 'idempotency-key': key },
    });
    await waitFor('app', String(p.json.paymentId), 'APPLIED');
    const r = await reverse('app', String(p.json.paymentId), key);
    expect([r.status, r.json.code]).toEqual([422, 'idempotency_key_reused']);
  });
});

describe('finding payments by the channel reference', () => {
  it("returns the channel's own matches and never another channel's", async () => {
    const loan = loanOf('vehicle');
    const reference = sampleReference('web');
    for (let i = 0; i < 2; i += 1) {
      await api(`${t.url}/v1/web/payments`, {
        token: await t.token('web'),
        body: { loanNumber: loan.loanNumber, amount: `1${i}.00`, currency: loan.currency, channelReference: reference },
        headers: { 'idempotency-key': randomUUID() },
      });
    }
    const mine = await api(`${t.url}/v1/web/payments?channelReference=${reference}`, { token: await t.token('web') });
    expect(mine.status).toBe(200);
    expect((mine.json as unknown as unknown[]).length).toBe(2);
    const theirs = await api(`${t.url}/v1/app/payments?channelReference=${reference}`, { token: await t.token('app') });
    expect(theirs.json).toEqual([]);
    const bad = await api(`${t.url}/v1/web/payments?channelReference=${reference}&status=APPLIED`, {
      token: await t.token('web'),
    });
    expect([bad.status, bad.json.code]).toEqual([400, 'unknown_query_parameter']);
  });
});
