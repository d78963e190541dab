import { randomUUID } from 'node:crypto';
import { ERROR_CATALOGUE } from '../../domain/errors';
import { api, startTestHub, type TestHub } from '../integration/hub-fixture';

// A channel integrator gets every problem of a request in one answer: RFC 9457's `errors` extension
// member, one entry per field (JSON Pointer into the body) or header, the first entry's code still the
// problem's `code`.

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

interface Entry {
  code: string;
  detail: string;
  pointer?: string;
  field?: string;
  header?: string;
  [member: string]: unknown;
}

function entries(json: Record<string, unknown>): Entry[] {
  return json.errors as Entry[];
}

describe('a payment request with several problems', () => {
  it('gets them all at once, header first, then the body in field order, then the channel policy', async () => {
    const r = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: {
        loanNumber: '12345',
        amount: '10.001',
        currency: 'EUR',
        channelReference: 'WEB-12345',
        discount: '5.00',
      },
    });
    expect([r.status, r.json.code]).toEqual([400, 'idempotency_key_missing']);
    expect(entries(r.json).map((e) => [e.code, e.pointer ?? e.header])).toEqual([
      ['idempotency_key_missing', 'Idempotency-Key'],
      ['unknown_field', '#/discount'],
      ['invalid_loan_number', '#/loanNumber'],
      ['amount_too_precise', '#/amount'],
      ['currency_unsupported', '#/currency'],
      ['channel_reference_format', '#/channelReference'],
    ]);
    expect(entries(r.json)[5]).toMatchObject({ field: 'channelReference', example: 'APP-8f3a2c' });
    for (const e of entries(r.json)) {
      expect(e.code in ERROR_CATALOGUE).toBe(true);
      expect(typeof e.detail).toBe('string');
    }
  });

  it("a body the schema takes gets every one of the channel policy's refusals (atm: reference and amount)", async () => {
    const r = await api(`${t.url}/v1/atm/payments`, {
      token: await t.token('atm'),
      body: { loanNumber: '100000000001', amount: '3000.01', currency: 'PEN', channelReference: 'APP-1' },
      headers: { 'idempotency-key': randomUUID() },
    });
    // The first problem decides code and status, as before this member existed.
    expect([r.status, r.json.code, r.json.example]).toEqual([400, 'channel_reference_format', 'ATM0042-000123']);
    expect(entries(r.json)).toEqual([
      expect.objectContaining({ code: 'channel_reference_format', pointer: '#/channelReference' }),
      expect.objectContaining({
        code: 'amount_above_channel_maximum',
        pointer: '#/amount',
        maximum: '3000.00',
        currency: 'PEN',
      }),
    ]);
  });

  it('a missing field and a wrong type are both named, and the problem carries the first field', async () => {
    const r = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: { amount: 10.5, currency: 'PEN', channelReference: 'APP-1' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([r.status, r.json.code, r.json.field]).toEqual([400, 'missing_field', 'loanNumber']);
    expect(entries(r.json).map((e) => [e.code, e.pointer])).toEqual([
      ['missing_field', '#/loanNumber'],
      ['amount_not_a_string', '#/amount'],
    ]);
  });

  it('a single problem comes as a one-entry list too, so a client reads one shape', async () => {
    const r = await api(`${t.url}/v1/app/payments`, {
      token: await t.token('app'),
      body: { loanNumber: '100000000001', amount: '0.00', currency: 'PEN', channelReference: 'APP-1' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([r.status, r.json.code]).toEqual([400, 'amount_zero']);
    expect(entries(r.json)).toEqual([
      { pointer: '#/amount', field: 'amount', code: 'amount_zero', detail: r.json.detail },
    ]);
  });

  it('a request with every problem fixed goes through with the same key (nothing was stored)', async () => {
    const key = randomUUID();
    const token = await t.token('app');
    const bad = await api(`${t.url}/v1/app/payments`, {
      token,
      body: { loanNumber: '1', amount: '-1', currency: 'pen', channelReference: 'APP-1' },
      headers: { 'idempotency-key': key },
    });
    expect(entries(bad.json)).toHaveLength(3);
    const good = await api(`${t.url}/v1/app/payments`, {
      token,
      body: { loanNumber: '100000000001', amount: '1.00', currency: 'PEN', channelReference: 'APP-1' },
      headers: { 'idempotency-key': key },
    });
    expect(good.status).toBe(201);
  });
});

describe('a reversal request with several problems', () => {
  it('names the header and each body field', async () => {
    const r = await api(`${t.url}/v1/app/payments/01a20000-0000-7000-8000-000000000000/reversal`, {
      token: await t.token('app'),
      body: { reason: 'x'.repeat(81), note: 'hi' },
    });
    expect([r.status, r.json.code]).toEqual([400, 'idempotency_key_missing']);
    expect(entries(r.json).map((e) => [e.code, e.pointer ?? e.header])).toEqual([
      ['idempotency_key_missing', 'Idempotency-Key'],
      ['unknown_field', '#/note'],
      ['invalid_field_type', '#/reason'],
    ]);
  });
});
