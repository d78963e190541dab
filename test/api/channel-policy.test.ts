import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHANNELS } from '../../domain/channel';
import { api, clockFrom, NOON_IN_LIMA, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';

// Every request is checked against its channel's policy, each refusal with its own code.

let t: TestHub;
let clock = clockFrom(NOON_IN_LIMA);
let policyDir: string;

beforeAll(async () => {
  policyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-policies-'));
  for (const channel of CHANNELS) {
    const p = JSON.parse(fs.readFileSync(path.join(__dirname, '../../channels/policies', `${channel}.json`), 'utf8'));
    if (channel === 'stores') delete p.limits.USD;
    if (channel === 'agents') p.allowedNetworks = ['10.20.0.0/16'];
    if (channel === 'web') p.rateLimit = { perClientPerMinute: 30, perIpPerMinute: 100000 };
    fs.writeFileSync(path.join(policyDir, `${channel}.json`), JSON.stringify(p));
  }
  t = await startTestHub({ LOANHUB_CHANNEL_POLICIES_DIR: policyDir }, () => clock());
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(policyDir, { recursive: true, force: true });
});

async function pay(channel: 'app' | 'web' | 'agents' | 'atm' | 'stores', body: Record<string, unknown>) {
  return api(`${t.url}/v1/${channel}/payments`, {
    token: await t.token(channel),
    body: { loanNumber: '100000000001', currency: 'PEN', channelReference: sampleReference(channel), ...body },
    headers: { 'idempotency-key': randomUUID() },
  });
}

function wafLines(rule: string): string[] {
  return t.logLines.filter((l) => l.includes('"waf_block"') && l.includes(rule));
}

describe('channel policy', () => {
  it('below the channel minimum: 422 amount_below_channel_minimum (atm takes 10.00 and up)', async () => {
    const r = await pay('atm', { amount: '9.99' });
    expect([r.status, r.json.code, r.json.minimum]).toEqual([422, 'amount_below_channel_minimum', '10.00']);
  });

  it('above the channel maximum: 422 amount_above_channel_maximum', async () => {
    const r = await pay('atm', { amount: '3000.01' });
    expect([r.status, r.json.code]).toEqual([422, 'amount_above_channel_maximum']);
  });

  it('over the per-loan daily limit: 422 daily_limit_exceeded, the earlier payments stand', async () => {
    expect((await pay('atm', { loanNumber: '100000000003', amount: '600.00' })).status).toBe(201);
    expect((await pay('atm', { loanNumber: '100000000003', amount: '600.00' })).status).toBe(201);
    const r = await pay('atm', { loanNumber: '300000000001', amount: '3000.00' });
    expect(r.status).toBe(201);
    const s = await pay('atm', { loanNumber: '300000000001', amount: '3000.00' });
    expect(s.status).toBe(201);
    const over = await pay('atm', { loanNumber: '300000000001', amount: '10.00' });
    expect([over.status, over.json.code, over.json.taken]).toEqual([422, 'daily_limit_exceeded', '6000.00']);
  });

  it('a USD payment is held to the USD limits, not the PEN ones (atm: at most 800.00 USD, 3000.00 PEN)', async () => {
    const usd = await pay('atm', { loanNumber: '300000000002', currency: 'USD', amount: '800.01' });
    expect([usd.status, usd.json.code, usd.json.maximum, usd.json.currency]).toEqual([
      422,
      'amount_above_channel_maximum',
      '800.00',
      'USD',
    ]);
    expect(usd.json.detail).toBe('the maximum per payment for atm is 800.00 USD');
    const pen = await pay('atm', { loanNumber: '300000000002', currency: 'PEN', amount: '800.01' });
    expect(pen.status).toBe(201);
    const usdMin = await pay('atm', { loanNumber: '300000000002', currency: 'USD', amount: '5.00' });
    expect(usdMin.status).toBe(201);
    const belowUsdMin = await pay('atm', { loanNumber: '300000000002', currency: 'USD', amount: '4.99' });
    expect([belowUsdMin.status, belowUsdMin.json.code, belowUsdMin.json.minimum]).toEqual([
      422,
      'amount_below_channel_minimum',
      '5.00',
    ]);
  });

  it('the daily limit per loan is per currency: USD payments count against the USD limit only', async () => {
    // A USD loan the cash core holds (100000000002): its payments are applied and stay counted. The loan used
    // before (200000000004) is no loan at the mortgage core: its payments were rejected, and a rejected
    // payment gives its share of the day back, so the limit held only while the core was slower than the test.
    const loanNumber = '100000000002';
    expect((await pay('atm', { loanNumber, currency: 'USD', amount: '800.00' })).status).toBe(201);
    expect((await pay('atm', { loanNumber, currency: 'USD', amount: '800.00' })).status).toBe(201);
    const over = await pay('atm', { loanNumber, currency: 'USD', amount: '5.00' });
    expect([over.status, over.json.code, over.json.limit, over.json.taken, over.json.currency]).toEqual([
      422,
      'daily_limit_exceeded',
      '1600.00',
      '1600.00',
      'USD',
    ]);
    // 1,600 dollars taken leave the loan's 6,000 soles of the day untouched.
    expect((await pay('atm', { loanNumber, currency: 'PEN', amount: '3000.00' })).status).toBe(201);
  });

  it('a currency the channel does not take: 422 currency_not_allowed_for_channel', async () => {
    const r = await pay('stores', { loanNumber: '100000000002', currency: 'USD', amount: '10.00' });
    expect([r.status, r.json.code]).toEqual([422, 'currency_not_allowed_for_channel']);
  });

  it("a reference in another format than the channel's: 400 channel_reference_format with the example", async () => {
    const r = await pay('agents', { amount: '10.00', channelReference: 'APP-123' });
    // agents is also network-restricted here; the network check comes first.
    expect(r.status).toBe(403);
    const s = await pay('atm', { amount: '10.00', channelReference: 'AG004512-00000187' });
    expect([s.status, s.json.code, s.json.example]).toEqual([400, 'channel_reference_format', 'ATM0042-000123']);
  });

  it('outside operating hours: 409 outside_operating_hours (stores open 08:00-22:00 Lima)', async () => {
    clock = clockFrom(Date.parse('2026-11-24T04:00:00Z')); // 23:00 Lima
    try {
      const r = await pay('stores', { amount: '10.00' });
      expect([r.status, r.json.code]).toEqual([409, 'outside_operating_hours']);
    } finally {
      clock = clockFrom(NOON_IN_LIMA);
    }
  });

  it('a retry of a payment taken before closing time replays its 201 after closing; another body with its key is 422', async () => {
    const key = randomUUID();
    const body = {
      loanNumber: '100000000001',
      currency: 'PEN',
      channelReference: sampleReference('stores'),
      amount: '10.00',
    };
    const send = async (b: Record<string, unknown>) =>
      api(`${t.url}/v1/stores/payments`, {
        token: await t.token('stores'),
        body: b,
        headers: { 'idempotency-key': key },
      });
    const first = await send(body);
    expect(first.status).toBe(201);
    clock = clockFrom(Date.parse('2026-11-24T04:00:00Z')); // 23:00 Lima: stores closed
    try {
      const retry = await send(body);
      expect([retry.status, retry.headers.get('idempotent-replayed'), retry.json.paymentId]).toEqual([
        201,
        'true',
        first.json.paymentId,
      ]);
      const other = await send({ ...body, amount: '11.00' });
      expect([other.status, other.json.code]).toEqual([422, 'idempotency_key_reused']);
      const fresh = await pay('stores', { amount: '10.00' });
      expect([fresh.status, fresh.json.code]).toEqual([409, 'outside_operating_hours']);
    } finally {
      clock = clockFrom(NOON_IN_LIMA);
    }
  });

  it('after the cutoff the payment belongs to the next business date (app cutoff 23:00)', async () => {
    clock = clockFrom(Date.parse('2026-11-24T04:30:00Z')); // 23:30 Lima, 2026-11-23
    try {
      const r = await pay('app', { amount: '10.00' });
      expect([r.status, r.json.businessDate]).toEqual([201, '2026-11-24']);
    } finally {
      clock = clockFrom(NOON_IN_LIMA);
    }
    const before = await pay('app', { amount: '10.00' });
    expect(before.json.businessDate).toBe('2026-11-23');
  });

  it('from a network the channel does not allow: 403 source_network_not_allowed, logged as a WAF event', async () => {
    const r = await api(`${t.url}/v1/agents/loans/100000000001`, { token: await t.token('agents') });
    expect([r.status, r.json.code]).toEqual([403, 'source_network_not_allowed']);
    expect(wafLines('WAF-140-SOURCE-NETWORK').length).toBeGreaterThan(0);
  });

  it('over the per-client rate: 429 rate_limited with Retry-After, logged as a WAF event', async () => {
    const token = await t.token('web');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i += 1) {
      const r = await api(`${t.url}/v1/web/loans/100000000001`, { token });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const line = wafLines('WAF-130-RATE-LIMIT')[0] ?? '';
    expect(JSON.parse(line)).toMatchObject({
      rule: 'WAF-130-RATE-LIMIT',
      channel: 'web',
      clientId: 'web-client',
      code: 'rate_limited',
    });
    expect(JSON.parse(line).sourceIp).toMatch(/127\.0\.0\.1/);
  });

  it('exposes WAF block counts as metrics', async () => {
    const m = await api(`${t.url}/metrics`);
    expect(m.text).toMatch(/loanhub_waf_blocks_total\{rule="WAF-130-RATE-LIMIT",channel="web"\} \d+/);
  });
});
