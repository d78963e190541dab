import { z } from 'zod';
import { minorUnits, type MinorUnits } from '../../domain/money';
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
import { CASH_API_KEY_HEADER, CASH_PAYMENTS_PATH, cashLoanPath, cashReversalPath } from './cash-contract';
import { centsFromJson, encodeCashJson } from './cash-json-codec';

// The hub side of the cash core: commands become JSON with integer cents, answers become CoreOutcome.

const CENTS = z.int().nonnegative();

const LoanAnswer = z.object({
  result: z.literal('OK'),
  loanId: z.string(),
  currency: z.enum(['PEN', 'USD']),
  dueCents: CENTS,
  state: z.enum(['OPEN', 'CLOSED']),
});

const PostingAnswer = z.object({
  result: z.literal('OK'),
  txnId: z.string().min(1),
  dueCents: CENTS,
});

const ErrorAnswer = z.object({
  result: z.literal('ERROR'),
  errorCode: z.string(),
  message: z.string().optional(),
});

/** The cash core's refusals that are the hub's business; every other code is a contract problem. */
const REJECT_REASONS: Readonly<Record<string, CoreRejectReason>> = Object.freeze({
  LOAN_CLOSED: 'loan_closed',
  LOAN_NOT_FOUND: 'loan_not_found',
  OVERPAYMENT: 'overpayment',
  CURRENCY_MISMATCH: 'currency_mismatch',
  INVALID_AMOUNT: 'invalid_amount',
  PAYMENT_NOT_FOUND: 'payment_not_found',
});

function breach(operation: CoreOperation, detail: string): CoreUnavailableError {
  return new CoreUnavailableError('cash', `cash core: ${operation} answer breaks the contract (${detail})`, false);
}

function parseBody(operation: CoreOperation, response: CoreHttpResponse): unknown {
  try {
    return JSON.parse(response.body);
  } catch (err) {
    throw new CoreUnavailableError(
      'cash',
      `cash core: ${operation} answer is not JSON (HTTP ${response.status})`,
      false,
      {
        cause: err,
      },
    );
  }
}

function mapError(operation: CoreOperation, response: CoreHttpResponse, body: unknown): CoreOutcome {
  const parsed = ErrorAnswer.safeParse(body);
  if (!parsed.success) throw breach(operation, `HTTP ${response.status} without an errorCode`);
  const reason = REJECT_REASONS[parsed.data.errorCode];
  if (reason === undefined) {
    // UNAUTHORIZED, DUPLICATE_REFERENCE, BAD_REQUEST, ROUTE_NOT_FOUND: asking again cannot help.
    throw breach(operation, `HTTP ${response.status} ${parsed.data.errorCode}`);
  }
  return { kind: 'rejected', reason, detail: `${parsed.data.errorCode}: ${parsed.data.message ?? ''}`.trim() };
}

/** Maps the answer to `GET /cash/v1/loans/{loanId}`; a LOAN_NOT_FOUND is null. */
export function mapCashInquiryAnswer(loanNumber: string, response: CoreHttpResponse): LoanInquiry | null {
  const body = parseBody('inquiry', response);
  if (response.status === 200) {
    const parsed = LoanAnswer.safeParse(body);
    if (!parsed.success) throw breach('inquiry', 'loan fields missing or mistyped');
    if (parsed.data.loanId !== loanNumber) throw breach('inquiry', 'answer is about another loan');
    return {
      loanNumber,
      core: 'cash',
      currency: parsed.data.currency,
      amountDue: minorUnits(centsFromJson(parsed.data.dueCents)),
      status: parsed.data.state === 'CLOSED' ? 'CLOSED' : 'ACTIVE',
    };
  }
  const outcome = mapError('inquiry', response, body);
  if (outcome.kind === 'rejected' && outcome.reason === 'loan_not_found') return null;
  throw breach('inquiry', `unexpected ${outcome.kind === 'rejected' ? outcome.detail : 'answer'}`);
}

/** Maps the answer to a payment or a reversal: OK is applied, a known error code is rejected. */
export function mapCashPostingAnswer(operation: 'payment' | 'reversal', response: CoreHttpResponse): CoreOutcome {
  const body = parseBody(operation, response);
  if (response.status === 200) {
    const parsed = PostingAnswer.safeParse(body);
    if (!parsed.success) throw breach(operation, 'txnId or dueCents missing or mistyped');
    return {
      kind: 'applied',
      coreReference: parsed.data.txnId,
      amountDueAfter: minorUnits(centsFromJson(parsed.data.dueCents)),
    };
  }
  if (response.status >= 400 && response.status < 500) return mapError(operation, response, body);
  throw breach(operation, `HTTP ${response.status}`);
}

/** The core validates sign and zero itself; only what JSON cannot carry exactly stays home. */
function centsForWire(amount: MinorUnits): bigint | undefined {
  return amount <= BigInt(Number.MAX_SAFE_INTEGER) && amount >= BigInt(Number.MIN_SAFE_INTEGER) ? amount : undefined;
}

export function createCashAdapter(exchange: CoreHttpExchange, apiKey: string): CoreAdapter {
  const headers = { [CASH_API_KEY_HEADER]: apiKey, accept: 'application/json' };
  const jsonHeaders = { ...headers, 'content-type': 'application/json' };
  const tooLarge: CoreOutcome = {
    kind: 'rejected',
    reason: 'invalid_amount',
    detail: 'the amount cannot be carried as integer cents by the cash core',
  };

  return Object.freeze({
    core: 'cash',
    async inquire(loanNumber: string): Promise<LoanInquiry | null> {
      const response = await exchange({ operation: 'inquiry', method: 'GET', path: cashLoanPath(loanNumber), headers });
      return mapCashInquiryAnswer(loanNumber, response);
    },
    async applyPayment(command: CorePaymentCommand): Promise<CoreOutcome> {
      const amountCents = centsForWire(command.amount);
      if (amountCents === undefined) return tooLarge;
      const response = await exchange({
        operation: 'payment',
        method: 'POST',
        path: CASH_PAYMENTS_PATH,
        headers: jsonHeaders,
        body: encodeCashJson({
          externalRef: command.paymentId,
          loanId: command.loanNumber,
          amountCents,
          currency: command.currency,
        }),
      });
      return mapCashPostingAnswer('payment', response);
    },
    async reversePayment(command: CoreReversalCommand): Promise<CoreOutcome> {
      const amountCents = centsForWire(command.amount);
      if (amountCents === undefined) return tooLarge;
      const response = await exchange({
        operation: 'reversal',
        method: 'POST',
        path: cashReversalPath(command.paymentId),
        headers: jsonHeaders,
        body: encodeCashJson({ loanId: command.loanNumber, amountCents }),
      });
      return mapCashPostingAnswer('reversal', response);
    },
  });
}
