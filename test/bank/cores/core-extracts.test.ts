import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCashAdapter } from '../../../adapters/cash/cash-adapter';
import { coreAdapterConfigFromEnv, createCoreHttpExchange } from '../../../adapters/core-adapters';
import { CoreExtractError } from '../../../adapters/core-extract-errors';
import type { CoreExtract, CoreExtractRow } from '../../../adapters/core-extract-port';
import { createCoreExtractSource } from '../../../adapters/core-extract-sources';
import type { CoreAdapter, CoreOutcome } from '../../../adapters/core-port';
import { createMortgageAdapter } from '../../../adapters/mortgage/mortgage-adapter';
import { createVehicleAdapter } from '../../../adapters/vehicle/vehicle-adapter';
import { clearExtractFaults, setExtractFault, setSimulatorFault } from '../../../bank/cores/core-faults';
import { startCoreSimulators, type CoreSimulator } from '../../../bank/cores/core-simulator-server';
import { SAMPLE_LOANS } from '../../../bank/cores/sample-loans';
import { businessDateOf } from '../../../domain/business-date';
import { CORES, type Core } from '../../../domain/channel';
import { minorUnits, type Currency } from '../../../domain/money';

// Each core's daily extract, end to end: the real simulators over HTTP, payments applied and reversed
// through the real adapters, the extract fetched through each core's extract source in the core's own
// format (cash CSV, mortgage JSON, vehicle XML) and read back into rows; the faults reconciliation
// plants (applied twice, left out, another amount) show in the extract and nowhere else.

const TIME_ZONE = 'America/Lima';
const ENV = { LOANHUB_TIME_ZONE: TIME_ZONE };

let dir: string;
let simulators: CoreSimulator[];
const adapters = new Map<Core, CoreAdapter>();

function urlOf(core: Core): string {
  const sim = simulators.find((s) => s.core === core);
  if (!sim) throw new Error(`no simulator for ${core}`);
  return sim.url;
}

type PaymentCommand = Parameters<CoreAdapter['applyPayment']>[0];

/** The real adapter of each core over HTTP, with the development credentials the simulators take. */
function adapterOf(core: Core): CoreAdapter {
  const config = coreAdapterConfigFromEnv(core, {}, urlOf(core));
  const exchange = createCoreHttpExchange(core, config);
  const c = config.credentials;
  if (core === 'cash' && c.kind === 'api_key') return createCashAdapter(exchange, c.apiKey);
  if (core === 'mortgage' && c.kind === 'basic') return createMortgageAdapter(exchange, c.username, c.password);
  if (core === 'vehicle' && c.kind === 'token') return createVehicleAdapter(exchange, c.token);
  throw new Error(`no adapter for ${core} with ${c.kind} credentials`);
}

function sourceOf(core: Core, env: NodeJS.ProcessEnv = {}) {
  return createCoreExtractSource(core, coreAdapterConfigFromEnv(core, env, urlOf(core)));
}

function activeLoan(core: Core, currency: Currency): string {
  const loan = SAMPLE_LOANS.find((l) => l.core === core && l.currency === currency && l.status === 'ACTIVE');
  if (!loan) throw new Error(`no active ${currency} loan for ${core}`);
  return loan.loanNumber;
}

function command(core: Core, currency: Currency, cents: bigint): PaymentCommand {
  const paymentId = randomUUID();
  return {
    paymentId,
    receiptNumber: `R-${paymentId.slice(0, 8)}`,
    loanNumber: activeLoan(core, currency),
    amount: minorUnits(cents),
    currency,
    channel: 'app',
    businessDate: businessDateOf(new Date(), TIME_ZONE),
  };
}

function coreReferenceOf(outcome: CoreOutcome): string {
  if (outcome.kind !== 'applied') throw new Error(`expected applied, got ${outcome.reason}: ${outcome.detail}`);
  return outcome.coreReference;
}

async function refusal(promise: Promise<unknown>): Promise<CoreExtractError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CoreExtractError) return err;
    throw err;
  }
  throw new Error('expected CoreExtractError, the fetch succeeded');
}

function rowsFor(extract: CoreExtract, paymentId: string): CoreExtractRow[] {
  return extract.rows.filter((r) => r.paymentId === paymentId);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loanhub-extracts-'));
  simulators = await startCoreSimulators({ dataDir: dir, env: ENV });
  for (const core of CORES) adapters.set(core, adapterOf(core));
});

afterAll(async () => {
  await Promise.all(simulators.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CORES)('the %s core daily extract', (core) => {
  const formats: Record<Core, { ext: string; looksLike: RegExp }> = {
    cash: { ext: 'csv', looksLike: /^record_type,external_ref,txn_id,loan_id,currency,amount_cents,booked_at\r\n/ },
    mortgage: { ext: 'json', looksLike: /^\{"extractDate":/ },
    vehicle: { ext: 'xml', looksLike: /^<\?xml version="1.0" encoding="UTF-8"\?><VehicleDailyExtract>/ },
  };

  test('lists every payment applied and every reversal done that day, with the core references and exact amounts', async () => {
    const adapter = adapters.get(core);
    if (!adapter) throw new Error('no adapter');
    const pen = command(core, 'PEN', 12_550n);
    const usd = command(core, 'USD', 1n);
    const reversed = command(core, 'PEN', 99_999n);
    const before = businessDateOf(new Date(), TIME_ZONE);
    const penRef = coreReferenceOf(await adapter.applyPayment(pen));
    const usdRef = coreReferenceOf(await adapter.applyPayment(usd));
    const reversedRef = coreReferenceOf(await adapter.applyPayment(reversed));
    const reversalRef = coreReferenceOf(
      await adapter.reversePayment({
        paymentId: reversed.paymentId,
        loanNumber: reversed.loanNumber,
        amount: reversed.amount,
        currency: reversed.currency,
      }),
    );
    // A rejected payment (overpayment) is not a movement of the core.
    const rejected = command(core, 'PEN', 10n ** 13n);
    expect((await adapter.applyPayment(rejected)).kind).toBe('rejected');
    const businessDate = businessDateOf(new Date(), TIME_ZONE);
    expect(businessDate).toBe(before);

    const extract = await sourceOf(core).fetchDailyExtract(businessDate);

    expect(extract.core).toBe(core);
    expect(extract.businessDate).toBe(businessDate);
    expect(extract.fileName).toBe(`${core}-extract-${businessDate}.${formats[core].ext}`);
    expect(extract.raw.toString('utf8')).toMatch(formats[core].looksLike);
    expect(extract.sha256).toBe(createHash('sha256').update(extract.raw).digest('hex'));
    expect(rowsFor(extract, pen.paymentId)).toEqual([
      expect.objectContaining({
        core,
        kind: 'applied',
        coreReference: penRef,
        loanNumber: pen.loanNumber,
        currency: 'PEN',
        amount: 12_550n,
      }),
    ]);
    expect(rowsFor(extract, usd.paymentId)).toEqual([
      expect.objectContaining({ kind: 'applied', coreReference: usdRef, currency: 'USD', amount: 1n }),
    ]);
    expect(rowsFor(extract, reversed.paymentId)).toEqual([
      expect.objectContaining({ kind: 'applied', coreReference: reversedRef, amount: 99_999n }),
      expect.objectContaining({ kind: 'reversed', coreReference: reversalRef, amount: 99_999n }),
    ]);
    expect(rowsFor(extract, rejected.paymentId)).toEqual([]);
    // Line numbers are the evidence: distinct, increasing, and in the file's own numbering.
    const lines = extract.rows.map((r) => r.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines[0]).toBe(core === 'cash' ? 2 : 1);
    for (const row of extract.rows) {
      expect(typeof row.amount).toBe('bigint');
      expect(businessDateOf(new Date(row.at), TIME_ZONE)).toBe(businessDate);
    }
  });

  test('another day lists nothing; a malformed date is refused before any request', async () => {
    const empty = await sourceOf(core).fetchDailyExtract('2020-01-15');
    expect(empty.rows).toEqual([]);
    expect(empty.businessDate).toBe('2020-01-15');
    const bad = await refusal(sourceOf(core).fetchDailyExtract('2026-02-30'));
    expect(bad.code).toBe('EXTRACT_REFUSED');
  });

  test('planted faults: a payment applied twice, one left out, one with another amount; cleared, the extract is true again', async () => {
    const adapter = adapters.get(core);
    if (!adapter) throw new Error('no adapter');
    const twice = command(core, 'PEN', 1_000n);
    const dropped = command(core, 'PEN', 2_000n);
    const changed = command(core, 'PEN', 3_000n);
    const twiceRef = coreReferenceOf(await adapter.applyPayment(twice));
    coreReferenceOf(await adapter.applyPayment(dropped));
    coreReferenceOf(await adapter.applyPayment(changed));
    const businessDate = businessDateOf(new Date(), TIME_ZONE);

    await setExtractFault(urlOf(core), { action: 'duplicate', paymentId: twice.paymentId });
    await setExtractFault(urlOf(core), { action: 'drop', paymentId: dropped.paymentId });
    await setExtractFault(urlOf(core), { action: 'amount', paymentId: changed.paymentId, amount: '30.01' });
    const faulty = await sourceOf(core).fetchDailyExtract(businessDate);
    expect(rowsFor(faulty, twice.paymentId)).toEqual([
      expect.objectContaining({ kind: 'applied', coreReference: twiceRef, amount: 1_000n }),
      expect.objectContaining({ kind: 'applied', coreReference: `${twiceRef}-2`, amount: 1_000n }),
    ]);
    expect(rowsFor(faulty, dropped.paymentId)).toEqual([]);
    expect(rowsFor(faulty, changed.paymentId)).toEqual([expect.objectContaining({ amount: 3_001n })]);

    await clearExtractFaults(urlOf(core));
    const clean = await sourceOf(core).fetchDailyExtract(businessDate);
    expect(rowsFor(clean, twice.paymentId)).toHaveLength(1);
    expect(rowsFor(clean, dropped.paymentId)).toEqual([expect.objectContaining({ amount: 2_000n })]);
    expect(rowsFor(clean, changed.paymentId)).toEqual([expect.objectContaining({ amount: 3_000n })]);
  });

  test('the extract takes the same credential as payments: a wrong one is refused', async () => {
    const wrong: Record<Core, NodeJS.ProcessEnv> = {
      cash: { LOANHUB_CORE_CASH_API_KEY: 'not-the-key' },
      mortgage: { LOANHUB_CORE_MORTGAGE_PASSWORD: 'not-the-password' },
      vehicle: { LOANHUB_CORE_VEHICLE_TOKEN: 'not-the-token' },
    };
    const err = await refusal(sourceOf(core, wrong[core]).fetchDailyExtract('2026-12-01'));
    expect(err.code).toBe('EXTRACT_REFUSED');
    expect(err.message).not.toMatch(/not-the-/);
  });

  test('a core that is down gives EXTRACT_UNAVAILABLE', async () => {
    await setSimulatorFault(urlOf(core), { mode: 'down' });
    try {
      const err = await refusal(sourceOf(core).fetchDailyExtract('2026-12-01'));
      expect(err.code).toBe('EXTRACT_UNAVAILABLE');
    } finally {
      await setSimulatorFault(urlOf(core), { mode: 'ok' });
    }
  });
});

describe('the extract faults admin endpoint', () => {
  test('refuses a fault it cannot apply: unknown action, an amount as a JSON number, no payment id', async () => {
    const url = new URL('/_admin/extract-fault', urlOf('cash'));
    for (const body of [
      { action: 'explode', paymentId: 'p-1' },
      { action: 'amount', paymentId: 'p-1', amount: 12.5 },
      { action: 'drop' },
    ]) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
    }
  });
});
