import { minorUnits } from '../../domain/money';
import type { CoreHttpExchange, CoreHttpResponse, CoreOperation } from '../core-adapters';
import {
  CoreUnavailableError,
  type CorePaymentCommand,
  type CoreAdapter,
  type CoreOutcome,
  type CoreRejectReason,
  type LoanInquiry,
  type CoreReversalCommand,
} from '../core-port';
import {
  VEHICLE_GATEWAY_PATH,
  VEHICLE_RESULT_CODES,
  isVehicleResultCode,
  type VehicleOperation,
} from './vehicle-contract';
import {
  VehicleFieldError,
  decodeVehicleAmount,
  decodeVehicleCurrency,
  encodeVehicleAmount,
  encodeVehicleCurrency,
} from './vehicle-fields';
import {
  VEHICLE_REQUEST_ROOT,
  VEHICLE_RESPONSE_ROOT,
  buildVehicleMessage,
  parseVehicleMessage,
  textField,
} from './vehicle-message';

// The hub side of the vehicle core: commands become XML envelopes, and the answer's ResultCode (the
// HTTP status is always 200) decides the outcome.

/** Result codes that are the hub's business: the core refused the payment for a reason a channel can act on. */
const REJECT_REASONS: Readonly<Partial<Record<string, CoreRejectReason>>> = Object.freeze({
  '13': 'invalid_amount',
  '14': 'loan_not_found',
  '25': 'payment_not_found',
  '51': 'loan_closed',
  '52': 'currency_mismatch',
  '61': 'overpayment',
});

/** 96 is the core saying it is failing right now; asking later may work. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['96']);

function breach(operation: CoreOperation, detail: string): CoreUnavailableError {
  return new CoreUnavailableError(
    'vehicle',
    `vehicle core: ${operation} answer breaks the contract (${detail})`,
    false,
  );
}

interface ReadAnswer {
  readonly code: string;
  readonly fields: ReadonlyMap<string, unknown>;
}

function readAnswer(operation: CoreOperation, response: CoreHttpResponse): ReadAnswer {
  if (response.status !== 200) throw breach(operation, `HTTP ${response.status}; this core always answers 200`);
  const parsed = parseVehicleMessage(VEHICLE_RESPONSE_ROOT, response.body);
  if (!parsed.ok) throw breach(operation, parsed.detail);
  const code = textField(parsed.fields, 'ResultCode');
  if (code === undefined) throw breach(operation, 'ResultCode missing');
  if (!isVehicleResultCode(code)) throw breach(operation, `unknown ResultCode ${JSON.stringify(code.slice(0, 8))}`);
  if (RETRYABLE_CODES.has(code)) {
    throw new CoreUnavailableError(
      'vehicle',
      `vehicle core: ${operation} answered ${code} ${VEHICLE_RESULT_CODES[code]}`,
      true,
    );
  }
  return { code, fields: parsed.fields };
}

function rejection(operation: CoreOperation, answer: ReadAnswer): CoreOutcome {
  const reason = REJECT_REASONS[answer.code];
  // 30 format error, 63 security violation, 94 duplicate trace with other data: a person must look.
  if (reason === undefined) throw breach(operation, `ResultCode ${answer.code} ${describe(answer.code)}`);
  return { kind: 'rejected', reason, detail: `${answer.code} ${describe(answer.code)}` };
}

function describe(code: string): string {
  return isVehicleResultCode(code) ? VEHICLE_RESULT_CODES[code] : 'UNKNOWN';
}

function balanceOf(operation: CoreOperation, fields: ReadonlyMap<string, unknown>): bigint {
  const balance = decodeVehicleAmount(textField(fields, 'BalanceDue'));
  if (balance === undefined) throw breach(operation, 'BalanceDue is not 12 digits');
  return balance;
}

/** Maps the answer to an INQ; result 14 is null. */
export function mapVehicleInquiryAnswer(loanNumber: string, response: CoreHttpResponse): LoanInquiry | null {
  const answer = readAnswer('inquiry', response);
  if (answer.code === '14') return null;
  if (answer.code !== '00') throw breach('inquiry', `ResultCode ${answer.code} ${describe(answer.code)}`);
  if (textField(answer.fields, 'LoanId') !== loanNumber) throw breach('inquiry', 'answer is about another loan');
  const currency = decodeVehicleCurrency(textField(answer.fields, 'CurrencyCode'));
  if (currency === undefined) throw breach('inquiry', 'CurrencyCode is not 604 or 840');
  const status = textField(answer.fields, 'LoanStatus');
  if (status !== 'A' && status !== 'C') throw breach('inquiry', 'LoanStatus is not A or C');
  return {
    loanNumber,
    core: 'vehicle',
    currency,
    amountDue: minorUnits(balanceOf('inquiry', answer.fields)),
    status: status === 'C' ? 'CLOSED' : 'ACTIVE',
  };
}

/** Maps the answer to a PAY or REV; the echoed TraceRef must be the one sent. */
export function mapVehiclePostingAnswer(
  operation: 'payment' | 'reversal',
  traceRef: string,
  response: CoreHttpResponse,
): CoreOutcome {
  const answer = readAnswer(operation, response);
  if (textField(answer.fields, 'TraceRef') !== traceRef) throw breach(operation, 'TraceRef differs from the request');
  if (answer.code !== '00') return rejection(operation, answer);
  const authCode = textField(answer.fields, 'AuthCode');
  if (authCode === undefined || authCode.length === 0) throw breach(operation, 'AuthCode missing on an approval');
  return { kind: 'applied', coreReference: authCode, amountDueAfter: minorUnits(balanceOf(operation, answer.fields)) };
}

export function createVehicleAdapter(exchange: CoreHttpExchange, token: string): CoreAdapter {
  const headers = { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml' };

  function envelope(operation: VehicleOperation, fields: Readonly<Record<string, string>>): string {
    return buildVehicleMessage(VEHICLE_REQUEST_ROOT, { Auth: { Token: token }, Operation: operation, ...fields });
  }

  async function post(operation: CoreOperation, body: string): Promise<CoreHttpResponse> {
    return exchange({ operation, method: 'POST', path: VEHICLE_GATEWAY_PATH, headers, body });
  }

  /** An amount the 12-digit field cannot hold is refused here, never truncated. */
  function amountField(amount: bigint): string | CoreOutcome {
    try {
      return encodeVehicleAmount(amount);
    } catch (err) {
      if (err instanceof VehicleFieldError) return { kind: 'rejected', reason: 'invalid_amount', detail: err.message };
      throw err;
    }
  }

  return Object.freeze({
    core: 'vehicle',
    async inquire(loanNumber: string): Promise<LoanInquiry | null> {
      const response = await post('inquiry', envelope('INQ', { LoanId: loanNumber }));
      return mapVehicleInquiryAnswer(loanNumber, response);
    },
    async applyPayment(command: CorePaymentCommand): Promise<CoreOutcome> {
      const amount = amountField(command.amount);
      if (typeof amount !== 'string') return amount;
      const response = await post(
        'payment',
        envelope('PAY', {
          LoanId: command.loanNumber,
          TraceRef: command.paymentId,
          Amount: amount,
          CurrencyCode: encodeVehicleCurrency(command.currency),
        }),
      );
      return mapVehiclePostingAnswer('payment', command.paymentId, response);
    },
    async reversePayment(command: CoreReversalCommand): Promise<CoreOutcome> {
      const amount = amountField(command.amount);
      if (typeof amount !== 'string') return amount;
      const response = await post(
        'reversal',
        envelope('REV', {
          LoanId: command.loanNumber,
          TraceRef: command.paymentId,
          Amount: amount,
          CurrencyCode: encodeVehicleCurrency(command.currency),
        }),
      );
      return mapVehiclePostingAnswer('reversal', command.paymentId, response);
    },
  });
}
