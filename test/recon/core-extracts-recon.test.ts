import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCashAdapter } from '../../adapters/cash/cash-adapter';
import { coreAdapterConfigFromEnv, createCoreHttpExchange } from '../../adapters/core-adapters';
import type { CoreAdapter } from '../../adapters/core-port';
import { createMortgageAdapter } from '../../adapters/mortgage/mortgage-adapter';
import { createVehicleAdapter } from '../../adapters/vehicle/vehicle-adapter';
import { setExtractFault } from '../../bank/cores/core-faults';
import { startCoreSimulators, type CoreSimulator } from '../../bank/cores/core-simulator-server';
import { SAMPLE_LOANS } from '../../bank/cores/sample-loans';
import { main } from '../../cli/main';
import { businessDateOf } from '../../domain/business-date';
import { CORES, type Core } from '../../domain/channel';
import { minorUnits, type Currency } from '../../domain/money';
import type { Payment } from '../../domain/payment';
import { accept, move, openFixture, type ReconFixture } from './recon-fixture';

// `loanhub recon run` against the real core simulators over HTTP: payments applied through the real
// adapters and recorded at the hub; each core's extract (cash CSV, mortgage JSON, vehicle XML) fetched
// through its adapter's settings; the simulators' extract faults (applied twice, left out, another
// amount) come out as exactly those breaks, with the core's rows as evidence.

const TZ = 'America/Lima';
let fx: ReconFixture;
let simDir: string;
let simulators: CoreSimulator[];
let env: NodeJS.ProcessEnv;

const urlOf = (core: Core): string => simulators.find((s) => s.core === core)?.url ?? '';

function adapterOf(core: Core): CoreAdapter {
  const config = coreAdapterConfigFromEnv(core, {}, urlOf(core));
  const exchange = createCoreHttpExchange(core, config);
  const c = config.credentials;
  if (core === 'cash' && c.kind === 'api_key') return createCashAdapter(exchange, c.apiKey);
  if (core === 'mortgage' && c.kind === 'basic') return createMortgageAdapter(exchange, c.username, c.password);
  if (core === 'vehicle' && c.kind === 'token') return createVehicleAdapter(exchange, c.token);
  throw new Error(`no adapter for ${core}`);
}

function loanOf(core: Core, currency: Currency): string {
  const loan = SAMPLE_LOANS.find((l) => l.core === core && l.currency === currency && l.status === 'ACTIVE');
  if (!loan) throw new Error(`no active ${currency} loan for ${core}`);
  return loan.loanNumber;
}

beforeAll(async () => {
  fx = openFixture('recon-cores');
  simDir = mkdtempSync(join(tmpdir(), 'loanhub-recon-sims-'));
  simulators = await startCoreSimulators({ dataDir: simDir, host: '127.0.0.1' });
  env = {
    ...process.env,
    LOANHUB_DATA_DIR: fx.dir,
    LOANHUB_TIME_ZONE: TZ,
    LOANHUB_CORE_CASH_URL: urlOf('cash'),
    LOANHUB_CORE_MORTGAGE_URL: urlOf('mortgage'),
    LOANHUB_CORE_VEHICLE_URL: urlOf('vehicle'),
  };
}, 60_000);

afterAll(async () => {
  await Promise.all((simulators ?? []).map((s) => s.close()));
  await fx?.close();
  rmSync(simDir, { recursive: true, force: true });
});

test('the three cores extracts are fetched through the adapters and their planted faults are the only breaks', async () => {
  const date = businessDateOf(new Date(), TZ);
  const paid: Payment[] = [];
  for (const core of CORES) {
    for (let i = 0; i < 3; i++) {
      const p = await accept(fx.store, {
        channel: 'app',
        loanNumber: loanOf(core, 'PEN'),
        amount: 1500n + BigInt(i),
        businessDate: date,
      });
      const outcome = await adapterOf(core).applyPayment({
        paymentId: p.id,
        receiptNumber: p.receiptNumber,
        loanNumber: p.loanNumber,
        amount: minorUnits(p.amount),
        currency: 'PEN',
        channel: 'app',
        businessDate: date,
      });
      if (outcome.kind !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
      await move(fx.store, p.id, { type: 'core_applied' }, outcome.coreReference);
      paid.push(p);
    }
  }
  const pick = (i: number): Payment => {
    const p = paid[i];
    if (!p) throw new Error(`no payment ${i}`);
    return p;
  };
  const [twice, dropped, changed] = [pick(0), pick(4), pick(8)];
  await setExtractFault(urlOf('cash'), { action: 'duplicate', paymentId: twice.id });
  await setExtractFault(urlOf('mortgage'), { action: 'drop', paymentId: dropped.id });
  await setExtractFault(urlOf('vehicle'), { action: 'amount', paymentId: changed.id, amount: '30.01' });

  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  try {
    process.exitCode = undefined;
    expect(await main(['node', 'loanhub', 'recon', 'run', '--date', date, '--json'])).toBe(0);
  } finally {
    o.mockRestore();
    process.exitCode = undefined;
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const body = JSON.parse(out.join('')) as {
    sources: { cores: string[] };
    extractFailures: unknown[];
    breaks: { type: string; paymentId: string; evidence: { core?: { amount: string; kind: string }[] } }[];
    totals: { source: string; core: string; count: number; amount: string }[];
  };
  expect(body.extractFailures).toEqual([]);
  expect(body.sources.cores).toEqual(['cash', 'mortgage', 'vehicle']);
  const coreBreaks = body.breaks
    .filter((b) => b.type !== 'APPLIED_NOT_POSTED')
    .map((b) => [b.type, b.paymentId])
    .sort();
  expect(coreBreaks).toEqual(
    [
      ['AMOUNT_MISMATCH', changed.id],
      ['APPLIED_TWICE_AT_CORE', twice.id],
      ['MISSING_AT_CORE', dropped.id],
    ].sort(),
  );
  expect(body.breaks.find((b) => b.type === 'AMOUNT_MISMATCH')?.evidence.core).toEqual([
    expect.objectContaining({ kind: 'APPLIED', amount: '30.01' }),
  ]);
  expect(body.breaks.find((b) => b.type === 'APPLIED_TWICE_AT_CORE')?.evidence.core).toHaveLength(2);
  // No file went to the mainframe in this test: every payment is still APPLIED.
  expect(body.breaks.filter((b) => b.type === 'APPLIED_NOT_POSTED')).toHaveLength(9);
  const cashCore = body.totals.find((t) => t.source === 'core' && t.core === 'cash');
  // 15.00 + 15.01 + 15.02, and 15.00 again for the duplicate.
  expect(cashCore).toMatchObject({ count: 4, amount: '60.03' });
}, 60_000);
