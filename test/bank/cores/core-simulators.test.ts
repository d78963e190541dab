import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  basicAuthorization,
  DEFAULT_MORTGAGE_PASSWORD,
  DEFAULT_MORTGAGE_USERNAME,
} from '../../../adapters/mortgage/mortgage-contract';
import { parseFaultRequest, setSimulatorFault } from '../../../bank/cores/core-faults';
import { coreDatabasePath } from '../../../bank/cores/core-ledger';
import { startCoreSimulator, startCoreSimulators } from '../../../bank/cores/core-simulator-server';
import { SAMPLE_LOANS, readCoreLoans } from '../../../bank/cores/sample-loans';
import { z } from 'zod';
import { CORES } from '../../../domain/channel';
import { coreForLoan } from '../../../domain/core-routing';
import { parseAmount } from '../../../domain/money';

const JsonObject = z.record(z.string(), z.unknown());
async function jsonOf(response: Response | Promise<Response>): Promise<Record<string, unknown>> {
  return JsonObject.parse(await (await response).json());
}

describe('the seeded loans', () => {
  test('each core seeds 3 to 5 loans it owns, in PEN and USD, with at least one CLOSED', () => {
    for (const core of CORES) {
      const loans = SAMPLE_LOANS.filter((l) => l.core === core);
      expect(loans.length).toBeGreaterThanOrEqual(3);
      expect(loans.length).toBeLessThanOrEqual(5);
      expect(new Set(loans.map((l) => l.currency))).toEqual(new Set(['PEN', 'USD']));
      expect(loans.some((l) => l.status === 'CLOSED')).toBe(true);
      for (const loan of loans) expect(coreForLoan(loan.loanNumber)).toBe(core);
    }
  });

  test('amounts are edge decimal strings with two fraction digits', () => {
    for (const loan of SAMPLE_LOANS) expect(loan.amountDue).toMatch(/^(0|[1-9]\d*)\.\d{2}$/);
  });

  test('with nothing persisted, readCoreLoans answers the seeds and creates no files', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-seeds-'));
    try {
      const loans = await readCoreLoans(dataDir);
      expect(loans.map((l) => l.loanNumber)).toEqual(SAMPLE_LOANS.map((l) => l.loanNumber));
      loans.forEach((loan, i) => {
        const seed = SAMPLE_LOANS[i];
        const due = parseAmount(seed?.amountDue ?? '', 10n ** 15n);
        expect(loan.amountDue).toBe(due.ok ? due.value : 0n);
        expect(loan.status).toBe(seed?.status);
      });
      expect(existsSync(coreDatabasePath(dataDir, 'cash'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the simulators together', () => {
  test('startCoreSimulators starts one per core on its own port, persisting under cores/<core>.db', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-sims-'));
    const sims = await startCoreSimulators({ dataDir, env: {} });
    try {
      expect(sims.map((s) => s.core)).toEqual([...CORES]);
      expect(new Set(sims.map((s) => s.url)).size).toBe(3);
      for (const core of CORES) expect(existsSync(coreDatabasePath(dataDir, core))).toBe(true);
    } finally {
      await Promise.all(sims.map((s) => s.close()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('fault injection', () => {
  test('the admin body is validated', () => {
    expect(parseFaultRequest({ mode: 'slow', delayMs: 250 })).toEqual({
      ok: true,
      value: { mode: 'slow', delayMs: 250, status: 503 },
    });
    expect(parseFaultRequest({ mode: 'error', status: 500 })).toMatchObject({ ok: true, value: { status: 500 } });
    expect(parseFaultRequest({ mode: 'sideways' })).toMatchObject({ ok: false });
    expect(parseFaultRequest({ mode: 'slow', delayMs: -1 })).toMatchObject({ ok: false });
    expect(parseFaultRequest({ mode: 'slow', delayMs: 1.5 })).toMatchObject({ ok: false });
    expect(parseFaultRequest({ mode: 'error', status: 404 })).toMatchObject({ ok: false });
    expect(parseFaultRequest([])).toMatchObject({ ok: false });
  });

  test('the admin endpoint keeps answering while the core is down, and refuses a bad mode', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-fault-'));
    const sim = await startCoreSimulator('cash', { dataDir, env: {} });
    try {
      expect(await setSimulatorFault(sim.url, { mode: 'down' })).toMatchObject({ core: 'cash', mode: 'down' });
      const current = await fetch(new URL('/_admin/fault', sim.url));
      expect(await current.json()).toMatchObject({ mode: 'down' });
      const bad = await fetch(new URL('/_admin/fault', sim.url), { method: 'POST', body: '{"mode":"sideways"}' });
      expect(bad.status).toBe(400);
      await expect(fetch(new URL('/cash/v1/loans/100000000001', sim.url))).rejects.toThrow();
    } finally {
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the mortgage simulator allocates and restores by bucket', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'loanhub-mtg-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a payment fills interest, then insurance, then principal; its reversal gives each back exactly', async () => {
    const sim = await startCoreSimulator('mortgage', { dataDir, env: {} });
    const headers = {
      authorization: basicAuthorization(DEFAULT_MORTGAGE_USERNAME, DEFAULT_MORTGAGE_PASSWORD),
      'content-type': 'application/json',
    };
    const base = new URL('/mortgage/api/v2/mortgages/200000000002', sim.url);
    try {
      const before = await jsonOf(fetch(base, { headers }));
      expect(before.outstanding).toEqual({
        interest: '512.10',
        insurance: '45.90',
        principal: '119442.00',
        total: '120000.00',
      });
      const paid = await fetch(`${base.href}/payments`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ clientReference: 'alloc-1', amount: '600.00', currency: 'USD' }),
      });
      expect(paid.status).toBe(201);
      const body = await jsonOf(paid);
      expect(body.allocation).toEqual({ interest: '512.10', insurance: '45.90', principal: '42.00' });
      expect(body.outstanding).toEqual({
        interest: '0.00',
        insurance: '0.00',
        principal: '119400.00',
        total: '119400.00',
      });

      const reversed = await fetch(`${base.href}/payments/alloc-1/reversal`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ amount: '600.00' }),
      });
      expect(reversed.status).toBe(200);
      expect((await jsonOf(reversed)).restored).toEqual(body.allocation);
      expect((await jsonOf(fetch(base, { headers }))).outstanding).toEqual(before.outstanding);
    } finally {
      await sim.close();
    }
  });

  test('errors carry an MTG code and HTTP status: closed is 409 MTG-101, no credentials 401 MTG-401', async () => {
    const sim = await startCoreSimulator('mortgage', { dataDir, env: {} });
    try {
      const closed = await fetch(new URL('/mortgage/api/v2/mortgages/200000000009/payments', sim.url), {
        method: 'POST',
        headers: { authorization: basicAuthorization(DEFAULT_MORTGAGE_USERNAME, DEFAULT_MORTGAGE_PASSWORD) },
        body: JSON.stringify({ clientReference: 'c-1', amount: '1.00', currency: 'USD' }),
      });
      expect(closed.status).toBe(409);
      expect(await closed.json()).toMatchObject({ errorCode: 'MTG-101' });
      const anonymous = await fetch(new URL('/mortgage/api/v2/mortgages/200000000001', sim.url));
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ errorCode: 'MTG-401' });
    } finally {
      await sim.close();
    }
  });
});

describe('credentials come from the environment on both sides', () => {
  test('a simulator started with another API key refuses the default one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-creds-'));
    const sim = await startCoreSimulator('cash', { dataDir, env: { LOANHUB_CORE_CASH_API_KEY: 'rotated' } });
    try {
      const url = new URL('/cash/v1/loans/100000000001', sim.url);
      expect((await fetch(url, { headers: { 'x-api-key': 'loanhub-dev-cash-key' } })).status).toBe(401);
      expect((await fetch(url, { headers: { 'x-api-key': 'rotated' } })).status).toBe(200);
    } finally {
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
