import { randomUUID } from 'node:crypto';
import { api, startTestHub, type TestHub } from './hub-fixture';

// Bad input always gets a clear 4xx problem+json with a code, never a 5xx, and writes nothing.

let t: TestHub;
let token: string;
beforeAll(async () => {
  t = await startTestHub();
  token = await t.token('app');
});
afterAll(async () => {
  await t.stop();
});

const good = { loanNumber: '100000000001', amount: '10.00', currency: 'PEN', channelReference: 'APP-BAD1' };

/** Payment rows in the hub's store (its SQLite file or its PostgreSQL schema). */
async function paymentsWritten(): Promise<number> {
  const db = t.openDb();
  try {
    const row = await db.get<{ n: bigint }>('SELECT COUNT(*) AS n FROM payments');
    if (row === undefined) throw new Error('COUNT(*) gave no row');
    return Number(row.n);
  } finally {
    await db.close();
  }
}

const cases: Array<[string, { rawBody?: string; body?: unknown; contentType?: string }, number, string]> = [
  ['broken JSON', { rawBody: '{"loanNumber": "1000', contentType: 'application/json' }, 400, 'malformed_json'],
  ['empty body', { rawBody: '', contentType: 'application/json' }, 400, 'body_not_object'],
  [
    'deeply nested body',
    { rawBody: '{"a":'.repeat(50) + '1' + '}'.repeat(50), contentType: 'application/json' },
    400,
    'json_too_deep',
  ],
  [
    'thousands of keys',
    {
      rawBody: JSON.stringify(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))),
      contentType: 'application/json',
    },
    400,
    'json_too_many_keys',
  ],
  ['array body', { body: [good] }, 400, 'body_not_object'],
  ['null body', { rawBody: 'null', contentType: 'application/json' }, 400, 'body_not_object'],
  ['string body', { rawBody: '"pay me"', contentType: 'application/json' }, 400, 'body_not_object'],
  ['negative amount', { body: { ...good, amount: '-10.00' } }, 400, 'amount_sign'],
  ['over-precise amount', { body: { ...good, amount: '10.001' } }, 400, 'amount_too_precise'],
  ['exponent amount', { body: { ...good, amount: '1e3' } }, 400, 'amount_exponent'],
  ['float amount', { body: { ...good, amount: 10.5 } }, 400, 'amount_not_a_string'],
  [
    'huge JSON number amount',
    { rawBody: JSON.stringify(good).replace('"10.00"', '1' + '0'.repeat(400)), contentType: 'application/json' },
    400,
    'amount_not_a_string',
  ],
  ['huge string amount', { body: { ...good, amount: '9'.repeat(5000) } }, 400, 'amount_too_large'],
  ['amount over the maximum', { body: { ...good, amount: '50000.01' } }, 400, 'amount_too_large'],
  ['zero amount', { body: { ...good, amount: '0.00' } }, 400, 'amount_zero'],
  ['comma amount', { body: { ...good, amount: '1,000.00' } }, 400, 'amount_grouping'],
  ['unknown currency', { body: { ...good, currency: 'EUR' } }, 400, 'currency_unsupported'],
  ['lower-case currency', { body: { ...good, currency: 'pen' } }, 400, 'currency_unsupported'],
  ['unknown field', { body: { ...good, discount: '5.00' } }, 400, 'unknown_field'],
  [
    'prototype pollution key',
    { rawBody: JSON.stringify(good).replace('{', '{"__proto__":{"admin":true},'), contentType: 'application/json' },
    400,
    'unknown_field',
  ],
  ['missing loan number', { body: { amount: '1.00', currency: 'PEN', channelReference: 'x' } }, 400, 'missing_field'],
  ['numeric loan number', { body: { ...good, loanNumber: 100000000001 } }, 400, 'invalid_field_type'],
  ['SQL injection in loan number', { body: { ...good, loanNumber: "1' OR '1'='1" } }, 400, 'suspicious_input'],
  [
    'script in reference',
    { body: { ...good, channelReference: '<script>alert(1)</script>' } },
    400,
    'suspicious_input',
  ],
  ['path traversal in reference', { body: { ...good, channelReference: '../../etc/passwd' } }, 400, 'suspicious_input'],
  ['control character in reference', { body: { ...good, channelReference: 'A\u0000B' } }, 400, 'suspicious_input'],
  [
    "reference in another channel's format",
    { body: { ...good, channelReference: 'ATM0042-000123' } },
    400,
    'channel_reference_format',
  ],
  ['overlong reference', { body: { ...good, channelReference: 'A'.repeat(65) } }, 400, 'invalid_channel_reference'],
  ['object as reference', { body: { ...good, channelReference: { $ne: '' } } }, 400, 'invalid_field_type'],
  [
    'text/plain content type',
    { rawBody: JSON.stringify(good), contentType: 'text/plain' },
    415,
    'unsupported_media_type',
  ],
  [
    'form content type',
    { rawBody: 'loanNumber=100000000001', contentType: 'application/x-www-form-urlencoded' },
    415,
    'unsupported_media_type',
  ],
  [
    'body over 16 KiB',
    { rawBody: JSON.stringify({ ...good, channelReference: 'x'.repeat(20_000) }), contentType: 'application/json' },
    413,
    'payload_too_large',
  ],
];

describe('bad input to POST /v1/{channel}/payments', () => {
  it.each(cases)('%s gets its own 4xx code and writes nothing', async (_name, input, status, code) => {
    const before = await paymentsWritten();
    const headers: Record<string, string> = { 'idempotency-key': randomUUID() };
    if (input.contentType) headers['content-type'] = input.contentType;
    const r = await api(`${t.url}/v1/app/payments`, {
      token,
      method: 'POST',
      ...(input.body !== undefined ? { body: input.body } : { rawBody: input.rawBody ?? '' }),
      headers,
    });
    expect([r.status, r.json.code]).toEqual([status, code]);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.json).toMatchObject({ status, type: `urn:loanhub:problem:${code}` });
    expect(typeof r.json.title).toBe('string');
    expect(await paymentsWritten()).toBe(before);
  });

  it('a refused request stores no idempotency record, so the same key works once corrected', async () => {
    const key = randomUUID();
    const bad = await api(`${t.url}/v1/app/payments`, {
      token,
      body: { ...good, amount: '1.001' },
      headers: { 'idempotency-key': key },
    });
    expect(bad.status).toBe(400);
    const fixed = await api(`${t.url}/v1/app/payments`, { token, body: good, headers: { 'idempotency-key': key } });
    expect(fixed.status).toBe(201);
  });

  it.each([
    ['an over-long key', 'k'.repeat(256)],
    ['a key with a space', 'my key'],
  ])('%s gets 400 idempotency_key_invalid', async (_name, key) => {
    const r = await api(`${t.url}/v1/app/payments`, { token, body: good, headers: { 'idempotency-key': key } });
    expect([r.status, r.json.code]).toEqual([400, 'idempotency_key_invalid']);
  });

  it('an unknown route is a 404 problem, not an HTML page', async () => {
    const r = await api(`${t.url}/v1/app/nothing-here`, { token });
    expect([r.status, r.json.code]).toEqual([404, 'not_found']);
  });

  it('a malformed payment id is 400 invalid_payment_id', async () => {
    const r = await api(`${t.url}/v1/app/payments/..%2F..%2Fetc`, { token });
    expect([r.status, r.json.code]).toEqual([400, 'invalid_payment_id']);
  });

  it('no secret, token or Authorization header appears in any log line', () => {
    const all = t.logLines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(token);
    expect(all).not.toMatch(/Bearer [A-Za-z0-9._-]{20,}/);
    for (const c of t.hub.issuer.clients()) {
      const secret = t.hub.issuer.clientSecret(c.clientId);
      if (secret) expect(all).not.toContain(secret);
    }
  });
});
