import { OPS_CLIENT_ID } from '../../api/auth/embedded-issuer';
import { api, clockFrom, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';
import { randomUUID } from 'node:crypto';
import { expectedFigures, reconcileSeededDay, seedDay, type SeededDay } from '../reports/seed-day';

// The /ops endpoints: the page shell is public and carries no data; the panels and the JSON need an
// ops:read token of the operations client; a channel token is 403 and no token 401, as problem+json.
// Every /ops answer has a CSP of 'self' only.

let t: TestHub;
let day: SeededDay;
let opsToken: string;
beforeAll(async () => {
  t = await startTestHub();
  day = await seedDay(t);
  opsToken = (await t.hub.issuer.issueToken(OPS_CLIENT_ID)).access_token;
}, 120_000);
afterAll(async () => {
  await t.stop();
});

const DATA_PATHS = ['/ops/panels', '/ops/api/overview', '/ops/api/daily'];

describe('who may read /ops', () => {
  it.each(DATA_PATHS)('%s without a token is 401 invalid_token as problem+json', async (p) => {
    const r = await api(`${t.url}${p}`);
    expect([r.status, r.json.code, r.headers.get('content-type')]).toEqual([
      401,
      'invalid_token',
      'application/problem+json; charset=utf-8',
    ]);
    expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it.each(DATA_PATHS)('%s with a channel token (every channel scope) is 403 insufficient_scope', async (p) => {
    for (const channel of ['app', 'agents'] as const) {
      const r = await api(`${t.url}${p}`, { token: await t.token(channel) });
      expect([r.status, r.json.code, r.headers.get('content-type')]).toEqual([
        403,
        'insufficient_scope',
        'application/problem+json; charset=utf-8',
      ]);
    }
  });

  it('a channel client cannot get ops:read from the token endpoint', async () => {
    const client = t.hub.issuer.clients().find((c) => c.channel === 'web');
    if (!client) throw new Error('no web client');
    const r = await api(`${t.url}/oauth/token`, {
      rawBody: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'ops:read',
        client_id: client.clientId,
        client_secret: t.hub.issuer.clientSecret(client.clientId) ?? '',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([r.status, r.json.code]).toEqual([400, 'invalid_grant_request']);
  });

  it('the ops client logs in at the token endpoint and reads /ops/api/daily; its token is refused on a channel route', async () => {
    const ops = t.hub.issuer.opsClient();
    const r = await api(`${t.url}/oauth/token`, {
      rawBody: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: ops.clientId,
        client_secret: ops.secret,
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([r.status, r.json.scope]).toEqual([200, 'ops:read']);
    const token = String(r.json.access_token);
    const daily = await api(`${t.url}/ops/api/daily?date=${day.businessDate}`, { token });
    expect(daily.status).toBe(200);
    const channelRoute = await api(`${t.url}/v1/app/loans/100000000001`, { token });
    expect([channelRoute.status, channelRoute.json.code]).toEqual([403, 'forbidden_channel']);
  });
});

describe('what /ops serves', () => {
  it('the shell, script and stylesheet carry a CSP of self only, no inline code, and no figures', async () => {
    for (const p of ['/ops', '/ops/ops.js', '/ops/ops.css', '/ops/api/daily']) {
      const r = await api(`${t.url}${p}`, { token: opsToken });
      expect(r.status).toBe(200);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
    }
    const shell = await api(`${t.url}/ops`);
    expect(shell.text).not.toMatch(/<script>|<style>| style=| on[a-z]+=/);
    expect(shell.text).toContain('<script src="/ops/ops.js" defer></script>');
  });

  it('/ops/api/daily gives the seeded day’s statement to the cent; ?date= is checked', async () => {
    const r = await api(`${t.url}/ops/api/daily?date=${day.businessDate}`, { token: opsToken });
    const pen = (r.json.totals as { currency: string; accepted: unknown; net: unknown }[]).find(
      (l) => l.currency === 'PEN',
    );
    const want = expectedFigures(day.payments, { currency: 'PEN' });
    expect(pen).toMatchObject({ accepted: want.accepted, net: want.net });
    const bad = await api(`${t.url}/ops/api/daily?date=2026-13-01`, { token: opsToken });
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid_business_date']);
    const extra = await api(`${t.url}/ops/api/daily?date=${day.businessDate}&x=1`, { token: opsToken });
    expect([extra.status, extra.json.code]).toEqual([400, 'unknown_query_parameter']);
  });

  it('/ops/api/overview: flow, queues, breakers, webhooks, the batch night per core, reconciliation, trend', async () => {
    const r = await api(`${t.url}/ops/api/overview?date=${day.businessDate}`, { token: opsToken });
    expect(r.status).toBe(200);
    expect(r.json.businessDate).toBe(day.businessDate);
    expect(r.json.breakers).toEqual({ cash: 'closed', mortgage: 'closed', vehicle: 'closed' });
    expect(r.json.reconciliation).toEqual({ status: 'NOT_RUN' });
    const batch = r.json.batch as { core: string; waiting: { count: number } }[];
    expect(batch.map((b) => b.core)).toEqual(['cash', 'mortgage', 'vehicle']);
    const applied = day.payments.filter((p) => p.status === 'APPLIED');
    expect(batch.reduce((n, b) => n + b.waiting.count, 0)).toBe(applied.length);
    const trend = r.json.trend as { businessDate: string; currency: string; net: string }[];
    expect(trend.find((x) => x.businessDate === day.businessDate && x.currency === 'USD')?.net).toBe(
      expectedFigures(day.payments, { currency: 'USD' }).net.amount,
    );
  });
});

describe('reconciliation on /ops (recon’s own engine, store.recon, where the store has it)', () => {
  it('after a run, the overview and the panel show its status, open breaks by type, and the breaks', async () => {
    const recon = t.hub.store?.recon;
    if (!recon) throw new Error('the test hub has no reconciliation tables');
    const run = await reconcileSeededDay(t, day);
    expect(run.status).toBe('UNBALANCED');
    const counts = (await recon.breakCounts(day.businessDate)).filter((c) => c.status === 'open');
    const r = await api(`${t.url}/ops/api/overview?date=${day.businessDate}`, { token: opsToken });
    const shown = r.json.reconciliation as {
      status: string;
      openBreaks: number;
      openByType: { type: string; count: number }[];
      breaks: { id: string; type: string }[];
    };
    expect(shown.status).toBe('UNBALANCED');
    expect(shown.openBreaks).toBe(run.openBreaks);
    expect(Object.fromEntries(shown.openByType.map((c) => [c.type, c.count]))).toEqual(
      Object.fromEntries(counts.filter((c) => c.count > 0).map((c) => [c.type, c.count])),
    );
    expect(shown.breaks.length).toBe(
      Math.min(
        50,
        counts.reduce((n, c) => n + c.count, 0),
      ),
    );
    expect(shown.breaks.map((b) => b.type)).toContain('SOURCE_MISSING');
    const panels = await api(`${t.url}/ops/panels?date=${day.businessDate}`, { token: opsToken });
    expect(panels.text).toContain(`data-status="UNBALANCED" data-open-breaks="${run.openBreaks}"`);
    expect(panels.text).toContain('<title>Open breaks by type</title>');
  });
});

describe('the date /ops shows without ?date=', () => {
  it('is today’s business date: on a Sunday, Monday’s, the date a payment made now gets', async () => {
    const sunday = await startTestHub({}, clockFrom(Date.parse('2026-11-22T17:00:00Z')));
    try {
      const token = (await sunday.hub.issuer.issueToken(OPS_CLIENT_ID)).access_token;
      const paid = await api(`${sunday.url}/v1/web/payments`, {
        token: await sunday.token('web'),
        body: {
          loanNumber: '100000000001',
          amount: '10.00',
          currency: 'PEN',
          channelReference: sampleReference('web'),
        },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(paid.status).toBe(201);
      const payment = await sunday.hub.store?.getPayment(String(paid.json.paymentId));
      expect(payment?.businessDate).toBe('2026-11-23');
      const daily = await api(`${sunday.url}/ops/api/daily`, { token });
      expect(daily.json.businessDate).toBe('2026-11-23');
      const pen = (daily.json.totals as { currency: string; accepted: unknown }[]).find((l) => l.currency === 'PEN');
      expect(pen?.accepted).toEqual({ count: 1, amount: '10.00' });
    } finally {
      await sunday.stop();
    }
  });
});
