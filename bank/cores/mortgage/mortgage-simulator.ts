import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type {
  ApplyResult,
  BucketAmount,
  CoreSimulatorContract,
  LedgerLoan,
  ReverseResult,
  SeedLoan,
  SimulatedLedger,
  SimulatorAnswer,
  SimulatorRequest,
} from '../core-simulator-contract';
import {
  MORTGAGE_BUCKETS,
  MORTGAGE_ERRORS,
  MORTGAGE_EXTRACT_PATH,
  MORTGAGE_LOAN_PATH,
  MORTGAGE_PAYMENTS_PATH,
  MORTGAGE_REVERSAL_PATH,
  basicAuthorization,
  mortgageCredentialsFromEnv,
  type MortgageBucket,
  type MortgageErrorCode,
  type MortgageStatus,
} from '../../../adapters/mortgage/mortgage-contract';
import { formatMortgageDecimal, parseMortgageInputDecimal } from '../../../adapters/mortgage/mortgage-decimal';
import { isCalendarDate } from '../core-ledger';

// Simulator of the mortgage core: each loan owes interest, insurance and principal, and a payment
// fills them in that order. A reversal gives each bucket back exactly what the payment took.

function mortgage(
  loanId: string,
  currency: 'PEN' | 'USD',
  status: 'ACTIVE' | 'CLOSED',
  interest: bigint,
  insurance: bigint,
  principal: bigint,
): SeedLoan {
  return {
    loanId,
    currency,
    status,
    buckets: [
      { name: 'interest', due: interest },
      { name: 'insurance', due: insurance },
      { name: 'principal', due: principal },
    ],
  };
}

export const MORTGAGE_SEED_LOANS: readonly SeedLoan[] = Object.freeze([
  mortgage('200000000001', 'PEN', 'ACTIVE', 145_030n, 12_045n, 34_842_925n),
  mortgage('200000000002', 'USD', 'ACTIVE', 51_210n, 4_590n, 11_944_200n),
  mortgage('200000000003', 'PEN', 'ACTIVE', 9_875n, 2_310n, 487_815n),
  mortgage('200000000009', 'USD', 'CLOSED', 0n, 0n, 0n),
]);

const CLIENT_REFERENCE = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);

const PaymentRequest = z.object({
  clientReference: CLIENT_REFERENCE,
  amount: z.string(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

const ReversalRequest = z.object({ amount: z.string() });

type Breakdown = Record<MortgageBucket | 'total', string>;

function breakdown(parts: readonly { readonly name: string; readonly amount: bigint }[]): Breakdown {
  const amountOf = (name: MortgageBucket): bigint => parts.find((p) => p.name === name)?.amount ?? 0n;
  const [interest, insurance, principal] = MORTGAGE_BUCKETS.map(amountOf);
  return {
    interest: formatMortgageDecimal(interest ?? 0n),
    insurance: formatMortgageDecimal(insurance ?? 0n),
    principal: formatMortgageDecimal(principal ?? 0n),
    total: formatMortgageDecimal(parts.reduce((sum, p) => sum + p.amount, 0n)),
  };
}

function outstanding(loan: LedgerLoan): Breakdown {
  return breakdown(loan.buckets.map((b) => ({ name: b.name, amount: b.due })));
}

function allocationOf(parts: readonly BucketAmount[]): Omit<Breakdown, 'total'> {
  const { interest, insurance, principal } = breakdown(parts);
  return { interest, insurance, principal };
}

function statusOf(loan: LedgerLoan): MortgageStatus {
  return loan.status === 'CLOSED' ? 'PAID_OFF' : 'CURRENT';
}

function json(status: number, value: unknown): SimulatorAnswer {
  return { status, contentType: 'application/json', body: JSON.stringify(value) };
}

function error(code: MortgageErrorCode, message?: string): SimulatorAnswer {
  const entry = MORTGAGE_ERRORS[code];
  return json(entry.status, { errorCode: code, message: message ?? entry.meaning });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function decodeSegment(segment: string | undefined): string | undefined {
  try {
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function renderPayment(result: ApplyResult, clientReference: string, amount: bigint): SimulatorAnswer {
  if (result.kind === 'applied') {
    return json(201, {
      paymentId: result.coreReference,
      clientReference,
      mortgageId: result.loan.loanId,
      currency: result.loan.currency,
      amount: formatMortgageDecimal(amount),
      allocation: allocationOf(result.allocation),
      outstanding: outstanding(result.loan),
      status: statusOf(result.loan),
    });
  }
  switch (result.reason) {
    case 'loan_not_found':
      return error('MTG-104');
    case 'loan_closed':
      return error('MTG-101');
    case 'currency_mismatch':
      return error('MTG-103', `the mortgage is held in ${result.loan?.currency ?? 'another currency'}`);
    case 'invalid_amount':
      return error('MTG-105');
    case 'overpayment':
      return error(
        'MTG-102',
        `outstanding balance is ${result.loan ? formatMortgageDecimal(result.loan.totalDue) : '?'}`,
      );
    default: {
      const never: never = result.reason;
      throw new Error(`unhandled rejection ${String(never)}`);
    }
  }
}

function renderReversal(result: ReverseResult, clientReference: string): SimulatorAnswer {
  if (result.kind === 'rejected') {
    return result.reason === 'payment_not_found'
      ? error('MTG-106')
      : error('MTG-105', 'amount differs from the original payment');
  }
  return json(200, {
    reversalId: result.reversalReference,
    reversedPaymentId: result.paymentReference,
    clientReference,
    mortgageId: result.loan.loanId,
    currency: result.loan.currency,
    restored: allocationOf(result.restored),
    outstanding: outstanding(result.loan),
    status: statusOf(result.loan),
  });
}

function createMortgageHandler(
  ledger: SimulatedLedger,
  env: NodeJS.ProcessEnv,
): (request: SimulatorRequest) => SimulatorAnswer {
  const { username, password } = mortgageCredentialsFromEnv(env);
  const expected = digest(basicAuthorization(username, password));

  function authorised(request: SimulatorRequest): boolean {
    const presented = request.headers['authorization'];
    return typeof presented === 'string' && timingSafeEqual(digest(presented), expected);
  }

  function inquiry(mortgageId: string): SimulatorAnswer {
    const loan = ledger.findLoan(mortgageId);
    if (!loan) return error('MTG-104');
    return json(200, {
      mortgageId: loan.loanId,
      currency: loan.currency,
      status: statusOf(loan),
      outstanding: outstanding(loan),
    });
  }

  function payment(mortgageId: string, body: string): SimulatorAnswer {
    const parsed = PaymentRequest.safeParse(parseJson(body));
    if (!parsed.success) return error('MTG-400', 'body must be {clientReference, amount, currency}');
    const amount = parseMortgageInputDecimal(parsed.data.amount);
    if (amount === undefined) return error('MTG-105', 'amount must be a decimal string with at most 2 decimals');
    const { clientReference, currency } = parsed.data;
    const answer = ledger.applyPayment({ externalRef: clientReference, loanId: mortgageId, amount, currency }, (r) =>
      renderPayment(r, clientReference, amount),
    );
    return answer.kind === 'conflict' ? error('MTG-109') : answer.answer;
  }

  function reversal(mortgageId: string, clientReference: string, body: string): SimulatorAnswer {
    const parsed = ReversalRequest.safeParse(parseJson(body));
    if (!parsed.success || !CLIENT_REFERENCE.safeParse(clientReference).success) {
      return error('MTG-400', 'body must be {amount}');
    }
    const amount = parseMortgageInputDecimal(parsed.data.amount);
    if (amount === undefined) return error('MTG-105', 'amount must be a decimal string with at most 2 decimals');
    return ledger.reversePayment({ externalRef: clientReference, loanId: mortgageId, amount }, (r) =>
      renderReversal(r, clientReference),
    );
  }

  /** The daily extract: one movement per payment applied or reversal done that day, amounts as decimals. */
  function extract(businessDate: string): SimulatorAnswer {
    if (!isCalendarDate(businessDate)) return error('MTG-400', 'the extract date must be YYYY-MM-DD');
    const movements = ledger.extractMovements(businessDate).map((m) => ({
      type: m.kind === 'payment' ? 'PAYMENT' : 'REVERSAL',
      clientReference: m.externalRef,
      reference: m.coreReference,
      mortgageId: m.loanId,
      currency: m.currency,
      amount: formatMortgageDecimal(m.amount),
      postedAt: m.at,
    }));
    return json(200, { extractDate: businessDate, recordCount: movements.length, movements });
  }

  return (request) => {
    if (!authorised(request)) return error('MTG-401');
    const { method, path } = request;
    const extractMatch = MORTGAGE_EXTRACT_PATH.exec(path);
    if (extractMatch && method === 'GET') {
      const businessDate = decodeSegment(extractMatch[1]);
      return businessDate === undefined ? error('MTG-400', 'malformed path') : extract(businessDate);
    }
    const reversalMatch = MORTGAGE_REVERSAL_PATH.exec(path);
    if (reversalMatch && method === 'POST') {
      const mortgageId = decodeSegment(reversalMatch[1]);
      const reference = decodeSegment(reversalMatch[2]);
      if (mortgageId === undefined || reference === undefined) return error('MTG-400', 'malformed path');
      return reversal(mortgageId, reference, request.body);
    }
    const paymentsMatch = MORTGAGE_PAYMENTS_PATH.exec(path);
    if (paymentsMatch && method === 'POST') {
      const mortgageId = decodeSegment(paymentsMatch[1]);
      return mortgageId === undefined ? error('MTG-400', 'malformed path') : payment(mortgageId, request.body);
    }
    const loanMatch = MORTGAGE_LOAN_PATH.exec(path);
    if (loanMatch && method === 'GET') {
      const mortgageId = decodeSegment(loanMatch[1]);
      return mortgageId === undefined ? error('MTG-400', 'malformed path') : inquiry(mortgageId);
    }
    return error('MTG-404', `no route ${method} ${path}`);
  };
}

export const mortgageSimulatorContract: CoreSimulatorContract = Object.freeze({
  core: 'mortgage',
  seeds: MORTGAGE_SEED_LOANS,
  reference: (kind: 'payment' | 'reversal', sequence: bigint) =>
    `${kind === 'payment' ? 'MTG-PAY-' : 'MTG-REV-'}${sequence.toString().padStart(8, '0')}`,
  createHandler: createMortgageHandler,
});
