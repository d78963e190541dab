import { createHash, timingSafeEqual } from 'node:crypto';
import type {
  ApplyResult,
  CoreSimulatorContract,
  LedgerLoan,
  ReverseResult,
  SeedLoan,
  SimulatedLedger,
  SimulatorAnswer,
  SimulatorRequest,
} from '../core-simulator-contract';
import {
  VEHICLE_EXTRACT_ROOT,
  VEHICLE_GATEWAY_PATH,
  VEHICLE_RESULT_CODES,
  vehicleTokenFromEnv,
  type VehicleLoanStatus,
  type VehicleResultCode,
} from '../../../adapters/vehicle/vehicle-contract';
import {
  decodeVehicleAmount,
  decodeVehicleCurrency,
  encodeVehicleAmount,
  encodeVehicleCurrency,
} from '../../../adapters/vehicle/vehicle-fields';
import {
  VEHICLE_REQUEST_ROOT,
  VEHICLE_RESPONSE_ROOT,
  buildVehicleMessage,
  parseVehicleMessage,
  textField,
} from '../../../adapters/vehicle/vehicle-message';
import { isCalendarDate } from '../core-ledger';

// Simulator of the vehicle core: XML in, XML out, always HTTP 200 (except injected faults) with the
// outcome in <ResultCode>.

export const VEHICLE_SEED_LOANS: readonly SeedLoan[] = Object.freeze([
  { loanId: '300000000001', currency: 'PEN', status: 'ACTIVE', buckets: [{ name: 'balance', due: 4_500_000n }] },
  { loanId: '300000000002', currency: 'USD', status: 'ACTIVE', buckets: [{ name: 'balance', due: 1_850_050n }] },
  { loanId: '300000000003', currency: 'PEN', status: 'ACTIVE', buckets: [{ name: 'balance', due: 310_000n }] },
  { loanId: '300000000009', currency: 'USD', status: 'CLOSED', buckets: [{ name: 'balance', due: 0n }] },
]);

const TRACE_REF = /^[A-Za-z0-9._:-]{1,64}$/;

type ResponseFields = Readonly<Record<string, string>>;

function answer(code: VehicleResultCode, fields: ResponseFields = {}): SimulatorAnswer {
  return {
    status: 200,
    contentType: 'application/xml; charset=utf-8',
    body: buildVehicleMessage(VEHICLE_RESPONSE_ROOT, {
      ResultCode: code,
      ResultText: VEHICLE_RESULT_CODES[code],
      ...fields,
    }),
  };
}

function statusOf(loan: LedgerLoan): VehicleLoanStatus {
  return loan.status === 'CLOSED' ? 'C' : 'A';
}

function loanFields(loan: LedgerLoan): ResponseFields {
  return {
    LoanId: loan.loanId,
    BalanceDue: encodeVehicleAmount(loan.totalDue),
    CurrencyCode: encodeVehicleCurrency(loan.currency),
    LoanStatus: statusOf(loan),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function renderPayment(result: ApplyResult, loanId: string, traceRef: string): SimulatorAnswer {
  const echo = { Operation: 'PAY', TraceRef: traceRef };
  if (result.kind === 'applied') {
    return answer('00', { ...echo, AuthCode: result.coreReference, ...loanFields(result.loan) });
  }
  const about = result.loan ? loanFields(result.loan) : { LoanId: loanId };
  switch (result.reason) {
    case 'loan_not_found':
      return answer('14', { ...echo, LoanId: loanId });
    case 'loan_closed':
      return answer('51', { ...echo, ...about });
    case 'currency_mismatch':
      return answer('52', { ...echo, ...about });
    case 'invalid_amount':
      return answer('13', { ...echo, ...about });
    case 'overpayment':
      return answer('61', { ...echo, ...about });
    default: {
      const never: never = result.reason;
      throw new Error(`unhandled rejection ${String(never)}`);
    }
  }
}

function renderReversal(result: ReverseResult, loanId: string, traceRef: string): SimulatorAnswer {
  const echo = { Operation: 'REV', TraceRef: traceRef };
  if (result.kind === 'rejected') {
    return answer(result.reason === 'payment_not_found' ? '25' : '13', { ...echo, LoanId: loanId });
  }
  return answer('00', {
    ...echo,
    AuthCode: result.reversalReference,
    OriginalAuthCode: result.paymentReference,
    ...loanFields(result.loan),
  });
}

function createVehicleHandler(
  ledger: SimulatedLedger,
  env: NodeJS.ProcessEnv,
): (request: SimulatorRequest) => SimulatorAnswer {
  const expectedToken = digest(vehicleTokenFromEnv(env));

  /** EXT: one <Record> per payment applied (PAY) or reversal done (REV) on <BusinessDate> (YYYYMMDD). */
  function extract(compactDate: string | undefined): SimulatorAnswer {
    const match = /^(\d{4})(\d{2})(\d{2})$/.exec(compactDate ?? '');
    const businessDate = match ? `${match[1]}-${match[2]}-${match[3]}` : '';
    if (!isCalendarDate(businessDate)) return answer('30', { Detail: 'BusinessDate must be YYYYMMDD' });
    const records = ledger.extractMovements(businessDate).map((m, i) => ({
      Seq: String(i + 1),
      Type: m.kind === 'payment' ? 'PAY' : 'REV',
      TraceRef: m.externalRef,
      AuthCode: m.coreReference,
      LoanId: m.loanId,
      CurrencyCode: encodeVehicleCurrency(m.currency),
      Amount: encodeVehicleAmount(m.amount),
      Timestamp: m.at,
    }));
    return {
      status: 200,
      contentType: 'application/xml; charset=utf-8',
      body: buildVehicleMessage(VEHICLE_EXTRACT_ROOT, {
        ResultCode: '00',
        ResultText: VEHICLE_RESULT_CODES['00'],
        BusinessDate: compactDate ?? '',
        RecordCount: String(records.length),
        Records: { Record: records },
      }),
    };
  }

  return (request) => {
    if (request.path !== VEHICLE_GATEWAY_PATH || request.method !== 'POST') {
      return answer('30', { Detail: `only POST ${VEHICLE_GATEWAY_PATH}` });
    }
    const parsed = parseVehicleMessage(VEHICLE_REQUEST_ROOT, request.body);
    if (!parsed.ok) return answer('30', { Detail: parsed.detail });
    const fields = parsed.fields;
    const auth = fields.get('Auth');
    const token: unknown = typeof auth === 'object' && auth !== null ? Reflect.get(auth, 'Token') : undefined;
    if (typeof token !== 'string' || !timingSafeEqual(digest(token), expectedToken)) return answer('63');

    const operation = textField(fields, 'Operation');
    if (operation === 'EXT') return extract(textField(fields, 'BusinessDate'));
    const loanId = textField(fields, 'LoanId');
    if (loanId === undefined || loanId.length === 0 || loanId.length > 32) {
      return answer('30', { Detail: 'LoanId is required' });
    }
    if (operation === 'INQ') {
      const loan = ledger.findLoan(loanId);
      return loan
        ? answer('00', { Operation: 'INQ', ...loanFields(loan) })
        : answer('14', { Operation: 'INQ', LoanId: loanId });
    }
    if (operation !== 'PAY' && operation !== 'REV')
      return answer('30', { Detail: 'Operation must be INQ, PAY, REV or EXT' });

    const traceRef = textField(fields, 'TraceRef');
    if (traceRef === undefined || !TRACE_REF.test(traceRef)) return answer('30', { Detail: 'TraceRef is required' });
    const amount = decodeVehicleAmount(textField(fields, 'Amount'));
    if (amount === undefined) return answer('30', { Detail: 'Amount must be 12 digits of minor units' });

    if (operation === 'REV') {
      return ledger.reversePayment({ externalRef: traceRef, loanId, amount }, (r) =>
        renderReversal(r, loanId, traceRef),
      );
    }
    const currency = decodeVehicleCurrency(textField(fields, 'CurrencyCode'));
    if (currency === undefined) return answer('30', { Detail: 'CurrencyCode must be ISO 4217 numeric (604, 840)' });
    const result = ledger.applyPayment({ externalRef: traceRef, loanId, amount, currency }, (r) =>
      renderPayment(r, loanId, traceRef),
    );
    return result.kind === 'conflict'
      ? answer('94', { Operation: 'PAY', TraceRef: traceRef, LoanId: loanId })
      : result.answer;
  };
}

export const vehicleSimulatorContract: CoreSimulatorContract = Object.freeze({
  core: 'vehicle',
  seeds: VEHICLE_SEED_LOANS,
  reference: (kind: 'payment' | 'reversal', sequence: bigint) =>
    `${kind === 'payment' ? 'VP' : 'VR'}${sequence.toString().padStart(9, '0')}`,
  createHandler: createVehicleHandler,
});
