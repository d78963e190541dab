import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
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
  CASH_API_KEY_HEADER,
  CASH_ERROR_STATUS,
  CASH_EXTRACT_COLUMNS,
  CASH_EXTRACT_PATH,
  CASH_LOAN_PATH,
  CASH_PAYMENTS_PATH,
  CASH_REVERSAL_PATH,
  cashApiKeyFromEnv,
  type CashErrorCode,
  type CashLoanState,
} from '../../../adapters/cash/cash-contract';
import { centsFromJson, encodeCashJson } from '../../../adapters/cash/cash-json-codec';
import { isCalendarDate } from '../core-ledger';

// Simulator of the cash-loan core: a single amount due per loan, in cents.

export const CASH_SEED_LOANS: readonly SeedLoan[] = Object.freeze([
  { loanId: '100000000001', currency: 'PEN', status: 'ACTIVE', buckets: [{ name: 'due', due: 2_500_000n }] },
  { loanId: '100000000002', currency: 'USD', status: 'ACTIVE', buckets: [{ name: 'due', due: 800_000n }] },
  { loanId: '100000000003', currency: 'PEN', status: 'ACTIVE', buckets: [{ name: 'due', due: 125_075n }] },
  { loanId: '100000000009', currency: 'PEN', status: 'CLOSED', buckets: [{ name: 'due', due: 0n }] },
]);

const EXTERNAL_REF = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);

const PaymentRequest = z.object({
  externalRef: EXTERNAL_REF,
  loanId: z.string().min(1).max(32),
  amountCents: z.unknown(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

const ReversalRequest = z.object({
  loanId: z.string().min(1).max(32),
  amountCents: z.unknown(),
});

/** Cents as the contract allows them: a JSON integer that is safe; anything else is INVALID_AMOUNT. */
function centsOf(value: unknown): bigint | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? centsFromJson(value) : undefined;
}

function error(code: CashErrorCode, message: string): SimulatorAnswer {
  return {
    status: CASH_ERROR_STATUS[code],
    contentType: 'application/json',
    body: encodeCashJson({ result: 'ERROR', errorCode: code, message }),
  };
}

function ok(fields: Readonly<Record<string, string | bigint>>): SimulatorAnswer {
  return { status: 200, contentType: 'application/json', body: encodeCashJson({ result: 'OK', ...fields }) };
}

function stateOf(loan: LedgerLoan): CashLoanState {
  return loan.status === 'CLOSED' ? 'CLOSED' : 'OPEN';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function renderPayment(result: ApplyResult, externalRef: string): SimulatorAnswer {
  if (result.kind === 'applied') {
    return ok({
      txnId: result.coreReference,
      externalRef,
      loanId: result.loan.loanId,
      dueCents: result.loan.totalDue,
      state: stateOf(result.loan),
    });
  }
  switch (result.reason) {
    case 'loan_not_found':
      return error('LOAN_NOT_FOUND', 'no loan with that id');
    case 'loan_closed':
      return error('LOAN_CLOSED', 'the loan is closed');
    case 'currency_mismatch':
      return error('CURRENCY_MISMATCH', `the loan is in ${result.loan?.currency ?? 'another currency'}`);
    case 'invalid_amount':
      return error('INVALID_AMOUNT', 'amountCents must be a positive integer');
    case 'overpayment':
      return error('OVERPAYMENT', 'amountCents exceeds the amount due');
    default: {
      const never: never = result.reason;
      throw new Error(`unhandled rejection ${String(never)}`);
    }
  }
}

function renderReversal(result: ReverseResult, externalRef: string): SimulatorAnswer {
  if (result.kind === 'rejected') {
    return result.reason === 'payment_not_found'
      ? error('PAYMENT_NOT_FOUND', 'no applied payment with that reference on that loan')
      : error('INVALID_AMOUNT', 'amountCents differs from the original payment');
  }
  return ok({
    txnId: result.reversalReference,
    reversedTxnId: result.paymentReference,
    externalRef,
    loanId: result.loan.loanId,
    dueCents: result.loan.totalDue,
    state: stateOf(result.loan),
  });
}

function createCashHandler(
  ledger: SimulatedLedger,
  env: NodeJS.ProcessEnv,
): (request: SimulatorRequest) => SimulatorAnswer {
  const expectedKey = digest(cashApiKeyFromEnv(env));

  function authorised(request: SimulatorRequest): boolean {
    const presented = request.headers[CASH_API_KEY_HEADER];
    return typeof presented === 'string' && timingSafeEqual(digest(presented), expectedKey);
  }

  function inquiry(loanId: string): SimulatorAnswer {
    const loan = ledger.findLoan(loanId);
    if (!loan) return error('LOAN_NOT_FOUND', 'no loan with that id');
    return ok({ loanId: loan.loanId, currency: loan.currency, dueCents: loan.totalDue, state: stateOf(loan) });
  }

  function payment(body: string): SimulatorAnswer {
    const parsed = PaymentRequest.safeParse(parseJson(body));
    if (!parsed.success) return error('BAD_REQUEST', 'body must be {externalRef, loanId, amountCents, currency}');
    const { externalRef, loanId, currency } = parsed.data;
    const amount = centsOf(parsed.data.amountCents);
    if (amount === undefined) return error('INVALID_AMOUNT', 'amountCents must be a positive integer');
    const answer = ledger.applyPayment({ externalRef, loanId, amount, currency }, (r) => renderPayment(r, externalRef));
    if (answer.kind === 'conflict') {
      return error('DUPLICATE_REFERENCE', 'externalRef was already used for a different payment');
    }
    return answer.answer;
  }

  function reversal(externalRef: string, body: string): SimulatorAnswer {
    const parsed = ReversalRequest.safeParse(parseJson(body));
    if (!parsed.success || !EXTERNAL_REF.safeParse(externalRef).success) {
      return error('BAD_REQUEST', 'body must be {loanId, amountCents}');
    }
    const amount = centsOf(parsed.data.amountCents);
    if (amount === undefined) return error('INVALID_AMOUNT', 'amountCents must be a positive integer');
    return ledger.reversePayment({ externalRef, loanId: parsed.data.loanId, amount }, (r) =>
      renderReversal(r, externalRef),
    );
  }

  /** The daily extract: a CSV header line, then one line per payment applied or reversal done that day. */
  function extract(businessDate: string): SimulatorAnswer {
    if (!isCalendarDate(businessDate)) return error('BAD_REQUEST', 'the extract date must be YYYY-MM-DD');
    const lines = ledger
      .extractMovements(businessDate)
      .map((m) =>
        [
          m.kind === 'payment' ? 'PAYMENT' : 'REVERSAL',
          m.externalRef,
          m.coreReference,
          m.loanId,
          m.currency,
          m.amount.toString(),
          m.at,
        ].join(','),
      );
    return {
      status: 200,
      contentType: 'text/csv; charset=utf-8',
      body: [CASH_EXTRACT_COLUMNS.join(','), ...lines].map((line) => `${line}\r\n`).join(''),
    };
  }

  return (request) => {
    if (!authorised(request)) return error('UNAUTHORIZED', 'missing or invalid API key');
    const extractMatch = CASH_EXTRACT_PATH.exec(request.path);
    if (extractMatch && request.method === 'GET') {
      const businessDate = decodeSegment(extractMatch[1] ?? '');
      return businessDate === undefined ? error('BAD_REQUEST', 'malformed date') : extract(businessDate);
    }
    const loanMatch = CASH_LOAN_PATH.exec(request.path);
    if (loanMatch && request.method === 'GET') {
      const loanId = decodeSegment(loanMatch[1] ?? '');
      return loanId === undefined ? error('BAD_REQUEST', 'malformed loan id') : inquiry(loanId);
    }
    if (request.path === CASH_PAYMENTS_PATH && request.method === 'POST') return payment(request.body);
    const reversalMatch = CASH_REVERSAL_PATH.exec(request.path);
    if (reversalMatch && request.method === 'POST') {
      const externalRef = decodeSegment(reversalMatch[1] ?? '');
      return externalRef === undefined
        ? error('BAD_REQUEST', 'malformed reference')
        : reversal(externalRef, request.body);
    }
    return error('ROUTE_NOT_FOUND', `no route ${request.method} ${request.path}`);
  };
}

export const cashSimulatorContract: CoreSimulatorContract = Object.freeze({
  core: 'cash',
  seeds: CASH_SEED_LOANS,
  reference: (kind: 'payment' | 'reversal', sequence: bigint) =>
    `${kind === 'payment' ? 'CSH' : 'CSR'}${sequence.toString().padStart(10, '0')}`,
  createHandler: createCashHandler,
});
