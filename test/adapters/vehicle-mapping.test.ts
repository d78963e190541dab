import type { CoreHttpResponse } from '../../adapters/core-adapters';
import { CoreUnavailableError } from '../../adapters/core-port';
import { mapVehicleInquiryAnswer, mapVehiclePostingAnswer } from '../../adapters/vehicle/vehicle-adapter';
import {
  VehicleFieldError,
  decodeVehicleAmount,
  decodeVehicleCurrency,
  encodeVehicleAmount,
} from '../../adapters/vehicle/vehicle-fields';
import { parseVehicleMessage } from '../../adapters/vehicle/vehicle-message';

const xml = (inner: string, status = 200): CoreHttpResponse => ({
  status,
  contentType: 'application/xml',
  body: `<?xml version="1.0" encoding="UTF-8"?><VehicleLoanResponse>${inner}</VehicleLoanResponse>`,
});

function breachOf(run: () => unknown): CoreUnavailableError {
  try {
    run();
  } catch (err) {
    if (err instanceof CoreUnavailableError) return err;
    throw err;
  }
  throw new Error('expected CoreUnavailableError');
}

describe('vehicle answers mapped to the hub', () => {
  test('an approved INQ is the loan with its 12-digit balance as minor units', () => {
    const answer = xml(
      '<ResultCode>00</ResultCode><LoanId>300000000001</LoanId><BalanceDue>000004500000</BalanceDue>' +
        '<CurrencyCode>604</CurrencyCode><LoanStatus>A</LoanStatus>',
    );
    expect(mapVehicleInquiryAnswer('300000000001', answer)).toEqual({
      loanNumber: '300000000001',
      core: 'vehicle',
      currency: 'PEN',
      amountDue: 4_500_000n,
      status: 'ACTIVE',
    });
  });

  test('result 14 on INQ is null', () => {
    expect(mapVehicleInquiryAnswer('300000000077', xml('<ResultCode>14</ResultCode>'))).toBeNull();
  });

  test('an approved PAY is applied with its AuthCode', () => {
    const answer = xml(
      '<ResultCode>00</ResultCode><TraceRef>p-1</TraceRef><AuthCode>VP000000003</AuthCode>' +
        '<BalanceDue>000000987450</BalanceDue>',
    );
    expect(mapVehiclePostingAnswer('payment', 'p-1', answer)).toEqual({
      kind: 'applied',
      coreReference: 'VP000000003',
      amountDueAfter: 987_450n,
    });
  });

  test.each([
    ['13', 'invalid_amount'],
    ['14', 'loan_not_found'],
    ['25', 'payment_not_found'],
    ['51', 'loan_closed'],
    ['52', 'currency_mismatch'],
    ['61', 'overpayment'],
  ])('result %s is rejected as %s', (code, reason) => {
    const answer = xml(`<ResultCode>${code}</ResultCode><TraceRef>p-1</TraceRef>`);
    expect(mapVehiclePostingAnswer('payment', 'p-1', answer)).toMatchObject({ kind: 'rejected', reason });
  });

  test('result 96 (system malfunction) is retryable', () => {
    const err = breachOf(() => mapVehiclePostingAnswer('payment', 'p-1', xml('<ResultCode>96</ResultCode>')));
    expect(err.retryable).toBe(true);
  });

  test.each(['30', '63', '94', '77'])('result %s is a non-retryable breach', (code) => {
    const answer = xml(`<ResultCode>${code}</ResultCode><TraceRef>p-1</TraceRef>`);
    expect(breachOf(() => mapVehiclePostingAnswer('payment', 'p-1', answer)).retryable).toBe(false);
  });

  test('an echo of another TraceRef is a breach', () => {
    const answer = xml(
      '<ResultCode>00</ResultCode><TraceRef>p-2</TraceRef><AuthCode>A</AuthCode><BalanceDue>000000000000</BalanceDue>',
    );
    expect(breachOf(() => mapVehiclePostingAnswer('payment', 'p-1', answer)).message).toMatch(/TraceRef/);
  });

  test('garbled XML, a missing ResultCode or a non-200 status are non-retryable breaches', () => {
    expect(
      breachOf(() => mapVehicleInquiryAnswer('300000000001', { status: 200, contentType: '', body: '<Vehicle' }))
        .retryable,
    ).toBe(false);
    expect(breachOf(() => mapVehicleInquiryAnswer('300000000001', xml('<LoanId>1</LoanId>'))).retryable).toBe(false);
    expect(
      breachOf(() => mapVehicleInquiryAnswer('300000000001', xml('<ResultCode>00</ResultCode>', 404))).retryable,
    ).toBe(false);
  });

  test('a balance that is not 12 digits is a breach, never a guess', () => {
    const answer = xml(
      '<ResultCode>00</ResultCode><LoanId>300000000001</LoanId><BalanceDue>4500000</BalanceDue>' +
        '<CurrencyCode>604</CurrencyCode><LoanStatus>A</LoanStatus>',
    );
    expect(breachOf(() => mapVehicleInquiryAnswer('300000000001', answer)).message).toMatch(/BalanceDue/);
  });
});

describe('vehicle fields and envelopes', () => {
  test('amounts are 12 zero-padded digits and refuse what does not fit', () => {
    expect(encodeVehicleAmount(12_550n)).toBe('000000012550');
    expect(encodeVehicleAmount(999_999_999_999n)).toBe('999999999999');
    expect(() => encodeVehicleAmount(1_000_000_000_000n)).toThrow(VehicleFieldError);
    expect(() => encodeVehicleAmount(-1n)).toThrow(VehicleFieldError);
    expect(decodeVehicleAmount('00000001255')).toBeUndefined();
    expect(decodeVehicleAmount('0000000125.0')).toBeUndefined();
  });

  test('currencies travel as ISO 4217 numeric codes', () => {
    expect(decodeVehicleCurrency('604')).toBe('PEN');
    expect(decodeVehicleCurrency('840')).toBe('USD');
    expect(decodeVehicleCurrency('978')).toBeUndefined();
  });

  test('a DOCTYPE (the way entity expansion arrives) is refused', () => {
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><VehicleLoanResponse><ResultCode>&a;</ResultCode></VehicleLoanResponse>';
    expect(parseVehicleMessage('VehicleLoanResponse', bomb)).toMatchObject({ ok: false });
  });

  test('leading zeros survive parsing: values stay strings', () => {
    const parsed = parseVehicleMessage(
      'VehicleLoanResponse',
      '<VehicleLoanResponse><ResultCode>00</ResultCode></VehicleLoanResponse>',
    );
    expect(parsed.ok && parsed.fields.get('ResultCode')).toBe('00');
  });
});
