import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createCoreAdapter } from '../../adapters/core-adapter-factory';
import { coreAdapterConfigFromEnv, type CoreAdapterConfig } from '../../adapters/core-adapters';
import {
  CoreUnavailableError,
  type CorePaymentCommand,
  type CoreAdapter,
  type CoreOutcome,
  type CoreReversalCommand,
} from '../../adapters/core-port';
import { setSimulatorFault } from '../../bank/cores/core-faults';
import { startCoreSimulator, type CoreSimulator } from '../../bank/cores/core-simulator-server';
import { SAMPLE_LOANS, readCoreLoans } from '../../bank/cores/sample-loans';
import { CORES, type Core } from '../../domain/channel';
import { minorUnits, parseAmount, type Currency, type MinorUnits } from '../../domain/money';

// One contract suite run against every core (STYLE habit 10): the real simulator on a free port in a
// temp dir, the real adapter over HTTP, and the outcomes the hub relies on.

function sample(core: Core, currency: Currency, status: 'ACTIVE' | 'CLOSED') {
  const loan = SAMPLE_LOANS.find((l) => l.core === core && l.currency === currency && l.status === status);
  if (!loan) throw new Error(`no ${status} ${currency} sample loan for ${core}`);
  return loan;
}

function closedSample(core: Core) {
  const loan = SAMPLE_LOANS.find((l) => l.core === core && l.status === 'CLOSED');
  if (!loan) throw new Error(`no CLOSED sample loan for ${core}`);
  return loan;
}

function amount(text: string): MinorUnits {
  const parsed = parseAmount(text, 10n ** 15n);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.value;
}

function payment(
  loanNumber: string,
  value: MinorUnits,
  currency: Currency,
  paymentId = randomUUID(),
): CorePaymentCommand {
  return {
    paymentId,
    receiptNumber: `R-${paymentId.slice(0, 8)}`,
    loanNumber,
    amount: value,
    currency,
    channel: 'app',
    businessDate: '2026-11-23',
  };
}

function reversal(of: CorePaymentCommand): CoreReversalCommand {
  return { paymentId: of.paymentId, loanNumber: of.loanNumber, amount: of.amount, currency: of.currency };
}

function applied(outcome: CoreOutcome): { coreReference: string; amountDueAfter: MinorUnits } {
  if (outcome.kind !== 'applied') throw new Error(`expected applied, got ${outcome.reason}: ${outcome.detail}`);
  return outcome;
}

async function dueOf(adapter: CoreAdapter, loanNumber: string): Promise<bigint> {
  const loan = await adapter.inquire(loanNumber);
  if (!loan) throw new Error(`loan ${loanNumber} not found`);
  return loan.amountDue;
}

async function unavailable(promise: Promise<unknown>): Promise<CoreUnavailableError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CoreUnavailableError) return err;
    throw err;
  }
  throw new Error('expected CoreUnavailableError, the call succeeded');
}

describe.each(CORES)('%s core adapter against its simulator', (core) => {
  const pen = sample(core, 'PEN', 'ACTIVE');
  const usd = sample(core, 'USD', 'ACTIVE');
  const closed = closedSample(core);
  const unknownLoan = `${pen.loanNumber.slice(0, 2)}9999999999`;
  let dataDir: string;
  let simulator: CoreSimulator;
  let adapter: CoreAdapter;

  const adapterFor = (url: string, overrides: Partial<CoreAdapterConfig> = {}): CoreAdapter =>
    createCoreAdapter(core, { ...coreAdapterConfigFromEnv(core, {}, url), ...overrides });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `loanhub-${core}-`));
    simulator = await startCoreSimulator(core, { dataDir, port: 0, env: {} });
    adapter = adapterFor(simulator.url);
  });

  afterAll(async () => {
    await simulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await setSimulatorFault(simulator.url, { mode: 'ok' });
  });

  test('an inquiry answers the seeded loan with its exact amount due', async () => {
    const loan = await adapter.inquire(pen.loanNumber);
    expect(loan).toEqual({
      loanNumber: pen.loanNumber,
      core,
      currency: 'PEN',
      amountDue: amount(pen.amountDue),
      status: 'ACTIVE',
    });
    expect(await adapter.inquire(closed.loanNumber)).toMatchObject({ status: 'CLOSED', amountDue: 0n });
  });

  test('an unknown loan is null on inquiry and loan_not_found on payment', async () => {
    expect(await adapter.inquire(unknownLoan)).toBeNull();
    const outcome = await adapter.applyPayment(payment(unknownLoan, amount('10.00'), 'PEN'));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'loan_not_found' });
  });

  test('an applied payment lowers the amount due by exactly the amount', async () => {
    const before = await dueOf(adapter, usd.loanNumber);
    const paid = amount('123.47');
    const outcome = applied(await adapter.applyPayment(payment(usd.loanNumber, paid, 'USD')));
    expect(outcome.coreReference.length).toBeGreaterThan(0);
    expect(outcome.amountDueAfter).toBe(before - paid);
    expect(await dueOf(adapter, usd.loanNumber)).toBe(before - paid);
  });

  test('a payment to a closed loan is rejected with loan_closed', async () => {
    const outcome = await adapter.applyPayment(payment(closed.loanNumber, amount('5.00'), closed.currency));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'loan_closed' });
  });

  test('a payment above the amount due is rejected as overpayment and changes nothing', async () => {
    const before = await dueOf(adapter, pen.loanNumber);
    const outcome = await adapter.applyPayment(payment(pen.loanNumber, minorUnits(before + 1n), 'PEN'));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'overpayment' });
    expect(await dueOf(adapter, pen.loanNumber)).toBe(before);
  });

  test('a payment in the other currency is rejected as currency_mismatch', async () => {
    const outcome = await adapter.applyPayment(payment(pen.loanNumber, amount('10.00'), 'USD'));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'currency_mismatch' });
  });

  test('a zero amount is rejected as invalid_amount', async () => {
    const outcome = await adapter.applyPayment(payment(pen.loanNumber, minorUnits(0n), 'PEN'));
    expect(outcome).toMatchObject({ kind: 'rejected', reason: 'invalid_amount' });
  });

  test('the same payment id sent twice is applied once and answered the same both times', async () => {
    const before = await dueOf(adapter, pen.loanNumber);
    const command = payment(pen.loanNumber, amount('50.05'), 'PEN');
    const first = await adapter.applyPayment(command);
    const second = await adapter.applyPayment(command);
    expect(second).toEqual(first);
    expect(applied(first).amountDueAfter).toBe(before - command.amount);
    expect(await dueOf(adapter, pen.loanNumber)).toBe(before - command.amount);
  });

  test('a rejected payment sent again gets the original rejection', async () => {
    const command = payment(closed.loanNumber, amount('1.00'), closed.currency);
    const first = await adapter.applyPayment(command);
    expect(await adapter.applyPayment(command)).toEqual(first);
  });

  test('the same payment id with another amount is a contract breach, never a second payment', async () => {
    const before = await dueOf(adapter, pen.loanNumber);
    const command = payment(pen.loanNumber, amount('7.00'), 'PEN');
    applied(await adapter.applyPayment(command));
    const err = await unavailable(adapter.applyPayment({ ...command, amount: amount('8.00') }));
    expect(err.retryable).toBe(false);
    expect(await dueOf(adapter, pen.loanNumber)).toBe(before - command.amount);
  });

  test('a reversal restores the amount due exactly, and reversing twice answers the first reversal', async () => {
    const before = await dueOf(adapter, pen.loanNumber);
    const command = payment(pen.loanNumber, amount('321.09'), 'PEN');
    applied(await adapter.applyPayment(command));
    const first = applied(await adapter.reversePayment(reversal(command)));
    expect(first.amountDueAfter).toBe(before);
    const second = await adapter.reversePayment(reversal(command));
    expect(second).toEqual(first);
    expect(await dueOf(adapter, pen.loanNumber)).toBe(before);
  });

  test('reversing a payment the core never applied is payment_not_found', async () => {
    const never = payment(pen.loanNumber, amount('1.00'), 'PEN');
    expect(await adapter.reversePayment(reversal(never))).toMatchObject({
      kind: 'rejected',
      reason: 'payment_not_found',
    });
  });

  test('paying the whole amount due closes the loan and its reversal reopens it', async () => {
    const loan = SAMPLE_LOANS.filter((l) => l.core === core && l.status === 'ACTIVE' && l.currency === 'PEN').at(-1);
    if (!loan) throw new Error('no second PEN loan');
    const due = await dueOf(adapter, loan.loanNumber);
    const command = payment(loan.loanNumber, minorUnits(due), 'PEN');
    expect(applied(await adapter.applyPayment(command)).amountDueAfter).toBe(0n);
    expect(await adapter.inquire(loan.loanNumber)).toMatchObject({ status: 'CLOSED', amountDue: 0n });
    expect(await adapter.applyPayment(payment(loan.loanNumber, amount('1.00'), 'PEN'))).toMatchObject({
      reason: 'loan_closed',
    });
    applied(await adapter.reversePayment(reversal(command)));
    expect(await adapter.inquire(loan.loanNumber)).toMatchObject({ status: 'ACTIVE', amountDue: due });
  });

  test('a core that is down is unavailable and retryable', async () => {
    await setSimulatorFault(simulator.url, { mode: 'down' });
    const err = await unavailable(adapter.inquire(pen.loanNumber));
    expect(err.retryable).toBe(true);
    expect(err.core).toBe(core);
    await setSimulatorFault(simulator.url, { mode: 'ok' });
    expect(await adapter.inquire(pen.loanNumber)).not.toBeNull();
  });

  test('a core answering 500 or 503 is unavailable and retryable, and applies nothing', async () => {
    const before = await dueOf(adapter, pen.loanNumber);
    await setSimulatorFault(simulator.url, { mode: 'error', status: 503 });
    expect((await unavailable(adapter.applyPayment(payment(pen.loanNumber, amount('1.00'), 'PEN')))).retryable).toBe(
      true,
    );
    await setSimulatorFault(simulator.url, { mode: 'error', status: 500 });
    expect((await unavailable(adapter.inquire(pen.loanNumber))).retryable).toBe(true);
    await setSimulatorFault(simulator.url, { mode: 'ok' });
    expect(await dueOf(adapter, pen.loanNumber)).toBe(before);
  });

  test('a slow core past the adapter timeout is unavailable and retryable; the retry is applied once', async () => {
    const impatient = adapterFor(simulator.url, { timeoutMs: 100 });
    const before = await dueOf(adapter, usd.loanNumber);
    await setSimulatorFault(simulator.url, { mode: 'slow', delayMs: 400 });
    const command = payment(usd.loanNumber, amount('2.00'), 'USD');
    const err = await unavailable(impatient.applyPayment(command));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/no answer within 100 ms/);
    await setSimulatorFault(simulator.url, { mode: 'ok' });
    // The slow core may still have applied it; the retry (same payment id) must not apply it again.
    expect(applied(await adapter.applyPayment(command)).amountDueAfter).toBe(before - command.amount);
  });

  test('wrong credentials are a non-retryable failure', async () => {
    const creds = coreAdapterConfigFromEnv(core, {}, simulator.url).credentials;
    const wrong =
      creds.kind === 'api_key'
        ? { ...creds, apiKey: 'nope' }
        : creds.kind === 'basic'
          ? { ...creds, password: 'nope' }
          : { ...creds, token: 'nope' };
    const err = await unavailable(adapterFor(simulator.url, { credentials: wrong }).inquire(pen.loanNumber));
    expect(err.retryable).toBe(false);
  });

  test('a core that refuses connections is unavailable and retryable', async () => {
    const gone = await startCoreSimulator(core, { dataDir, port: 0, env: {} });
    const url = gone.url;
    await gone.close();
    expect((await unavailable(adapterFor(url).inquire(pen.loanNumber))).retryable).toBe(true);
  });

  test('a restart of the simulator keeps every balance', async () => {
    applied(await adapter.applyPayment(payment(usd.loanNumber, amount('0.01'), 'USD')));
    const before = await readCoreLoans(dataDir);
    const beforeDue = await dueOf(adapter, usd.loanNumber);
    await simulator.close();
    simulator = await startCoreSimulator(core, { dataDir, port: 0, env: {} });
    adapter = adapterFor(simulator.url);
    expect(await dueOf(adapter, usd.loanNumber)).toBe(beforeDue);
    expect(await readCoreLoans(dataDir)).toEqual(before);
  });
});
