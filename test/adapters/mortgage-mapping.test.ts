import fc from 'fast-check';
import type { CoreHttpResponse } from '../../adapters/core-adapters';
import { CoreUnavailableError } from '../../adapters/core-port';
import {
  mapMortgageInquiryAnswer,
  mapMortgagePaymentAnswer,
  mapMortgageReversalAnswer,
} from '../../adapters/mortgage/mortgage-adapter';
import {
  formatMortgageDecimal,
  parseMortgageDecimal,
  parseMortgageInputDecimal,
} from '../../adapters/mortgage/mortgage-decimal';

const json = (status: number, value: unknown): CoreHttpResponse => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(value),
});

function breachOf(run: () => unknown): CoreUnavailableError {
  try {
    run();
  } catch (err) {
    if (err instanceof CoreUnavailableError) return err;
    throw err;
  }
  throw new Error('expected a contract breach');
}

const outstanding = { interest: '1450.30', insurance: '120.45', principal: '348429.25', total: '350000.00' };

describe('mortgage answers mapped to the hub', () => {
  test('the amount due is the outstanding total, once its parts add up', () => {
    const answer = json(200, { mortgageId: '200000000001', currency: 'PEN', status: 'CURRENT', outstanding });
    expect(mapMortgageInquiryAnswer('200000000001', answer)).toEqual({
      loanNumber: '200000000001',
      core: 'mortgage',
      currency: 'PEN',
      amountDue: 35_000_000n,
      status: 'ACTIVE',
    });
  });

  test('a total that disagrees with its parts is a breach naming both figures', () => {
    const answer = json(200, {
      mortgageId: '200000000001',
      currency: 'PEN',
      status: 'CURRENT',
      outstanding: { ...outstanding, total: '350000.01' },
    });
    const err = breachOf(() => mapMortgageInquiryAnswer('200000000001', answer));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('350000.00');
    expect(err.message).toContain('350000.01');
  });

  test('PAID_OFF is CLOSED and MTG-104 is null', () => {
    const paidOff = json(200, {
      mortgageId: '200000000009',
      currency: 'USD',
      status: 'PAID_OFF',
      outstanding: { interest: '0.00', insurance: '0.00', principal: '0.00', total: '0.00' },
    });
    expect(mapMortgageInquiryAnswer('200000000009', paidOff)).toMatchObject({ status: 'CLOSED', amountDue: 0n });
    expect(mapMortgageInquiryAnswer('200000000077', json(404, { errorCode: 'MTG-104', message: 'x' }))).toBeNull();
  });

  test('a payment is applied when its allocation adds up to the amount paid', () => {
    const answer = json(201, {
      paymentId: 'MTG-PAY-00000001',
      allocation: { interest: '1450.30', insurance: '120.45', principal: '29.25' },
      outstanding: { interest: '0.00', insurance: '0.00', principal: '348400.00', total: '348400.00' },
    });
    expect(mapMortgagePaymentAnswer(160_000n, answer)).toEqual({
      kind: 'applied',
      coreReference: 'MTG-PAY-00000001',
      amountDueAfter: 34_840_000n,
    });
  });

  test('an allocation that does not add up to the amount paid is a breach', () => {
    const answer = json(201, {
      paymentId: 'MTG-PAY-00000001',
      allocation: { interest: '1450.30', insurance: '120.45', principal: '29.24' },
      outstanding: { interest: '0.00', insurance: '0.00', principal: '348400.01', total: '348400.01' },
    });
    expect(breachOf(() => mapMortgagePaymentAnswer(160_000n, answer)).message).toMatch(/1599.99.*1600.00/);
  });

  test('a reversal must restore exactly the amount reversed', () => {
    const answer = json(200, {
      reversalId: 'MTG-REV-00000001',
      restored: { interest: '10.00', insurance: '0.00', principal: '0.00' },
      outstanding,
    });
    expect(mapMortgageReversalAnswer(1_000n, answer)).toMatchObject({ kind: 'applied', amountDueAfter: 35_000_000n });
    expect(breachOf(() => mapMortgageReversalAnswer(1_001n, answer)).retryable).toBe(false);
  });

  test.each([
    ['MTG-101', 409, 'loan_closed'],
    ['MTG-102', 422, 'overpayment'],
    ['MTG-103', 422, 'currency_mismatch'],
    ['MTG-104', 404, 'loan_not_found'],
    ['MTG-105', 400, 'invalid_amount'],
    ['MTG-106', 404, 'payment_not_found'],
  ])('%s (HTTP %i) is rejected as %s', (errorCode, status, reason) => {
    expect(mapMortgagePaymentAnswer(1n, json(status, { errorCode, message: 'why' }))).toEqual({
      kind: 'rejected',
      reason,
      detail: `${errorCode}: why`,
    });
  });

  test.each(['MTG-109', 'MTG-401', 'MTG-400', 'MTG-999'])('%s is a non-retryable breach', (errorCode) => {
    expect(breachOf(() => mapMortgagePaymentAnswer(1n, json(409, { errorCode }))).retryable).toBe(false);
  });
});

describe('mortgage decimals', () => {
  test('format and parse are exact inverses over any amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 19n }), (minor) => {
        expect(parseMortgageDecimal(formatMortgageDecimal(minor))).toBe(minor);
      }),
    );
  });

  test.each(['1.5', '01.00', '-1.00', '1e3', '1.000', ' 1.00', '', '1,000.00'])('the core never writes %j', (text) => {
    expect(parseMortgageDecimal(text)).toBeUndefined();
  });

  test('input accepts 0, 1 or 2 decimals and nothing else', () => {
    expect(parseMortgageInputDecimal('125')).toBe(12_500n);
    expect(parseMortgageInputDecimal('125.5')).toBe(12_550n);
    expect(parseMortgageInputDecimal('125.50')).toBe(12_550n);
    expect(parseMortgageInputDecimal('125.505')).toBeUndefined();
    expect(parseMortgageInputDecimal(125.5)).toBeUndefined();
  });

  test('a negative amount cannot be written', () => {
    expect(() => formatMortgageDecimal(-1n)).toThrow(RangeError);
  });
});
