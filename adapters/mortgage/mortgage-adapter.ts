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
import { basicAuthorization, mortgageLoanPath, mortgagePaymentsPath, mortgageReversalPath } from './mortgage-contract';
import { formatMortgageDecimal, parseMortgageDecimal } from './mortgage-decimal';

// The hub side of the mortgage core: commands become JSON with decimal strings; answers are checked
// like control totals (the parts of an allocation must add up to the amount, the parts of the
// outstanding balance to its total) before they become a CoreOutcome.

const DECIMAL = z.string().regex(/^(0|[1-9][0-9]{0,17})\.[0-9]{2}$/);
const Parts = z.object({ interest: DECIMAL, insurance: DECIMAL, principal: DECIMAL });
const Outstanding = Parts.extend({ total: DECIMAL });

const MortgageAnswer = z.object({
  mortgageId: z.string(),
  currency: z.enum(['PEN', 'USD']),
  status: z.enum(['CURRENT', 'PAID_OFF']),
  outstanding: Outstanding,
});

const PaymentAnswer = z.object({ paymentId: z.string().min(1), allocation: Parts, outstanding: Outstanding });
const ReversalAnswer = z.object({ reversalId: z.string().min(1), restored: Parts, outstanding: Outstanding });
const ErrorAnswer = z.object({ errorCode: z.string(), message: z.string().optional() });

const REJECT_REASONS: Readonly<Record<string, CoreRejectReason>> = Object.freeze({
  'MTG-101': 'loan_closed',
  'MTG-102': 'overpayment',
  'MTG-103': 'currency_mismatch',
  'MTG-104': 'loan_not_found',
  'MTG-105': 'invalid_amount',
  'MTG-106': 'payment_not_found',
});

function breach(operation: CoreOperation, detail: string): CoreUnavailableError {
  return new CoreUnavailableError(
    'mortgage',
    `mortgage core: ${operation} answer breaks the contract (${detail})`,
    false,
  );
}

function parseBody(operation: CoreOperation, response: CoreHttpResponse): unknown {
  try {
    return JSON.parse(response.body);
  } catch (err) {
    throw new CoreUnavailableError(
      'mortgage',
      `mortgage core: ${operation} answer is not JSON (HTTP ${response.status})`,
      false,
      { cause: err },
    );
  }
}

function amountOf(operation: CoreOperation, text: string): bigint {
  const value = parseMortgageDecimal(text);
  if (value === undefined) throw breach(operation, `amount ${JSON.stringify(text)} is not a 2-decimal string`);
  return value;
}

function sumOf(operation: CoreOperation, parts: z.infer<typeof Parts>): bigint {
  return (
    amountOf(operation, parts.interest) + amountOf(operation, parts.insurance) + amountOf(operation, parts.principal)
  );
}

/** The outstanding total, after checking that its parts add up to it. */
function totalOf(operation: CoreOperation, outstanding: z.infer<typeof Outstanding>): MinorUnits {
  const parts = sumOf(operation, outstanding);
  const total = amountOf(operation, outstanding.total);
  if (parts !== total) {
    throw breach(
      operation,
      `outstanding parts add up to ${formatMortgageDecimal(parts)} but total says ${outstanding.total}`,
    );
  }
  return minorUnits(total);
}

function mapError(operation: CoreOperation, response: CoreHttpResponse, body: unknown): CoreOutcome {
  const parsed = ErrorAnswer.safeParse(body);
  if (!parsed.success || response.status < 400 || response.status >= 500) {
    throw breach(operation, `HTTP ${response.status} without an errorCode`);
  }
  const reason = REJECT_REASONS[parsed.data.errorCode];
  if (reason === undefined) throw breach(operation, `HTTP ${response.status} ${parsed.data.errorCode}`);
  return { kind: 'rejected', reason, detail: `${parsed.data.errorCode}: ${parsed.data.message ?? ''}`.trim() };
}

/** Maps the answer to `GET …/mortgages/{id}`; MTG-104 is null. */
export function mapMortgageInquiryAnswer(loanNumber: string, response: CoreHttpResponse): LoanInquiry | null {
  const body = parseBody('inquiry', response);
  if (response.status === 200) {
    const parsed = MortgageAnswer.safeParse(body);
    if (!parsed.success) throw breach('inquiry', 'mortgage fields missing or mistyped');
    if (parsed.data.mortgageId !== loanNumber) throw breach('inquiry', 'answer is about another mortgage');
    return {
      loanNumber,
      core: 'mortgage',
      currency: parsed.data.currency,
      amountDue: totalOf('inquiry', parsed.data.outstanding),
      status: parsed.data.status === 'PAID_OFF' ? 'CLOSED' : 'ACTIVE',
    };
  }
  const outcome = mapError('inquiry', response, body);
  if (outcome.kind === 'rejected' && outcome.reason === 'loan_not_found') return null;
  throw breach('inquiry', outcome.kind === 'rejected' ? outcome.detail : 'unexpected answer');
}

/** Maps a payment answer; a 201 must allocate exactly the amount paid. */
export function mapMortgagePaymentAnswer(amount: bigint, response: CoreHttpResponse): CoreOutcome {
  const body = parseBody('payment', response);
  if (response.status === 201 || response.status === 200) {
    const parsed = PaymentAnswer.safeParse(body);
    if (!parsed.success) throw breach('payment', 'paymentId, allocation or outstanding missing or mistyped');
    const allocated = sumOf('payment', parsed.data.allocation);
    if (allocated !== amount) {
      throw breach(
        'payment',
        `allocation adds up to ${formatMortgageDecimal(allocated)}, the payment was ${formatMortgageDecimal(amount)}`,
      );
    }
    return {
      kind: 'applied',
      coreReference: parsed.data.paymentId,
      amountDueAfter: totalOf('payment', parsed.data.outstanding),
    };
  }
  return mapError('payment', response, body);
}

/** Maps a reversal answer; a 200 must restore exactly the amount reversed. */
export function mapMortgageReversalAnswer(amount: bigint, response: CoreHttpResponse): CoreOutcome {
  const body = parseBody('reversal', response);
  if (response.status === 200) {
    const parsed = ReversalAnswer.safeParse(body);
    if (!parsed.success) throw breach('reversal', 'reversalId, restored or outstanding missing or mistyped');
    const restored = sumOf('reversal', parsed.data.restored);
    if (restored !== amount) {
      throw breach(
        'reversal',
        `restored parts add up to ${formatMortgageDecimal(restored)}, the reversal was ${formatMortgageDecimal(amount)}`,
      );
    }
    return {
      kind: 'applied',
      coreReference: parsed.data.reversalId,
      amountDueAfter: totalOf('reversal', parsed.data.outstanding),
    };
  }
  return mapError('reversal', response, body);
}

export function createMortgageAdapter(exchange: CoreHttpExchange, username: string, password: string): CoreAdapter {
  const headers = { authorization: basicAuthorization(username, password), accept: 'application/json' };
  const jsonHeaders = { ...headers, 'content-type': 'application/json' };
  const notOnThisWire: CoreOutcome = {
    kind: 'rejected',
    reason: 'invalid_amount',
    detail: 'the mortgage core takes only positive amounts',
  };

  return Object.freeze({
    core: 'mortgage',
    async inquire(loanNumber: string): Promise<LoanInquiry | null> {
      const response = await exchange({
        operation: 'inquiry',
        method: 'GET',
        path: mortgageLoanPath(loanNumber),
        headers,
      });
      return mapMortgageInquiryAnswer(loanNumber, response);
    },
    async applyPayment(command: CorePaymentCommand): Promise<CoreOutcome> {
      if (command.amount < 0n) return notOnThisWire;
      const response = await exchange({
        operation: 'payment',
        method: 'POST',
        path: mortgagePaymentsPath(command.loanNumber),
        headers: jsonHeaders,
        body: JSON.stringify({
          clientReference: command.paymentId,
          amount: formatMortgageDecimal(command.amount),
          currency: command.currency,
        }),
      });
      return mapMortgagePaymentAnswer(command.amount, response);
    },
    async reversePayment(command: CoreReversalCommand): Promise<CoreOutcome> {
      if (command.amount < 0n) return notOnThisWire;
      const response = await exchange({
        operation: 'reversal',
        method: 'POST',
        path: mortgageReversalPath(command.loanNumber, command.paymentId),
        headers: jsonHeaders,
        body: JSON.stringify({ amount: formatMortgageDecimal(command.amount) }),
      });
      return mapMortgageReversalAnswer(command.amount, response);
    },
  });
}
