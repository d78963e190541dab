import fc from 'fast-check';
import { mapCashInquiryAnswer, mapCashPostingAnswer } from '../../adapters/cash/cash-adapter';
import { encodeCashJson } from '../../adapters/cash/cash-json-codec';
import { CoreUnavailableError } from '../../adapters/core-port';
import type { CoreHttpResponse } from '../../adapters/core-adapters';

const json = (status: number, body: string): CoreHttpResponse => ({ status, contentType: 'application/json', body });

function breachOf(run: () => unknown): CoreUnavailableError {
  try {
    run();
  } catch (err) {
    if (err instanceof CoreUnavailableError) return err;
    throw err;
  }
  throw new Error('expected a contract breach');
}

describe('cash answers mapped to the hub', () => {
  test('an OPEN loan becomes an ACTIVE inquiry with its cents as minor units', () => {
    const answer = json(
      200,
      '{"result":"OK","loanId":"100000000001","currency":"PEN","dueCents":2500000,"state":"OPEN"}',
    );
    expect(mapCashInquiryAnswer('100000000001', answer)).toEqual({
      loanNumber: '100000000001',
      core: 'cash',
      currency: 'PEN',
      amountDue: 2_500_000n,
      status: 'ACTIVE',
    });
  });

  test('a CLOSED loan is CLOSED', () => {
    const answer = json(200, '{"result":"OK","loanId":"100000000009","currency":"USD","dueCents":0,"state":"CLOSED"}');
    expect(mapCashInquiryAnswer('100000000009', answer)).toMatchObject({ status: 'CLOSED', amountDue: 0n });
  });

  test('LOAN_NOT_FOUND on inquiry is null', () => {
    expect(
      mapCashInquiryAnswer('100000000077', json(404, '{"result":"ERROR","errorCode":"LOAN_NOT_FOUND"}')),
    ).toBeNull();
  });

  test.each([
    ['a fractional cents value', '12.5'],
    ['cents beyond 2^53', '9007199254740993'],
    ['negative cents', '-1'],
    ['cents as a string', '"100"'],
  ])('%s is a non-retryable contract breach', (_name, dueCents) => {
    const answer = json(
      200,
      `{"result":"OK","loanId":"100000000001","currency":"PEN","dueCents":${dueCents},"state":"OPEN"}`,
    );
    expect(breachOf(() => mapCashInquiryAnswer('100000000001', answer)).retryable).toBe(false);
  });

  test('an answer about another loan is a breach', () => {
    const answer = json(200, '{"result":"OK","loanId":"100000000002","currency":"PEN","dueCents":1,"state":"OPEN"}');
    expect(breachOf(() => mapCashInquiryAnswer('100000000001', answer)).message).toMatch(/another loan/);
  });

  test('a body that is not JSON is a non-retryable breach', () => {
    expect(breachOf(() => mapCashPostingAnswer('payment', json(200, '<html>oops'))).retryable).toBe(false);
  });

  test('an OK payment is applied with the txnId and the amount due after', () => {
    const answer = json(200, '{"result":"OK","txnId":"CSH0000000007","externalRef":"p1","dueCents":2487655}');
    expect(mapCashPostingAnswer('payment', answer)).toEqual({
      kind: 'applied',
      coreReference: 'CSH0000000007',
      amountDueAfter: 2_487_655n,
    });
  });

  test.each([
    [409, 'LOAN_CLOSED', 'loan_closed'],
    [422, 'OVERPAYMENT', 'overpayment'],
    [422, 'CURRENCY_MISMATCH', 'currency_mismatch'],
    [404, 'LOAN_NOT_FOUND', 'loan_not_found'],
    [400, 'INVALID_AMOUNT', 'invalid_amount'],
    [404, 'PAYMENT_NOT_FOUND', 'payment_not_found'],
  ])('HTTP %i %s is rejected as %s', (status, code, reason) => {
    const answer = json(status, `{"result":"ERROR","errorCode":"${code}","message":"m"}`);
    expect(mapCashPostingAnswer('payment', answer)).toEqual({ kind: 'rejected', reason, detail: `${code}: m` });
  });

  test.each([
    [401, 'UNAUTHORIZED'],
    [409, 'DUPLICATE_REFERENCE'],
    [400, 'BAD_REQUEST'],
    [418, 'SOMETHING_NEW'],
  ])('HTTP %i %s is a non-retryable breach, not a rejection', (status, code) => {
    const answer = json(status, `{"result":"ERROR","errorCode":"${code}"}`);
    expect(breachOf(() => mapCashPostingAnswer('reversal', answer)).retryable).toBe(false);
  });
});

describe('cash JSON codec', () => {
  test('integer amounts are written as their exact digits, however large', () => {
    expect(encodeCashJson({ a: 'x"y', amountCents: 123456789012345678901234567890n })).toBe(
      '{"a":"x\\"y","amountCents":123456789012345678901234567890}',
    );
  });

  test('within the safe range the encoding reads back to the same cents', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }), fc.string(), (cents, ref) => {
        const parsed: unknown = JSON.parse(encodeCashJson({ externalRef: ref, amountCents: cents }));
        expect(parsed).toEqual({ externalRef: ref, amountCents: Number(cents) });
        expect(BigInt(Reflect.get(Object(parsed), 'amountCents'))).toBe(cents);
      }),
    );
  });
});
